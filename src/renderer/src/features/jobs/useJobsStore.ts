import { create } from 'zustand'
import type { JobDetail, JobInfo, JobSpec, JobTarget, SweepConfig, SweepDetail, SweepInfo, TargetAvailability } from '../../../../shared/jobs'
import { call, onEvent } from '../../api/client'
import { toUiError } from '../../lib/errors'
import { plural } from '../../lib/format'
import { resubmitName } from './form'

export type JobsTab = 'jobs' | 'sweeps'

/** What the submit dialog opens with: a spec to edit (clone), a sweep, or an entry to prefill. */
export interface SubmitDraft {
  spec?: Partial<JobSpec>
  sweep?: SweepConfig
}

interface State {
  tab: JobsTab
  jobs: JobInfo[]
  jobsError: string | null
  loading: boolean
  stateFilter: string
  selectedJobId: string | null
  detail: JobDetail | null
  detailError: string | null
  sweeps: SweepInfo[]
  selectedSweepId: string | null
  sweep: SweepDetail | null
  sweepError: string | null
  targets: JobTarget[]
  /** Whether "Slurm on this machine" can take jobs (null: not known yet). */
  slurmHere: TargetAvailability | null
  /** Open submit dialog (null: closed). */
  submit: SubmitDraft | null
  targetsOpen: boolean
  /** A one-line outcome of the last action (cancel, resubmit…), read out by a status region. */
  notice: string | null
  actionError: string | null
  busy: string | null

  setTab(t: JobsTab): void
  setStateFilter(f: string): void
  loadJobs(): Promise<void>
  loadSweeps(): Promise<void>
  loadTargets(): Promise<void>
  selectJob(id: string | null): void
  refreshDetail(): Promise<void>
  selectSweep(id: string | null): void
  refreshSweep(): Promise<void>
  openSubmit(draft?: SubmitDraft): void
  closeSubmit(): void
  showTargets(open: boolean): void
  cancelJob(id: string): Promise<void>
  resubmit(id: string): Promise<void>
  stopSweep(id: string): Promise<void>
  /** Called by the dialog after a successful submit. */
  submitted(job: JobInfo | null, sweep: SweepDetail | null): void
  /** Called by the dialog when the job was created but its submission failed: it exists, as failed. */
  submitFailed(jobId: string, name: string, message: string): void
  subscribe(): () => void
}

const message = (e: unknown) => toUiError(e).message
let detailSeq = 0
let sweepSeq = 0

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id)
  if (i === -1) return [item, ...list]
  const next = list.slice()
  next[i] = item
  return next
}

export const useJobsStore = create<State>()((set, get) => ({
  tab: 'jobs',
  jobs: [],
  jobsError: null,
  loading: false,
  stateFilter: 'all',
  selectedJobId: null,
  detail: null,
  detailError: null,
  sweeps: [],
  selectedSweepId: null,
  sweep: null,
  sweepError: null,
  targets: [],
  slurmHere: null,
  submit: null,
  targetsOpen: false,
  notice: null,
  actionError: null,
  busy: null,

  setTab: (tab) => set({ tab }),
  setStateFilter: (stateFilter) => set({ stateFilter }),

  async loadJobs() {
    set({ loading: true })
    try {
      const jobs = await call('jobs.list', { limit: 5000 })
      set({ jobs, jobsError: null, loading: false })
    } catch (e) {
      set({ jobsError: message(e), loading: false })
    }
  },

  async loadSweeps() {
    try {
      set({ sweeps: await call('jobs.sweeps.list', {}) })
    } catch (e) {
      set({ sweepError: message(e) })
    }
  },

  async loadTargets() {
    try {
      set({ targets: await call('jobs.targets.list', {}) })
    } catch {
      // the form still offers Local and "Slurm on this machine"
    }
    try {
      set({ slurmHere: (await call('jobs.targets.availability', {})).slurmHere })
    } catch {
      set({ slurmHere: null })
    }
  },

  selectJob(id) {
    if (id === get().selectedJobId) return
    set({ selectedJobId: id, detail: null, detailError: null, actionError: null })
    if (id) void get().refreshDetail()
  },

  async refreshDetail() {
    const id = get().selectedJobId
    if (!id) return
    const seq = ++detailSeq
    try {
      const detail = await call('jobs.get', { jobId: id })
      if (seq === detailSeq && get().selectedJobId === id) set({ detail, detailError: null })
    } catch (e) {
      if (seq === detailSeq) set({ detailError: message(e) })
    }
  },

  selectSweep(id) {
    if (id === get().selectedSweepId) return
    set({ selectedSweepId: id, sweep: null, sweepError: null })
    if (id) void get().refreshSweep()
  },

  async refreshSweep() {
    const id = get().selectedSweepId
    if (!id) return
    const seq = ++sweepSeq
    try {
      const sweep = await call('jobs.sweeps.get', { sweepId: id })
      if (seq === sweepSeq && get().selectedSweepId === id) set({ sweep, sweepError: null })
    } catch (e) {
      if (seq === sweepSeq) set({ sweepError: message(e) })
    }
  },

  openSubmit: (draft = {}) => set({ submit: draft }),
  closeSubmit: () => set({ submit: null }),
  showTargets: (targetsOpen) => {
    set({ targetsOpen })
    if (!targetsOpen) void get().loadTargets()
  },

  async cancelJob(id) {
    set({ busy: 'Cancelling…', actionError: null })
    try {
      const job = await call('jobs.cancel', { jobId: id })
      set({ jobs: upsert(get().jobs, job), notice: `Cancel requested for ${job.name}.`, busy: null })
      void get().refreshDetail()
    } catch (e) {
      set({ actionError: message(e), busy: null })
    }
  },

  async resubmit(id) {
    set({ busy: 'Submitting…', actionError: null })
    try {
      const d = get().detail?.id === id ? get().detail! : await call('jobs.get', { jobId: id })
      const job = await call('jobs.submit', { spec: { ...d.spec, name: resubmitName(d.spec.name, get().jobs.map((j) => j.name)) } })
      set({ jobs: upsert(get().jobs, job), notice: `Submitted ${job.name} again.`, busy: null, stateFilter: 'all' })
      get().selectJob(job.id)
    } catch (e) {
      set({ actionError: message(e), busy: null })
    }
  },

  async stopSweep(id) {
    set({ busy: 'Stopping sweep…', sweepError: null })
    try {
      const sweep = await call('jobs.sweeps.stop', { sweepId: id })
      set({ sweep, sweeps: upsert(get().sweeps, sweep), notice: `Stopped sweep ${sweep.name}.`, busy: null })
      void get().loadJobs()
    } catch (e) {
      set({ sweepError: message(e), busy: null })
    }
  },

  submitFailed(jobId, name, message) {
    set({ submit: null, stateFilter: 'all', tab: 'jobs', notice: `${name} was not submitted: ${message}` })
    void get().loadJobs()
    get().selectJob(jobId)
  },

  submitted(job, sweep) {
    set({ submit: null, stateFilter: 'all' })
    if (job) {
      set({ jobs: upsert(get().jobs, job), tab: 'jobs', notice: `Submitted ${job.name}.` })
      get().selectJob(job.id)
    }
    if (sweep) {
      set({ sweeps: upsert(get().sweeps, sweep), tab: 'sweeps', notice: `Submitted sweep ${sweep.name} (${plural(sweep.trialCount, 'trial')}).` })
      get().selectSweep(sweep.id)
      set({ sweep })
      void get().loadJobs()
    }
  },

  subscribe() {
    // detail and sweep refetches are throttled: a busy job sends many status events
    let detailTimer: ReturnType<typeof setTimeout> | undefined
    let sweepTimer: ReturnType<typeof setTimeout> | undefined
    const offJob = onEvent('job.status', (job) => {
      set({ jobs: upsert(get().jobs, job) })
      if (job.id === get().selectedJobId && !detailTimer) {
        detailTimer = setTimeout(() => {
          detailTimer = undefined
          void get().refreshDetail()
        }, 400)
      }
    })
    const offSweep = onEvent('sweep.status', (sweep) => {
      const prev = get().sweeps.find((s) => s.id === sweep.id)
      set({ sweeps: upsert(get().sweeps, prev ? { ...prev, ...sweep } : sweep) })
      if (sweep.id === get().selectedSweepId && !sweepTimer) {
        sweepTimer = setTimeout(() => {
          sweepTimer = undefined
          void get().refreshSweep()
        }, 400)
      }
    })
    // a trial's job changing state changes the sweep's table too
    const offTrial = onEvent('job.status', (job) => {
      if (job.sweepId && job.sweepId === get().selectedSweepId && !sweepTimer) {
        sweepTimer = setTimeout(() => {
          sweepTimer = undefined
          void get().refreshSweep()
        }, 400)
      }
    })
    // points logged to the selected job's run (regex metrics from its log, or MLflow from the script)
    const offRun = onEvent('tracking.changed', (e) => {
      const d = get().detail
      if (d?.runId && e.runId === d.runId && d.id === get().selectedJobId && !detailTimer) {
        detailTimer = setTimeout(() => {
          detailTimer = undefined
          void get().refreshDetail()
        }, 400)
      }
    })
    return () => {
      offRun()
      clearTimeout(detailTimer)
      clearTimeout(sweepTimer)
      offJob()
      offSweep()
      offTrial()
    }
  }
}))
