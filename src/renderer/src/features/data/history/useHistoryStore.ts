import { create } from 'zustand'
import type { HistoryEntry } from '../../../../../shared/api'
import { call } from '../../../api/client'
import { toUiError } from '../../../lib/errors'

interface HistoryState {
  entries: HistoryEntry[]
  error: string | null
  load: () => Promise<void>
}

export const useHistoryStore = create<HistoryState>((set) => ({
  entries: [],
  error: null,
  load: async () => {
    try {
      set({ entries: await call('lake.history', { limit: 200 }), error: null })
    } catch (err) {
      set({ error: toUiError(err).message })
    }
  }
}))
