import { useEffect } from 'react'
import { onEvent } from '../../api/client'
import { ColumnChooser } from './ColumnChooser'
import { ComparePanel } from './ComparePanel'
import { MetricChart } from './MetricChart'
import { RunDetails } from './RunDetails'
import { RunsTable } from './RunsTable'
import { useExperimentsStore } from './useExperimentsStore'
import './experiments.css'

function ExperimentList() {
  const experiments = useExperimentsStore((s) => s.experiments)
  const experimentId = useExperimentsStore((s) => s.experimentId)
  const error = useExperimentsStore((s) => s.experimentsError)
  const select = useExperimentsStore((s) => s.selectExperiment)
  return (
    <aside className="sidebar exp-sidebar" aria-label="Experiments sidebar">
      <div className="side-head">Experiments</div>
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      <ul className="exp-list" role="listbox" aria-label="Experiments">
        {experiments.map((e) => (
          <li
            key={e.experimentId}
            role="option"
            aria-selected={e.experimentId === experimentId}
            tabIndex={e.experimentId === experimentId ? 0 : -1}
            className={`exp-item ${e.experimentId === experimentId ? 'active' : ''}`}
            onClick={() => select(e.experimentId)}
            onKeyDown={(ev) => {
              const i = experiments.indexOf(e)
              const next = ev.key === 'ArrowDown' ? experiments[i + 1] : ev.key === 'ArrowUp' ? experiments[i - 1] : undefined
              if (next) {
                ev.preventDefault()
                select(next.experimentId)
                ;(ev.currentTarget.parentElement?.children[experiments.indexOf(next)] as HTMLElement | undefined)?.focus()
              }
            }}
          >
            <span className="exp-item-name">{e.name}</span>
            <span className="muted exp-count">{e.runCount}</span>
          </li>
        ))}
        {experiments.length === 0 && !error && <li className="muted empty-note">No experiments yet. Log runs with MLflow.</li>}
      </ul>
    </aside>
  )
}

function FilterBox() {
  const filter = useExperimentsStore((s) => s.filter)
  const setFilter = useExperimentsStore((s) => s.setFilter)
  const apply = useExperimentsStore((s) => s.applyFilter)
  return (
    <form
      className="exp-filter"
      role="search"
      onSubmit={(e) => {
        e.preventDefault()
        void apply()
      }}
    >
      <input
        type="search"
        className="mono"
        aria-label="Filter runs"
        placeholder="metrics.loss < 0.5 and params.model = 'cnn'"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      <button type="submit" className="btn small">
        Apply filter
      </button>
    </form>
  )
}

/** Experiments room: MLflow experiments, their runs, metric charts and run comparison. */
export function ExperimentsRoom() {
  const loadExperiments = useExperimentsStore((s) => s.loadExperiments)
  const refresh = useExperimentsStore((s) => s.refresh)
  const runs = useExperimentsStore((s) => s.runs)
  const loading = useExperimentsStore((s) => s.loading)
  const filterError = useExperimentsStore((s) => s.filterError)
  const selected = useExperimentsStore((s) => s.selected)
  const view = useExperimentsStore((s) => s.view)
  const setView = useExperimentsStore((s) => s.setView)
  const setSelected = useExperimentsStore((s) => s.setSelected)

  useEffect(() => {
    void loadExperiments()
    // debounced (600 ms quiet), but at most 3 s late while a script logs continuously
    let timer: ReturnType<typeof setTimeout> | undefined
    let firstAt = 0
    const off = onEvent('tracking.changed', () => {
      const now = Date.now()
      if (!timer) firstAt = now
      clearTimeout(timer)
      timer = setTimeout(
        () => {
          timer = undefined
          void refresh()
        },
        Math.max(0, Math.min(600, firstAt + 3000 - now))
      )
    })
    return () => {
      clearTimeout(timer)
      off()
    }
  }, [loadExperiments, refresh])

  return (
    <div className="exp-room">
      <ExperimentList />
      <div className="exp-work">
        <div className="exp-toolbar exp-runbar">
          <FilterBox />
          <ColumnChooser />
          <span className="muted" role="status">
            {loading ? 'Loading runs…' : `${runs.length.toLocaleString()} runs${selected.length ? `, ${selected.length} selected` : ''}`}
          </span>
          <span className="spacer" />
          {selected.length > 0 && (
            <button type="button" className="btn small ghost" onClick={() => setSelected([])}>
              Clear selection
            </button>
          )}
          <button type="button" className="btn small" aria-pressed={view === 'compare'} disabled={selected.length < 2} onClick={() => setView(view === 'compare' ? 'chart' : 'compare')}>
            Compare
          </button>
          <button type="button" className="btn small ghost" onClick={() => void refresh()}>
            Refresh
          </button>
        </div>
        {filterError && (
          <div role="alert" className="error-box exp-filter-error">
            {filterError}
          </div>
        )}
        <div className="exp-main">
          <div className="exp-runs">
            <RunsTable />
          </div>
          <div className="exp-detail-pane">
            <RunDetails />
          </div>
        </div>
        <div className="exp-bottom">{view === 'compare' && selected.length >= 2 ? <ComparePanel /> : <MetricChart />}</div>
      </div>
    </div>
  )
}
