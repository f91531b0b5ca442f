import { create } from 'zustand'
import type { BuildDetail, BuildInfo, ColumnsResult } from '../../../../shared/builder'
import { call, onEvent } from '../../api/client'
import { useWorkspaceStore } from '../workspace/useWorkspaceStore'
import { errorText } from '../../lib/errors'

interface BuilderState {
  builds: BuildInfo[]
  selectedId: string | null
  detail: BuildDetail | null
  columns: ColumnsResult | null
  error: string | null
  load(): Promise<void>
  select(id: string | null): Promise<void>
  refresh(): Promise<void>
  loadColumns(table: string, target?: string | null): Promise<void>
  setError(e: unknown): void
}

export const message = errorText

export const useBuilderStore = create<BuilderState>((set, get) => ({
  builds: [],
  selectedId: null,
  detail: null,
  columns: null,
  error: null,
  async load() {
    const builds = await call('builder.list', {})
    set({ builds })
    // the open build may belong to the workspace just left
    const id = get().selectedId
    if (id && !builds.some((b) => b.id === id)) await get().select(null)
  },
  async select(id) {
    set({ selectedId: id, detail: null, columns: null, error: null })
    if (!id) return
    const detail = await call('builder.get', { buildId: id })
    set({ detail })
    await get().loadColumns(detail.table, detail.settings.target)
  },
  async refresh() {
    const id = get().selectedId
    if (id) set({ detail: await call('builder.get', { buildId: id }) })
  },
  async loadColumns(table, target) {
    try {
      set({ columns: await call('builder.columns', { table, ...(target ? { target } : {}) }) })
    } catch (e) {
      set({ error: message(e) })
    }
  },
  setError(e) {
    set({ error: e === null ? null : message(e) })
  }
}))

let subscribed = false
/** Live status: list rows and the open build follow `builder.status`. */
export function subscribeBuilder(): void {
  if (subscribed) return
  subscribed = true
  onEvent('builder.status', (b) => {
    const s = useBuilderStore.getState()
    const known = s.builds.some((x) => x.id === b.id)
    // a build of another workspace (still running after a switch) is not listed here
    if (!known && b.workspace !== undefined && b.workspace !== useWorkspaceStore.getState().path) return
    const builds = known ? s.builds.map((x) => (x.id === b.id ? b : x)) : [b, ...s.builds]
    useBuilderStore.setState({ builds })
    if (s.selectedId === b.id) {
      if (b.state !== 'running') void s.refresh()
      else if (s.detail) useBuilderStore.setState({ detail: { ...s.detail, ...b, candidates: b.candidates } })
    }
  })
}
