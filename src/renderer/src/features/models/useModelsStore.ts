import { create } from 'zustand'
import type { ModelVersion, RegisteredModel } from '../../../../shared/registry'
import { call } from '../../api/client'
import { useCommandStore } from '../commands/useCommandStore'
import { errorText } from './widgets'

export type VersionTab = 'overview' | 'card' | 'lineage' | 'reviews' | 'files'

export type ModelsView = { kind: 'model' } | { kind: 'version'; version: number; tab: VersionTab } | { kind: 'compare'; a: number; b: number }

interface State {
  query: string
  models: RegisteredModel[]
  modelsError: string | null
  loadingModels: boolean
  selected: string | null
  model: RegisteredModel | null
  versions: ModelVersion[]
  versionsError: string | null
  view: ModelsView
  /** Versions ticked for comparison. */
  compare: number[]
  /** Bumped on registry changes so that open pages refetch. */
  revision: number
  setQuery(q: string): void
  loadModels(): Promise<void>
  selectModel(name: string | null): void
  loadVersions(): Promise<void>
  openVersion(version: number, tab?: VersionTab): void
  setTab(tab: VersionTab): void
  showModel(): void
  toggleCompare(v: number): void
  showCompare(a: number, b: number): void
  refresh(): Promise<void>
  /** Switches to the Models room on a model's version (from another room). */
  reveal(name: string, version?: number): void
}

let modelsSeq = 0
let versionsSeq = 0

export const useModelsStore = create<State>()((set, get) => ({
  query: '',
  models: [],
  modelsError: null,
  loadingModels: false,
  selected: null,
  model: null,
  versions: [],
  versionsError: null,
  view: { kind: 'model' },
  compare: [],
  revision: 0,

  setQuery(query) {
    set({ query })
    void get().loadModels()
  },

  async loadModels() {
    const seq = ++modelsSeq
    set({ loadingModels: true })
    try {
      const q = get().query.trim()
      const page = await call('registry.models.list', { query: q || undefined, orderBy: 'name', maxResults: 1000 })
      if (seq !== modelsSeq) return
      set({ models: page.models, modelsError: null, loadingModels: false })
      const { selected } = get()
      if (!selected && page.models[0] && !q) get().selectModel(page.models[0].name)
    } catch (e) {
      if (seq === modelsSeq) set({ modelsError: errorText(e), loadingModels: false })
    }
  },

  selectModel(name) {
    if (name === get().selected) return set({ view: { kind: 'model' } })
    set({ selected: name, model: null, versions: [], versionsError: null, view: { kind: 'model' }, compare: [] })
    void get().loadVersions()
  },

  async loadVersions() {
    const name = get().selected
    if (!name) return
    const seq = ++versionsSeq
    try {
      const [model, page] = await Promise.all([call('registry.models.get', { name }), call('registry.versions.list', { name, maxResults: 1000 })])
      if (seq !== versionsSeq) return
      set({ model, versions: page.versions, versionsError: null })
    } catch (e) {
      if (seq === versionsSeq) set({ versionsError: errorText(e) })
    }
  },

  openVersion: (version, tab = 'overview') => set({ view: { kind: 'version', version, tab } }),
  setTab(tab) {
    const v = get().view
    if (v.kind === 'version') set({ view: { ...v, tab } })
  },
  showModel: () => set({ view: { kind: 'model' } }),
  toggleCompare(v) {
    const c = get().compare
    set({ compare: c.includes(v) ? c.filter((x) => x !== v) : [...c, v].slice(-2) })
  },
  showCompare: (a, b) => set({ view: { kind: 'compare', a, b } }),

  async refresh() {
    await Promise.all([get().loadModels(), get().loadVersions()])
    set({ revision: get().revision + 1 })
  },

  reveal(name, version) {
    set({ query: '', selected: null })
    get().selectModel(name)
    if (version !== undefined) get().openVersion(version)
    void get().loadModels()
    useCommandStore.getState().run('room.models')
  }
}))
