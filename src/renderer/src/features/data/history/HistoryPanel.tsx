import { useEffect } from 'react'
import { formatCount, formatDuration, QUERY_DURATION_NOTE, plural } from '../../../lib/format'
import { newQueryTab } from '../actions'
import { useTabsStore } from '../editor/useTabsStore'
import { useHistoryStore } from './useHistoryStore'

function when(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const today = new Date()
  const sameDay = d.toDateString() === today.toDateString()
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
}

/** Past queries; clicking one opens it in the editor (the current tab when empty, else a new tab). */
export function HistoryPanel() {
  const entries = useHistoryStore((s) => s.entries)
  const error = useHistoryStore((s) => s.error)
  const load = useHistoryStore((s) => s.load)

  useEffect(() => {
    void load()
  }, [load])

  const open = (sql: string) => {
    const { tabs, activeId, setSql } = useTabsStore.getState()
    const cur = tabs.find((t) => t.id === activeId)
    if (cur && !cur.sql.trim()) setSql(cur.id, sql)
    else newQueryTab(sql)
  }

  return (
    <section className="history" aria-label="History">
      <header className="side-head">
        <h2>History</h2>
        <button type="button" className="icon-btn small" aria-label="Refresh history" onClick={() => void load()}>
          ↻
        </button>
      </header>
      {error && <div className="error-box small">{error}</div>}
      <ul className="history-list">
        {entries.length === 0 && <li className="muted empty-note">No queries yet.</li>}
        {entries.map((h) => (
          <li key={h.id}>
            <button
              type="button"
              className={`history-item ${h.error ? 'failed' : ''}`}
              onClick={() => open(h.sql)}
              title={h.sql}
              aria-label={`Open in editor: ${h.sql.slice(0, 120)}`}
            >
              <code className="history-sql">{h.sql.replace(/\s+/g, ' ').slice(0, 160)}</code>
              <span className="history-meta">
                {when(h.ranAt)}
                {h.error ? ' · failed' : h.rows !== null ? ` · ${plural(h.rows, 'row')}` : ''}
                {h.elapsedMs !== null && <span title={QUERY_DURATION_NOTE}> · {formatDuration(h.elapsedMs)}</span>}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
