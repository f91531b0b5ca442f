import { create } from 'zustand'
import type { ColumnInfo, QueryProgressEvent, QueryStarted } from '../../../../../shared/api'
import { call, onEvent } from '../../../api/client'
import { toUiError, type UiError } from '../../../lib/errors'
import { newId } from '../../../lib/ids'
import { dropCache, getCache, PAGE_SIZE } from '../grid/pageCache'
import { useHistoryStore } from '../history/useHistoryStore'

export type QueryStatus = 'running' | 'done' | 'error' | 'cancelled'

export interface QueryState {
  queryId: string
  sql: string
  status: QueryStatus
  phase: QueryProgressEvent['phase'] | 'starting'
  /** performance.now() when the run began. */
  startedAt: number
  columns: ColumnInfo[] | null
  available: number
  totalRows: number | null
  percent: number | null
  elapsedMs: number
  message?: string
  error?: UiError
  /** Where the run text starts in the editor (1-based), to place error markers. */
  origin: { line: number; column: number }
}

export type ResultView = 'results' | 'profile' | 'chart' | 'export'

interface QueryStoreState {
  byTab: Record<string, QueryState>
  view: ResultView
  setView: (v: ResultView) => void
  run: (tabId: string, sql: string, origin?: { line: number; column: number }) => Promise<void>
  cancel: (tabId: string) => Promise<void>
  forget: (tabId: string) => void
}

const TERMINAL: QueryStatus[] = ['done', 'error', 'cancelled']
const tabOfQuery = new Map<string, string>()

function closeQuery(queryId: string) {
  tabOfQuery.delete(queryId)
  dropCache(queryId)
  call('lake.close', { queryId }).catch(() => undefined)
}

export const useQueryStore = create<QueryStoreState>((set, get) => {
  /** Applies fn to the query's state if it is still the tab's current query. */
  const update = (queryId: string, fn: (s: QueryState) => QueryState) => {
    const tabId = tabOfQuery.get(queryId)
    if (!tabId) return
    const cur = get().byTab[tabId]
    if (!cur || cur.queryId !== queryId) return
    const next = fn(cur)
    if (next === cur) return
    set((s) => ({ byTab: { ...s.byTab, [tabId]: next } }))
    if (!TERMINAL.includes(cur.status) && TERMINAL.includes(next.status)) void useHistoryStore.getState().load()
  }

  /**
   * A finished query shows the engine's duration (start until every row was read and counted), the
   * number History records; failed and cancelled runs show the time the page waited.
   */
  const terminal = (s: QueryState, status: QueryStatus, error?: UiError, engineMs?: number): QueryState =>
    TERMINAL.includes(s.status)
      ? s
      : {
          ...s,
          status,
          phase: status,
          error,
          elapsedMs: engineMs ?? Math.max(s.elapsedMs, performance.now() - s.startedAt)
        }

  onEvent('query.progress', (e) => {
    update(e.queryId, (s) => {
      let next: QueryState = {
        ...s,
        phase: TERMINAL.includes(s.status) ? s.phase : e.phase,
        available: Math.max(s.available, e.available),
        totalRows: e.totalRows ?? s.totalRows,
        percent: e.percent ?? s.percent,
        elapsedMs: Math.max(s.elapsedMs, e.elapsedMs)
      }
      if (e.phase === 'done') next = terminal(next, 'done', undefined, e.elapsedMs)
      else if (e.phase === 'cancelled' || e.error?.code === 'CANCELLED') next = terminal(next, 'cancelled')
      else if (e.phase === 'error')
        next = terminal(next, 'error', e.error ? toUiError(e.error) : { code: 'INTERNAL', message: 'The query failed.' })
      return next
    })
  })

  return {
    byTab: {},
    view: 'results',
    setView: (view) => set({ view }),
    run: async (tabId, sql, origin = { line: 1, column: 1 }) => {
      const prev = get().byTab[tabId]
      if (prev) {
        if (prev.status === 'running') call('lake.cancel', { queryId: prev.queryId }).catch(() => undefined)
        closeQuery(prev.queryId)
      }
      const queryId = newId()
      tabOfQuery.set(queryId, tabId)
      const state: QueryState = {
        queryId,
        sql,
        status: 'running',
        phase: 'starting',
        startedAt: performance.now(),
        columns: null,
        available: 0,
        totalRows: null,
        percent: null,
        elapsedMs: 0,
        origin
      }
      // a new run shows its rows
      set((s) => ({ byTab: { ...s.byTab, [tabId]: state }, view: 'results' }))
      let r: QueryStarted
      try {
        r = await call('lake.query', { queryId, sql, pageSize: PAGE_SIZE, format: 'arrow' })
      } catch (err) {
        const e = toUiError(err)
        update(queryId, (s) => (e.code === 'CANCELLED' ? terminal(s, 'cancelled') : terminal(s, 'error', e)))
        return
      }
      getCache(queryId).seed(r.first)
      update(queryId, (s) => {
        const totalRows = r.totalRows ?? s.totalRows
        const next: QueryState = {
          ...s,
          columns: r.columns,
          available: Math.max(s.available, r.available, r.first.offset + r.first.rowCount),
          totalRows: r.done && totalRows === null ? r.available : totalRows,
          elapsedMs: Math.max(s.elapsedMs, r.elapsedMs),
          message: r.message,
          phase: TERMINAL.includes(s.status) ? s.phase : r.done ? 'done' : s.phase === 'starting' ? 'reading' : s.phase
        }
        return r.done ? terminal(next, 'done', undefined, r.elapsedMs) : next
      })
    },
    cancel: async (tabId) => {
      const q = get().byTab[tabId]
      if (!q || q.status !== 'running') return
      try {
        await call('lake.cancel', { queryId: q.queryId })
      } catch (err) {
        const e = toUiError(err)
        if (e.code !== 'CANCELLED' && e.code !== 'NOT_FOUND') update(q.queryId, (s) => terminal(s, 'error', e))
      }
    },
    forget: (tabId) => {
      const q = get().byTab[tabId]
      if (!q) return
      if (q.status === 'running') call('lake.cancel', { queryId: q.queryId }).catch(() => undefined)
      closeQuery(q.queryId)
      set((s) => {
        const byTab = { ...s.byTab }
        delete byTab[tabId]
        return { byTab }
      })
    }
  }
})

/** Rows the grid can show: the total once known, else what is readable so far. */
export function rowCountOf(q: QueryState): number {
  return q.totalRows ?? q.available
}
