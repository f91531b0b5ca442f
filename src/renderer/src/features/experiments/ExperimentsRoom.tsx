import { useEffect } from 'react'
import { onEvent } from '../../api/client'
import { ColumnChooser } from './ColumnChooser'
import { ComparePanel } from './ComparePanel'
import { ExperimentList } from './ExperimentList'
import { GroupByChooser } from './GroupBy'
import { GroupChart } from './GroupChart'
import { GroupComparePanel } from './GroupComparePanel'
import { GroupsTable } from './GroupsTable'
import { MetricChart } from './MetricChart'
import { RunDetails } from './RunDetails'
import { RunsTable } from './RunsTable'
import { compareSize, useExperimentsStore } from './useExperimentsStore'
import './experiments.css'
import { plural } from '../../lib/format'

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
  const filterNotice = useExperimentsStore((s) => s.filterNotice)
  const selected = useExperimentsStore((s) => s.selected)
  const view = useExperimentsStore((s) => s.view)
  const setView = useExperimentsStore((s) => s.setView)
  const setSelected = useExperimentsStore((s) => s.setSelected)
  const grouped = useExperimentsStore((s) => s.groupBy.length > 0)
  const comparable = useExperimentsStore(compareSize)
  const runsView = useExperimentsStore((s) => s.runsView)
  const setRunsView = useExperimentsStore((s) => s.setRunsView)
  const setRunsDeleted = useExperimentsStore((s) => s.setRunsDeleted)
  const actionError = useExperimentsStore((s) => s.actionError)
  const experiment = useExperimentsStore((s) => s.experiments.find((e) => e.experimentId === s.experimentId))
  const selectedRuns = runs.filter((r) => selected.includes(r.runId))
  const anyActive = selectedRuns.some((r) => r.lifecycleStage === 'active')
  const anyDeleted = selectedRuns.some((r) => r.lifecycleStage === 'deleted')

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
          <GroupByChooser />
          <label className="inline-field">
            <span>Show</span>
            <select aria-label="Show runs" value={runsView} onChange={(e) => setRunsView(e.target.value as typeof runsView)}>
              <option value="ACTIVE_ONLY">Active runs</option>
              <option value="DELETED_ONLY">Deleted runs</option>
              <option value="ALL">All runs</option>
            </select>
          </label>
          <span className="muted" role="status">
            {loading ? 'Loading runs…' : `${plural(runs.length, 'run')}${selected.length ? `, ${selected.length} selected` : ''}`}
          </span>
          <span className="spacer" />
          {selected.length > 0 && (
            <button type="button" className="btn small ghost" onClick={() => setSelected([])}>
              Clear selection
            </button>
          )}
          {anyActive && (
            <button
              type="button"
              className="btn small ghost"
              onClick={() => void setRunsDeleted(selectedRuns.filter((r) => r.lifecycleStage === 'active').map((r) => r.runId), true)}
            >
              Delete selected runs
            </button>
          )}
          {anyDeleted && (
            <button
              type="button"
              className="btn small ghost"
              onClick={() => void setRunsDeleted(selectedRuns.filter((r) => r.lifecycleStage === 'deleted').map((r) => r.runId), false)}
            >
              Restore selected runs
            </button>
          )}
          <button type="button" className="btn small" aria-pressed={view === 'compare'} disabled={comparable < 2} onClick={() => setView(view === 'compare' ? 'chart' : 'compare')}>
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
        {filterNotice && (
          <p role="note" className="exp-filter-notice">
            {filterNotice}
          </p>
        )}
        {experiment?.lifecycleStage === 'deleted' && (
          <p className="muted exp-deleted-note">
            {experiment.name} is deleted. Its runs are listed under “Deleted runs”; restore the experiment to bring them back.
          </p>
        )}
        {actionError && (
          <div role="alert" className="error-box exp-filter-error">
            {actionError}
          </div>
        )}
        <div className="exp-main">
          <div className="exp-runs">{grouped ? <GroupsTable /> : <RunsTable />}</div>
          <div className="exp-detail-pane">
            <RunDetails />
          </div>
        </div>
        <div className="exp-bottom">{grouped ? view === 'compare' && comparable >= 2 ? <GroupComparePanel /> : <GroupChart /> : view === 'compare' && selected.length >= 2 ? <ComparePanel /> : <MetricChart />}</div>
      </div>
    </div>
  )
}
