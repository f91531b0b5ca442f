import { create } from 'zustand'
import type { AddSourceParams, CatalogSource, SourceInfo } from '../../../../../shared/api'
import { call } from '../../../api/client'
import { toUiError } from '../../../lib/errors'

interface CatalogState {
  sources: CatalogSource[]
  loading: boolean
  error: string | null
  addOpen: boolean
  load: () => Promise<void>
  add: (p: AddSourceParams) => Promise<SourceInfo>
  remove: (id: string) => Promise<void>
  refresh: (id?: string) => Promise<void>
  showAdd: (open: boolean) => void
}

let seq = 0
export const useCatalogStore = create<CatalogState>((set, get) => ({
  sources: [],
  loading: false,
  error: null,
  addOpen: false,
  load: async () => {
    const mine = ++seq
    set({ loading: true })
    try {
      const sources = await call('lake.catalog', {})
      if (mine === seq) set({ sources, loading: false, error: null })
    } catch (err) {
      if (mine === seq) set({ loading: false, error: toUiError(err).message })
    }
  },
  add: async (p) => {
    const res = await call('lake.sources.add', p)
    void get().load()
    return res
  },
  remove: async (id) => {
    try {
      await call('lake.sources.remove', { id })
      set((s) => ({ sources: s.sources.filter((x) => x.id !== id) }))
      void get().load()
    } catch (err) {
      set({ error: toUiError(err).message })
    }
  },
  refresh: async (id) => {
    try {
      await call('lake.sources.refresh', id ? { id } : {})
      await get().load()
    } catch (err) {
      set({ error: toUiError(err).message })
    }
  },
  showAdd: (addOpen) => set({ addOpen })
}))
