import { create } from 'zustand'
import type {
  CellOutputRecord,
  InterpreterInfo,
  KernelInputEvent,
  KernelIopubEvent,
  KernelStatus,
  KernelStatusEvent,
  NotebookCell,
  NotebookFileEntry,
  NotebookJson,
  VariableInfo
} from '../../../../shared/api'
import { call, onEvent } from '../../api/client'
import { joinSource, reduceOutputs, toNbformat, updateDisplay, type Output } from './outputs'
import { cellEditing, newCellId, type FindState } from './cellEditing'
import { useServerStore } from './useServerStore'
import { errorText as message } from '../../lib/errors'

export { findMatches, isCollapsed, newCellId, type FindMatch, type FindState } from './cellEditing'

export type CellType = 'code' | 'markdown' | 'raw'

export interface Cell {
  id: string
  type: CellType
  source: string
  outputs: Output[]
  executionCount: number | null
  metadata: Record<string, unknown>
  /** Cell fields the editor does not model (attachments, unknown keys), written back as they were. */
  extra?: Record<string, unknown>
  /** Run state (not saved). */
  running?: boolean
  queued?: boolean
  msgId?: string
  startedAt?: number
  durationMs?: number
  pendingClear?: boolean
  input?: { prompt: string; password: boolean }
}

interface Doc {
  path: string
  hash: string
  notebook: NotebookJson
  mtimeMs: number
  size: number
}

/** Executions the UI runs for itself (not in a cell, not in the history): their stdout, by pseudo cell id. */
const hidden = new Map<string, { out: string; err: string | null; resolve: (s: string) => void; reject: (e: Error) => void }>()

export interface NotebookState {
  files: NotebookFileEntry[]
  interpreters: InterpreterInfo[]
  python: string | null
  doc: Doc | null
  cells: Cell[]
  dirty: boolean
  selected: number
  mode: 'command' | 'edit'
  deleted: { cell: Cell; index: number }[]
  kernelId: string | null
  kernelStatus: KernelStatus | 'none'
  kernelServerKind: 'local' | 'remote' | 'ssh' | null
  deadReason: string | null
  /** Where a remote kernel runs (its folder on the server), when the notebook is local. */
  kernelFolder: string | null
  /** Said when a reopened notebook's outputs could not all be recovered. */
  kernelNotice: string | null
  diskChanged: boolean
  checkDisk(): Promise<void>
  runHidden(code: string): Promise<string>
  variables: VariableInfo[]
  error: string | null
  conflict: boolean
  busy: string | null

  init(): Promise<void>
  refreshFiles(): Promise<void>
  setPython(p: string): void
  openNotebook(path: string): Promise<void>
  createNotebook(name: string): Promise<void>
  startKernel(): Promise<void>
  interrupt(): Promise<void>
  restart(): Promise<void>
  setSource(id: string, source: string): void
  select(i: number, mode?: 'command' | 'edit'): void
  setMode(m: 'command' | 'edit'): void
  insert(at: number, type?: CellType): void
  remove(i: number): void
  undoDelete(): void
  setType(i: number, type: CellType): void
  run(i: number): Promise<void>
  runAll(): Promise<void>
  replyInput(id: string, value: string): Promise<void>
  showAll(id: string, outputIndex: number): Promise<void>
  save(force?: boolean): Promise<void>
  clearError(): void
  move(from: number, to: number): void
  toggleCollapse(i: number, what: 'input' | 'output'): void
  runAbove(i: number): Promise<void>
  runBelow(i: number): Promise<void>
  find: FindState
  openFind(): void
  closeFind(): void
  setFindQuery(q: string): void
  findStep(delta: 1 | -1): void
}

function toCell(c: NotebookCell): Cell {
  // everything the editor does not model (attachments, unknown keys) rides along untouched
  const { cell_type: _t, id: _i, source: _s, outputs: _o, execution_count: _e, metadata: _m, ...extra } = c
  return {
    extra,
    id: typeof c.id === 'string' && c.id ? c.id : newCellId(),
    type: c.cell_type,
    source: joinSource(c.source),
    outputs: ((c.outputs ?? []) as Output[]).map((o) => (o.output_type === 'stream' ? { ...o, text: joinSource(o.text) } : o)),
    executionCount: c.execution_count ?? null,
    metadata: c.metadata ?? {}
  }
}

function toNotebookCell(c: Cell): NotebookCell {
  const extra = { ...(c.extra ?? {}) }
  if (c.type !== 'markdown' && c.type !== 'raw') delete extra.attachments
  const base: NotebookCell = { ...extra, cell_type: c.type, id: c.id, metadata: c.metadata, source: c.source }
  if (c.type === 'code') {
    base.outputs = c.outputs.map(toNbformat)
    base.execution_count = c.executionCount
  }
  return base
}

/** A cell's outputs and run state rebuilt from what the kernel relay recorded for it. */
export function applyRecord(c: Cell, r: CellOutputRecord): Cell {
  let outputs: Output[] = []
  let pendingClear = false
  let executionCount = c.executionCount
  for (const ev of r.events) {
    if (ev.msgType === 'execute_input') executionCount = (ev.content.execution_count as number | undefined) ?? executionCount
    else if (ev.msgType === 'execute_reply') executionCount = (ev.content.execution_count as number | undefined) ?? executionCount
    else if (ev.msgType === 'update_display_data') {
      const id = (ev.content.transient as { display_id?: string } | undefined)?.display_id
      const n = id ? updateDisplay(outputs, id, ev.content) : null
      if (n) outputs = n
    } else ({ outputs, pendingClear } = reduceOutputs(outputs, ev, pendingClear))
  }
  return { ...c, outputs, pendingClear, executionCount, running: !r.done, queued: false, msgId: r.msgId, input: undefined }
}

export const useNotebookStore = create<NotebookState>((set, get) => {
  const patchCell = (pred: (c: Cell) => boolean, fn: (c: Cell) => Partial<Cell>) =>
    set((s) => ({ cells: s.cells.map((c) => (pred(c) ? { ...c, ...fn(c) } : c)) }))

  const loadVariables = async () => {
    const k = get().kernelId
    if (!k) return
    try {
      set({ variables: await call('kernels.variables', { kernelId: k }) })
    } catch {
      /* variables are best effort */
    }
  }

  let pendingOut: KernelIopubEvent[] = []
  let flushTimer: ReturnType<typeof setTimeout> | null = null
  const flushOutputs = () => {
    if (flushTimer) clearTimeout(flushTimer)
    flushTimer = null
    if (!pendingOut.length) return
    const batch = pendingOut
    pendingOut = []
    const byCell = new Map<string, KernelIopubEvent[]>()
    for (const ev of batch) if (ev.cellId) (byCell.get(ev.cellId) ?? byCell.set(ev.cellId, []).get(ev.cellId)!).push(ev)
    set((s) => ({
      dirty: true,
      cells: s.cells.map((c) => {
        const evs = byCell.get(c.id)
        if (!evs) return c
        let outputs = c.outputs
        let pendingClear = !!c.pendingClear
        for (const ev of evs) ({ outputs, pendingClear } = reduceOutputs(outputs, ev, pendingClear))
        return outputs === c.outputs && pendingClear === !!c.pendingClear ? c : { ...c, outputs, pendingClear }
      })
    }))
  }

  /** Events of other kernels that arrive while a reopened notebook's kernel is being looked up. */
  let attachBuffer: KernelIopubEvent[] | null = null
  let onIopub: (e: KernelIopubEvent) => void = () => {}

  const attach = async (path: string) => {
    attachBuffer = []
    try {
      const st = await call('kernels.forNotebook', { path })
      if (get().doc?.path !== path) return
      const byCell = new Map(st.cells.map((r) => [r.cellId, r]))
      const servers = useServerStore.getState().servers
      const kind = st.kernel ? (st.kernel.serverId === 'local' ? 'local' : (servers.find((x) => x.id === st.kernel!.serverId)?.kind ?? 'remote')) : null
      set((s) => ({
        kernelId: st.kernel?.kernelId ?? null,
        kernelStatus: st.kernel ? (st.kernel.status === 'unknown' ? 'idle' : st.kernel.status) : 'none',
        kernelServerKind: kind,
        kernelFolder: st.kernel && st.kernel.serverId !== 'local' ? (st.kernel.folder ?? null) : null,
        kernelNotice: st.lostNotice,
        deadReason: null,
        variables: [],
        cells: s.cells.map((c) => {
          const r = byCell.get(c.id)
          const next = r ? applyRecord(c, r) : c
          return st.input?.cellId === c.id ? { ...next, input: { prompt: st.input.prompt, password: st.input.password } } : next
        })
      }))
      const later = (attachBuffer ?? []).filter((e) => st.kernel && e.kernelId === st.kernel.kernelId && (e.seq ?? Infinity) > st.seq)
      attachBuffer = null
      for (const e of later) onIopub(e)
      if (st.kernel) void loadVariables()
    } catch (e) {
      set({ error: message(e) })
    } finally {
      attachBuffer = null
    }
  }

  let subscribed = false
  const subscribe = () => {
    if (subscribed) return
    subscribed = true
    onEvent('kernel.status', (e: KernelStatusEvent) => {
      if (e.kernelId !== get().kernelId) return
      // a death stays on screen (with "Restart kernel") until the user restarts or runs again, even
      // when Jupyter auto-restarts the process behind it: the kernel's state is gone either way
      const deadReason = e.status === 'dead' ? (e.reason ?? 'The kernel died.') : e.status === 'idle' || e.status === 'busy' ? null : get().deadReason
      set({ kernelStatus: e.status, deadReason })
      if (e.status === 'dead') for (const [id, h] of hidden) hidden.delete(id), h.reject(new Error('The kernel died.'))
      if (e.lost?.length) {
        const lost = new Set(e.lost.map((l) => l.cellId))
        patchCell((c) => lost.has(c.id), () => ({ running: false, queued: false, input: undefined }))
      }
    })
    onIopub = (e: KernelIopubEvent) => {
      if (e.kernelId !== get().kernelId) {
        attachBuffer?.push(e)
        return
      }
      const h = e.cellId ? hidden.get(e.cellId) : undefined
      if (h) {
        if (e.msgType === 'stream') h.out += String(e.content.text ?? '')
        if (e.msgType === 'error') h.err = `${String(e.content.ename)}: ${String(e.content.evalue)}`
        if (e.msgType === 'execute_reply') {
          hidden.delete(e.cellId!)
          if (h.err) h.reject(new Error(h.err))
          else h.resolve(h.out)
        }
        return
      }
      if (e.msgType !== 'stream' && e.msgType !== 'display_data' && e.msgType !== 'execute_result' && e.msgType !== 'clear_output' && e.msgType !== 'error') flushOutputs()
      if (e.msgType === 'update_display_data') {
        const displayId = (e.content.transient as { display_id?: string } | undefined)?.display_id
        if (!displayId) return
        set((s) => ({ cells: s.cells.map((c) => { const n = updateDisplay(c.outputs, displayId, e.content); return n ? { ...c, outputs: n } : c }) }))
        return
      }
      if (!e.cellId) return
      const id = e.cellId
      if (e.msgType === 'execute_input') {
        patchCell((c) => c.id === id, () => ({ queued: false, running: true, startedAt: Date.now(), executionCount: (e.content.execution_count as number) ?? null }))
        return
      }
      if (e.msgType === 'execute_reply') {
        patchCell(
          (c) => c.id === id,
          (c) => ({
            running: false,
            queued: false,
            input: undefined,
            pendingClear: false,
            executionCount: (e.content.execution_count as number | undefined) ?? c.executionCount,
            durationMs: c.startedAt ? Date.now() - c.startedAt : undefined
          })
        )
        void loadVariables()
        return
      }
      if (e.msgType === 'status') return
      // output messages are applied in batches (one store update per ~frame), so a cell printing
      // 200,000 lines costs a few dozen renders, not thousands
      pendingOut.push(e)
      if (!flushTimer) flushTimer = setTimeout(flushOutputs, 40)
    }
    onEvent('kernel.iopub', (e: KernelIopubEvent) => onIopub(e))
    onEvent('kernel.input', (e: KernelInputEvent) => {
      if (e.kernelId !== get().kernelId || !e.cellId) return
      const id = e.cellId
      patchCell((c) => c.id === id, () => ({ input: { prompt: e.prompt, password: e.password } }))
    })
  }

  return {
    files: [],
    interpreters: [],
    python: null,
    doc: null,
    cells: [],
    dirty: false,
    selected: 0,
    mode: 'command',
    deleted: [],
    kernelId: null,
    kernelStatus: 'none',
    kernelServerKind: null,
    deadReason: null,
    kernelFolder: null,
    kernelNotice: null,
    diskChanged: false,
    async checkDisk() {
      const doc = get().doc
      if (!doc) return
      try {
        const files = await call('notebooks.list', {})
        const f = files.find((x) => x.path === doc.path)
        const changed = !!f && (Math.abs(f.mtimeMs - doc.mtimeMs) > 1 || f.size !== doc.size)
        if (get().doc?.path === doc.path && changed !== get().diskChanged) set({ diskChanged: changed })
      } catch {
        /* best effort */
      }
    },
    runHidden(code) {
      const kernelId = get().kernelId
      if (!kernelId) return Promise.reject(new Error('Start a kernel first.'))
      const cellId = `atelier-hidden-${newCellId()}`
      return new Promise<string>((resolve, reject) => {
        hidden.set(cellId, { out: '', err: null, resolve, reject })
        call('kernels.execute', { kernelId, cellId, code, storeHistory: false }).catch((e) => {
          hidden.delete(cellId)
          reject(e instanceof Error ? e : new Error(String(e)))
        })
      })
    },
    variables: [],
    error: null,
    conflict: false,
    busy: null,

    async init() {
      subscribe()
      void get().refreshFiles()
      try {
        const r = await call('kernels.interpreters', {})
        const usable = r.interpreters.filter((i) => i.usable)
        set({ interpreters: r.interpreters, python: get().python ?? r.selected ?? usable[0]?.path ?? null, error: usable.length ? get().error : r.hint })
      } catch (e) {
        set({ error: message(e) })
      }
    },
    async refreshFiles() {
      try {
        set({ files: await call('notebooks.list', {}) })
      } catch (e) {
        set({ files: [], error: message(e) })
      }
    },
    setPython: (p) => set({ python: p }),
    async openNotebook(path) {
      try {
        const d = await call('notebooks.open', { path })
        set({ diskChanged: false, doc: { path: d.path, hash: d.hash, notebook: d.notebook, mtimeMs: d.mtimeMs, size: d.size }, cells: d.notebook.cells.map(toCell), dirty: false, selected: 0, mode: 'command', deleted: [], conflict: false, error: null, find: { open: false, query: '', matches: [], current: 0 } })
        subscribe()
        // the notebook's kernel may live on (page reload, app restart): re-attach, with the outputs it produced meanwhile
        await attach(d.path)
      } catch (e) {
        set({ error: message(e) })
      }
    },
    async createNotebook(name) {
      const path = name.endsWith('.ipynb') ? name : `${name}.ipynb`
      try {
        const d = await call('notebooks.create', { path })
        const cells = d.notebook.cells.length ? d.notebook.cells.map(toCell) : [toCell({ cell_type: 'code', source: '', metadata: {} })]
        set({ diskChanged: false, doc: { path: d.path, hash: d.hash, notebook: d.notebook, mtimeMs: d.mtimeMs, size: d.size }, cells, dirty: false, selected: 0, mode: 'command', deleted: [], conflict: false, error: null, find: { open: false, query: '', matches: [], current: 0 }, kernelId: null, kernelStatus: 'none', kernelNotice: null, kernelFolder: null, variables: [] })
        void get().refreshFiles()
      } catch (e) {
        set({ error: message(e) })
      }
    },
    async startKernel() {
      const { python, doc, kernelId } = get()
      const target = useServerStore.getState().target
      const server = useServerStore.getState().servers.find((x) => x.id === target)
      set({ busy: 'Starting kernel…', kernelStatus: 'starting', error: null, deadReason: null, kernelNotice: null })
      try {
        if (kernelId) await call('kernels.shutdown', { kernelId }).catch(() => undefined)
        let k
        if (target === 'local' || !server || server.kind === 'local') {
          await call('kernels.startLocal', python ? { python } : {})
          k = await call('kernels.start', doc ? { path: doc.path } : {})
        } else k = await call('kernels.start', { serverId: server.id, ...(doc ? { path: doc.path } : {}) })
        const remote = !!server && server.kind !== 'local' && target !== 'local'
        set({ kernelId: k.kernelId, kernelStatus: k.status === 'unknown' ? 'idle' : k.status, variables: [], kernelServerKind: remote ? server!.kind : 'local', kernelFolder: remote ? (k.folder ?? null) : null })
      } catch (e) {
        set({ error: message(e), kernelStatus: 'none', kernelId: null })
      } finally {
        set({ busy: null })
      }
    },
    async interrupt() {
      const k = get().kernelId
      if (k) await call('kernels.interrupt', { kernelId: k }).catch((e) => set({ error: message(e) }))
    },
    async restart() {
      const k = get().kernelId
      if (!k) return
      try {
        set({ kernelStatus: 'restarting', deadReason: null })
        const info = await call('kernels.restart', { kernelId: k })
        set({ kernelStatus: info.status === 'unknown' ? 'idle' : info.status, variables: [] })
        patchCell((c) => !!(c.running || c.queued), () => ({ running: false, queued: false, input: undefined }))
      } catch {
        // a kernel that cannot be restarted in place (gone with its process): start a fresh one
        patchCell((c) => !!(c.running || c.queued), () => ({ running: false, queued: false, input: undefined }))
        await get().startKernel()
      }
    },
    ...cellEditing(set, get),
    async run(i) {
      const c = get().cells[i]
      if (!c || c.type !== 'code') return
      if (!get().kernelId) await get().startKernel()
      const kernelId = get().kernelId
      if (!kernelId) return
      flushOutputs()
      patchCell((x) => x.id === c.id, () => ({ queued: true, outputs: [], pendingClear: false, durationMs: undefined, startedAt: Date.now() }))
      set({ dirty: true })
      try {
        const { msgId } = await call('kernels.execute', { kernelId, cellId: c.id, code: get().cells.find((x) => x.id === c.id)?.source ?? c.source })
        patchCell((x) => x.id === c.id, () => ({ msgId }))
      } catch (e) {
        patchCell((x) => x.id === c.id, () => ({ queued: false, running: false }))
        set({ error: message(e) })
      }
    },
    async runAll() {
      const n = get().cells.length
      for (let i = 0; i < n; i++) await get().run(i)
    },
    async replyInput(id, value) {
      const k = get().kernelId
      if (!k) return
      patchCell((c) => c.id === id, () => ({ input: undefined }))
      await call('kernels.inputReply', { kernelId: k, value }).catch((e) => set({ error: message(e) }))
    },
    async showAll(id, outputIndex) {
      const k = get().kernelId
      const c = get().cells.find((x) => x.id === id)
      const o = c?.outputs[outputIndex]
      if (k && o?._full) {
        const full = o._full
        try {
          const content = await call('kernels.fullDisplay', { kernelId: k, msgId: full.msgId, index: full.index })
          patchCell((x) => x.id === id, (x) => ({ outputs: x.outputs.map((y) => (y._full === full ? { ...y, data: content.data ?? {}, metadata: content.metadata ?? {}, _full: undefined } : y)) }))
        } catch (e) {
          set({ error: message(e) })
        }
        return
      }
      if (!k || !o?._truncated) return
      try {
        let text = ''
        let offset = 0
        for (;;) {
          const page = await call('kernels.fullOutput', { kernelId: k, msgId: o._truncated.msgId, name: o._truncated.name, offset })
          text += page.text
          offset = page.offset + page.text.length
          if (page.done || !page.text) break
        }
        patchCell((x) => x.id === id, (x) => ({ outputs: x.outputs.map((y, j) => (j === outputIndex ? { ...y, text, _truncated: undefined } : y)) }))
      } catch (e) {
        set({ error: message(e) })
      }
    },
    async save(force) {
      const { doc, cells, kernelId } = get()
      if (!doc) return
      const notebook: NotebookJson = { ...doc.notebook, cells: cells.map(toNotebookCell) }
      // outputs shown as placeholders (over the relay cap) are saved in full, as Jupyter would write them
      await Promise.all(
        cells.flatMap((c, ci) =>
          c.outputs.map(async (o, oi) => {
            if (!o._full || !kernelId) return
            const full = await call('kernels.fullDisplay', { kernelId, msgId: o._full.msgId, index: o._full.index }).catch(() => null)
            const saved = notebook.cells[ci].outputs?.[oi]
            if (full && saved) Object.assign(saved, { data: full.data ?? {}, metadata: full.metadata ?? {} })
          })
        )
      )
      try {
        const r = await call('notebooks.save', { path: doc.path, notebook: notebook as unknown as Record<string, unknown>, expectedHash: doc.hash, force })
        set({ doc: { ...doc, hash: r.hash, notebook, mtimeMs: r.mtimeMs, size: r.size }, dirty: false, conflict: false, diskChanged: false, error: null })
        void get().refreshFiles()
      } catch (e) {
        if (['FILE_CHANGED', 'NOTEBOOK_CONFLICT'].includes((e as { code?: string }).code ?? '')) set({ conflict: true })
        else set({ error: message(e) })
      }
    },
    clearError: () => set({ error: null }),
    async runAbove(i) {
      for (let k = 0; k < i; k++) await get().run(k)
    },
    async runBelow(i) {
      const n = get().cells.length
      for (let k = i; k < n; k++) await get().run(k)
    },
  }
})
