import { useRef } from 'react'
import { ChartPanel } from './chart/ChartPanel'
import { useTabsStore } from './editor/useTabsStore'
import { ExportPanel } from './export/ExportPanel'
import { ResultsGrid } from './grid/ResultsGrid'
import { ProfilePanel } from './profile/ProfilePanel'
import { QueryError } from './query/QueryError'
import { rowCountOf, useQueryStore, type QueryState, type ResultView } from './query/useQueryStore'

const VIEWS: { id: ResultView; title: string }[] = [
  { id: 'results', title: 'Results' },
  { id: 'profile', title: 'Profile' },
  { id: 'chart', title: 'Chart' },
  { id: 'export', title: 'Export' }
]

function ResultsView({ q }: { q: QueryState | undefined }) {
  if (!q) return <p className="muted empty-note">Run a query to see its result here.</p>
  if (q.status === 'error') return null
  if (q.columns && q.columns.length > 0)
    return <ResultsGrid queryId={q.queryId} columns={q.columns} rowCount={rowCountOf(q)} available={q.available} />
  if (q.status === 'done') return <p className="muted empty-note">{q.message ?? 'The statement returned no rows.'}</p>
  if (q.status === 'cancelled') return <p className="muted empty-note">No result: the query was cancelled.</p>
  return <p className="muted empty-note">Waiting for the first rows…</p>
}

export function ResultArea() {
  const activeId = useTabsStore((s) => s.activeId)
  const q = useQueryStore((s) => (activeId ? s.byTab[activeId] : undefined))
  const view = useQueryStore((s) => s.view)
  const setView = useQueryStore((s) => s.setView)
  const listRef = useRef<HTMLDivElement>(null)

  const select = (i: number) => {
    const v = VIEWS[(i + VIEWS.length) % VIEWS.length]
    setView(v.id)
    listRef.current?.querySelector<HTMLElement>(`#rv-tab-${v.id}`)?.focus()
  }

  return (
    <section className="result-area">
      <div role="tablist" aria-label="Result views" className="result-tabs" ref={listRef}>
        {VIEWS.map((v, i) => (
          <button
            key={v.id}
            id={`rv-tab-${v.id}`}
            type="button"
            role="tab"
            aria-selected={view === v.id}
            aria-controls={`rv-panel-${v.id}`}
            tabIndex={view === v.id ? 0 : -1}
            className={`rtab ${view === v.id ? 'active' : ''}`}
            onClick={() => setView(v.id)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight') select(i + 1)
              else if (e.key === 'ArrowLeft') select(i - 1)
              else return
              e.preventDefault()
            }}
          >
            {v.title}
          </button>
        ))}
      </div>
      {/* the error belongs to this tab's result: not shown above a profile of something else */}
      {q?.status === 'error' && view !== 'profile' && <QueryError q={q} />}
      <div
        role="tabpanel"
        id={`rv-panel-${view}`}
        aria-labelledby={`rv-tab-${view}`}
        className={`result-panel view-${view}`}
      >
        {view === 'results' && <ResultsView q={q} />}
        {view === 'profile' && <ProfilePanel query={q} />}
        {view === 'chart' && <ChartPanel tabId={activeId} query={q} />}
        {view === 'export' && <ExportPanel query={q} />}
      </div>
    </section>
  )
}
