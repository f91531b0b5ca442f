import { useEffect, useState } from 'react'
import { ProgressBar } from '../../../components/ProgressBar'
import { formatCount, formatDuration, QUERY_DURATION_NOTE, plural } from '../../../lib/format'
import { modKey } from '../../commands/useCommandStore'
import { cancelActive, runActive } from '../actions'
import { useTabsStore } from '../editor/useTabsStore'
import { useQueryStore, type QueryState } from './useQueryStore'

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => performance.now())
  useEffect(() => {
    if (!active) return
    const t = setInterval(() => setNow(performance.now()), 100)
    return () => clearInterval(t)
  }, [active])
  return now
}

export function statusText(q: QueryState, now: number): string {
  const elapsed = q.status === 'running' ? Math.max(q.elapsedMs, now - q.startedAt) : q.elapsedMs
  if (q.status === 'running') {
    const rows = q.totalRows ?? q.available
    return rows > 0
      ? `${plural(rows, 'row')}${q.totalRows === null ? ' so far' : ''} · ${formatDuration(elapsed)}`
      : `Running · ${formatDuration(elapsed)}`
  }
  if (q.status === 'done') {
    if (q.message && (q.columns?.length ?? 0) === 0) return `${q.message} · ${formatDuration(elapsed)}`
    const rows = q.totalRows ?? q.available
    return `${plural(rows, 'row')} · ${formatDuration(elapsed)}`
  }
  return ''
}

/** Run / Cancel, the progress bar (after 1 s) and the status line of the active tab's query. */
export function RunBar() {
  const activeId = useTabsStore((s) => s.activeId)
  const q = useQueryStore((s) => (activeId ? s.byTab[activeId] : undefined))
  const running = q?.status === 'running'
  const now = useNow(running)
  const showProgress = running && now - q.startedAt > 1000

  return (
    <div className="runbar">
      <button type="button" className="btn primary" onClick={runActive} aria-keyshortcuts="Control+Enter" title={`${modKey}+Enter`}>
        ▶ Run query
      </button>
      <button type="button" className="btn" onClick={cancelActive} disabled={!running}>
        ■ Cancel query
      </button>
      {showProgress && (
        <ProgressBar label="Query progress" percent={q.percent} className="runbar-progress" />
      )}
      {q && q.status !== 'error' && q.status !== 'cancelled' && (
        <span className="status-line" aria-live="polite" title={q.status === 'done' ? QUERY_DURATION_NOTE : 'Time since the query started'}>
          {statusText(q, now)}
        </span>
      )}
      {q?.status === 'cancelled' && (
        <span role="status" className="status-line muted">
          Query cancelled
        </span>
      )}
      <span className="spacer" />
      <span className="muted hint">
        <kbd>{modKey}+Enter</kbd> run
      </span>
    </div>
  )
}
