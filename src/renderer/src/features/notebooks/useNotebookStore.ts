import { create } from 'zustand'
import type {
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

export type CellType = 'code' | 'markdown' | 'raw'

export interface Cell {
  id: string
  type: CellType
  source: string
  outputs: Output[]
  executionCount: number | null
  metadata: Record<string, unknown>
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
}

interface State {
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
}

let seq = 0
export const newCellId = () => `c${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`

function toCell(c: NotebookCell): Cell {
  return {
    id: typeof c.id === 'string' && c.id ? c.id : newCellId(),
    type: c.cell_type,
    source: joinSource(c.source),
    outputs: ((c.outputs ?? []) as Output[]).map((o) => (o.output_type === 'stream' ? { ...o, text: joinSource(o.text) } : o)),
    executionCount: c.execution_count ?? null,
    metadata: c.metadata ?? {}
  }
}

function toNotebookCell(c: Cell): NotebookCell {
  const base: NotebookCell = { cell_type: c.type, id: c.id, metadata: c.metadata, source: c.source }
  if (c.type === 'code') {
    base.outputs = c.outputs.map(toNbformat)
    base.execution_count = c.executionCount
  }
  return base
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

export const useNotebookStore = create<State>((set, get) => {
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

  let subscribed = false
  const subscribe = () => {
    if (subscribed) return
    subscribed = true
    onEvent('kernel.status', (e: KernelStatusEvent) => {
      if (e.kernelId !== get().kernelId) return
      set({ kernelStatus: e.status })
      if (e.lost?.length) {
        const lost = new Set(e.lost.map((l) => l.cellId))
        patchCell((c) => lost.has(c.id), () => ({ running: false, queued: false, input: undefined }))
      }
    })
    onEvent('kernel.iopub', (e: KernelIopubEvent) => {
      if (e.kernelId !== get().kernelId) return
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
      set((s) => ({
        dirty: true,
        cells: s.cells.map((c) => {
          if (c.id !== id) return c
          const r = reduceOutputs(c.outputs, e, !!c.pendingClear)
          return r.outputs === c.outputs && r.pendingClear === !!c.pendingClear ? c : { ...c, outputs: r.outputs, pendingClear: r.pendingClear }
        })
      }))
    })
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
        set({ doc: { path: d.path, hash: d.hash, notebook: d.notebook }, cells: d.notebook.cells.map(toCell), dirty: false, selected: 0, mode: 'command', deleted: [], conflict: false, error: null })
      } catch (e) {
        set({ error: message(e) })
      }
    },
    async createNotebook(name) {
      const path = name.endsWith('.ipynb') ? name : `${name}.ipynb`
      try {
        const d = await call('notebooks.create', { path })
        const cells = d.notebook.cells.length ? d.notebook.cells.map(toCell) : [toCell({ cell_type: 'code', source: '', metadata: {} })]
        set({ doc: { path: d.path, hash: d.hash, notebook: d.notebook }, cells, dirty: false, selected: 0, mode: 'command', deleted: [], conflict: false, error: null })
        void get().refreshFiles()
      } catch (e) {
        set({ error: message(e) })
      }
    },
    async startKernel() {
      const { python, doc, kernelId } = get()
      set({ busy: 'Starting kernel…', kernelStatus: 'starting', error: null })
      try {
        if (kernelId) await call('kernels.shutdown', { kernelId }).catch(() => undefined)
        await call('kernels.startLocal', python ? { python } : {})
        const k = await call('kernels.start', doc ? { path: doc.path } : {})
        set({ kernelId: k.kernelId, kernelStatus: k.status === 'unknown' ? 'idle' : k.status, variables: [] })
      } catch (e) {
        set({ error: message(e), kernelStatus: 'dead', kernelId: null })
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
        set({ kernelStatus: 'restarting' })
        const info = await call('kernels.restart', { kernelId: k })
        set({ kernelStatus: info.status, variables: [] })
        patchCell((c) => !!(c.running || c.queued), () => ({ running: false, queued: false, input: undefined }))
      } catch (e) {
        set({ error: message(e) })
      }
    },
    setSource(id, source) {
      const c = get().cells.find((x) => x.id === id)
      if (!c || c.source === source) return
      patchCell((x) => x.id === id, () => ({ source }))
      set({ dirty: true })
    },
    select: (i, mode) => set((s) => ({ selected: Math.max(0, Math.min(s.cells.length - 1, i)), mode: mode ?? s.mode })),
    setMode: (m) => set({ mode: m }),
    insert(at, type = 'code') {
      const cell: Cell = { id: newCellId(), type, source: '', outputs: [], executionCount: null, metadata: {} }
      set((s) => {
        const cells = [...s.cells]
        const i = Math.max(0, Math.min(cells.length, at))
        cells.splice(i, 0, cell)
        return { cells, selected: i, dirty: true }
      })
    },
    remove(i) {
      set((s) => {
        if (!s.cells[i]) return {}
        const cells = [...s.cells]
        const [cell] = cells.splice(i, 1)
        return { cells, deleted: [...s.deleted, { cell, index: i }].slice(-50), selected: Math.max(0, Math.min(i, cells.length - 1)), dirty: true }
      })
    },
    undoDelete() {
      set((s) => {
        const last = s.deleted[s.deleted.length - 1]
        if (!last) return {}
        const cells = [...s.cells]
        cells.splice(Math.min(last.index, cells.length), 0, last.cell)
        return { cells, deleted: s.deleted.slice(0, -1), selected: Math.min(last.index, cells.length - 1), dirty: true }
      })
    },
    setType(i, type) {
      const c = get().cells[i]
      if (!c || c.type === type) return
      patchCell((x) => x.id === c.id, () => ({ type, outputs: type === 'code' ? c.outputs : [], executionCount: type === 'code' ? c.executionCount : null }))
      set({ dirty: true })
    },
    async run(i) {
      const c = get().cells[i]
      if (!c || c.type !== 'code') return
      if (!get().kernelId) await get().startKernel()
      const kernelId = get().kernelId
      if (!kernelId) return
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
      const { doc, cells } = get()
      if (!doc) return
      const notebook: NotebookJson = { ...doc.notebook, cells: cells.map(toNotebookCell) }
      try {
        const r = await call('notebooks.save', { path: doc.path, notebook: notebook as unknown as Record<string, unknown>, expectedHash: doc.hash, force })
        set({ doc: { ...doc, hash: r.hash, notebook }, dirty: false, conflict: false, error: null })
        void get().refreshFiles()
      } catch (e) {
        if ((e as { code?: string }).code === 'FILE_CHANGED') set({ conflict: true })
        else set({ error: message(e) })
      }
    },
    clearError: () => set({ error: null })
  }
})
