import type { StoreApi } from 'zustand'
import type { Cell, CellType, NotebookState } from './useNotebookStore'

/**
 * The notebook store's editing actions: selection and mode, insert/delete/undo, cell type, moves,
 * collapse flags, and find in notebook. Pure state changes; nothing here talks to the kernel.
 */
let seq = 0
export const newCellId = () => `c${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`

export interface FindMatch {
  cellId: string
  index: number
  offset: number
}
export interface FindState {
  open: boolean
  query: string
  matches: FindMatch[]
  current: number
}

export function findMatches(cells: Cell[], query: string): FindMatch[] {
  if (!query) return []
  const q = query.toLowerCase()
  const out: FindMatch[] = []
  cells.forEach((c, index) => {
    const src = c.source.toLowerCase()
    for (let at = src.indexOf(q); at >= 0 && out.length < 10_000; at = src.indexOf(q, at + q.length)) out.push({ cellId: c.id, index, offset: at })
  })
  return out
}

/** Collapse flags as JupyterLab stores them (metadata.jupyter.source_hidden / outputs_hidden). */
export function isCollapsed(c: Cell, what: 'input' | 'output'): boolean {
  const j = c.metadata.jupyter as Record<string, unknown> | undefined
  return !!j?.[what === 'input' ? 'source_hidden' : 'outputs_hidden']
}


type Set = StoreApi<NotebookState>['setState']
type Get = StoreApi<NotebookState>['getState']

export function cellEditing(set: Set, get: Get) {
  const patchCell = (pred: (c: Cell) => boolean, fn: (c: Cell) => Partial<Cell>) =>
    set((s) => ({ cells: s.cells.map((c) => (pred(c) ? { ...c, ...fn(c) } : c)) }))
  return {
    setSource(id, source) {
      const c = get().cells.find((x) => x.id === id)
      if (!c || c.source === source) return
      patchCell((x) => x.id === id, () => ({ source }))
      set({ dirty: true })
    },
    select: (i, mode) => set((s) => ({ selected: Math.max(0, Math.min(s.cells.length - 1, i)), mode: mode ?? s.mode })),
    setMode: (m) => set({ mode: m }),
    insert(at: number, type: CellType = 'code') {
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
    move(from, to) {
      set((s) => {
        if (from === to || !s.cells[from] || to < 0 || to >= s.cells.length) return {}
        const cells = [...s.cells]
        const [c] = cells.splice(from, 1)
        cells.splice(to, 0, c)
        return { cells, selected: to, dirty: true }
      })
    },
    toggleCollapse(i, what) {
      const c = get().cells[i]
      if (!c) return
      const key = what === 'input' ? 'source_hidden' : 'outputs_hidden'
      const jupyter = { ...((c.metadata.jupyter as Record<string, unknown>) ?? {}) }
      if (jupyter[key]) delete jupyter[key]
      else jupyter[key] = true
      const metadata: Record<string, unknown> = { ...c.metadata, jupyter }
      if (!Object.keys(jupyter).length) delete metadata.jupyter
      patchCell((x) => x.id === c.id, () => ({ metadata }))
      set({ dirty: true })
    },
    find: { open: false, query: '', matches: [], current: 0 },
    openFind: () => set((s) => ({ find: { ...s.find, open: true } })),
    closeFind: () => set({ find: { open: false, query: '', matches: [], current: 0 } }),
    setFindQuery(query) {
      const matches = findMatches(get().cells, query)
      set((s) => ({ find: { ...s.find, query, matches, current: 0 } }))
      if (matches.length) get().select(matches[0].index, 'command')
    },
    findStep(delta) {
      const f = get().find
      const matches = findMatches(get().cells, f.query)
      if (!matches.length) return set({ find: { ...f, matches, current: 0 } })
      const current = (f.current + delta + matches.length) % matches.length
      set({ find: { ...f, matches, current } })
      get().select(matches[current].index, 'command')
    }
  } satisfies Partial<NotebookState>
}
