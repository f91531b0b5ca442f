import { create } from 'zustand'

/**
 * A request from another room to show a query's result in the Data room (e.g. a notebook's pandas
 * DataFrame written to a file). The Data room takes it once its tabs are loaded: a new tab, run.
 */
interface OpenInDataState {
  /** `run: false` only opens the tab (e.g. "New query" from another room). */
  pending: { sql: string; run: boolean } | null
  request(sql: string, opts?: { run?: boolean }): void
  take(): { sql: string; run: boolean } | null
}

export const useOpenInData = create<OpenInDataState>((set, get) => ({
  pending: null,
  request: (sql, opts) => set({ pending: { sql, run: opts?.run ?? true } }),
  take() {
    const p = get().pending
    if (p) set({ pending: null })
    return p
  }
}))
