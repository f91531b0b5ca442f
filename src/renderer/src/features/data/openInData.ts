import { create } from 'zustand'

/**
 * A request from another room to show a query's result in the Data room (e.g. a notebook's pandas
 * DataFrame written to a file). The Data room takes it once its tabs are loaded: a new tab, run.
 */
interface OpenInDataState {
  pending: { sql: string } | null
  request(sql: string): void
  take(): { sql: string } | null
}

export const useOpenInData = create<OpenInDataState>((set, get) => ({
  pending: null,
  request: (sql) => set({ pending: { sql } }),
  take() {
    const p = get().pending
    if (p) set({ pending: null })
    return p
  }
}))
