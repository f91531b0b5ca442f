import { useEffect, type KeyboardEvent } from 'react'
import { JOB_STATES } from '../../../../shared/jobs'
import { Spinner } from '../../components/ProgressBar'
import { useWorkspaceStore } from '../workspace/useWorkspaceStore'
import { JobDetailView } from './JobDetailView'
import { JobsList } from './JobsList'
import { SubmitDialog } from './SubmitDialog'
import { SweepsView } from './SweepsView'
import { TargetsDialog } from './TargetsDialog'
import { useJobsStore, type JobsTab } from './useJobsStore'
import './jobs.css'
import './jobs-forms.css'

const TABS: { id: JobsTab; label: string }[] = [
  { id: 'jobs', label: 'Jobs' },
  { id: 'sweeps', label: 'Sweeps' }
]

function Tabs() {
  const tab = useJobsStore((s) => s.tab)
  const setTab = useJobsStore((s) => s.setTab)
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return
    e.preventDefault()
    const i = TABS.findIndex((t) => t.id === tab)
    const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length]
    setTab(next.id)
    document.getElementById(`jobs-tab-${next.id}`)?.focus()
  }
  return (
    <div role="tablist" aria-label="Jobs views" className="job-tabs" onKeyDown={onKey}>
      {TABS.map((t) => (
        <button
          key={t.id}
          id={`jobs-tab-${t.id}`}
          type="button"
          role="tab"
          aria-selected={tab === t.id}
          aria-controls={`jobs-panel-${t.id}`}
          tabIndex={tab === t.id ? 0 : -1}
          className={`job-tab ${tab === t.id ? 'active' : ''}`}
          onClick={() => setTab(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  )
}

function JobsPanel() {
  const detail = useJobsStore((s) => s.detail)
  const selected = useJobsStore((s) => s.selectedJobId)
  const detailError = useJobsStore((s) => s.detailError)
  const jobsError = useJobsStore((s) => s.jobsError)
  return (
    <div className="job-split">
      <div className="job-list-pane">
        {jobsError && (
          <div role="alert" className="error-box small">
            {jobsError}
          </div>
        )}
        <JobsList />
      </div>
      <div className="job-detail-pane">
        {detailError && (
          <div role="alert" className="error-box small">
            {detailError}
          </div>
        )}
        {detail && detail.id === selected ? (
          <JobDetailView detail={detail} />
        ) : selected ? (
          <Spinner label="Loading job…" />
        ) : (
          <p className="empty-note muted">Choose a job to see its state, log and metrics.</p>
        )}
      </div>
    </div>
  )
}

/** Jobs room: training jobs on this computer, SSH hosts and Slurm; their logs, metrics and sweeps. */
export function JobsRoom() {
  const tab = useJobsStore((s) => s.tab)
  const filter = useJobsStore((s) => s.stateFilter)
  const setFilter = useJobsStore((s) => s.setStateFilter)
  const submit = useJobsStore((s) => s.submit)
  const targetsOpen = useJobsStore((s) => s.targetsOpen)
  const notice = useJobsStore((s) => s.notice)
  const busy = useJobsStore((s) => s.busy)
  const jobs = useJobsStore((s) => s.jobs)
  const generation = useWorkspaceStore((s) => s.generation)

  useEffect(() => {
    const s = useJobsStore.getState()
    const off = s.subscribe()
    void s.loadJobs()
    void s.loadSweeps()
    void s.loadTargets()
    return off
  }, [generation])

  const counts = jobs.reduce<Record<string, number>>((a, j) => ((a[j.state] = (a[j.state] ?? 0) + 1), a), {})
  const activeCount = (counts.queued ?? 0) + (counts.starting ?? 0) + (counts.running ?? 0)

  return (
    <div className="job-room">
      <div className="job-bar job-toolbar">
        <Tabs />
        {tab === 'jobs' && (
          <label className="inline-field">
            <span>State</span>
            <select aria-label="Filter by state" value={filter} onChange={(e) => setFilter(e.target.value)}>
              <option value="all">All ({jobs.length})</option>
              <option value="active">Active ({activeCount})</option>
              {JOB_STATES.map((s) => (
                <option key={s} value={s}>
                  {s} ({counts[s] ?? 0})
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="muted job-notice" role="status">
          {busy ?? notice ?? ''}
        </span>
        <span className="spacer" />
        <button type="button" className="btn small ghost" onClick={() => useJobsStore.getState().showTargets(true)}>
          Job targets
        </button>
        <button type="button" className="btn small primary" onClick={() => useJobsStore.getState().openSubmit()}>
          New job
        </button>
      </div>
      <div className="job-panel" role="tabpanel" id={`jobs-panel-${tab}`} aria-labelledby={`jobs-tab-${tab}`}>
        {tab === 'jobs' ? <JobsPanel /> : <SweepsView />}
      </div>
      {submit && <SubmitDialog draft={submit} />}
      {targetsOpen && <TargetsDialog />}
    </div>
  )
}
