/**
 * Sweeps: grid or random trials over a declared space. On Slurm the whole sweep is ONE job array
 * (`--array=0-(N-1)%C`); elsewhere trials are submitted as jobs, at most `concurrency` at a time,
 * the next ones as earlier ones end. The objective (a run metric, latest value) ranks the trials;
 * `stop` cancels every trial not yet finished.
 */
import { randomUUID } from 'node:crypto'
import type { EventName, Events } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { JobSpec, SweepConfig, SweepDetail, SweepInfo, SweepTrial } from '../../../shared/jobs'
import type { TrackingService } from '../tracking/TrackingService'
import type { JobService } from './JobService'
import type { JobRow, SweepRow } from './store'
import { bestTrial, checkSweep, trialsOf, type Trial } from './sweeps'
import { TERMINAL } from './types'

export class SweepRunner {
  private readonly seen = new Map<string, string>()

  constructor(
    private readonly jobs: JobService,
    private readonly tracking: TrackingService,
    private readonly emit: <E extends EventName>(event: E, payload: Events[E]) => void
  ) {}

  concurrencyOf(sweepId: string | null): number | undefined {
    if (!sweepId) return undefined
    const s = this.jobs.store.sweep(sweepId)
    return s ? (JSON.parse(s.config) as SweepConfig).concurrency : undefined
  }

  hasWork(): boolean {
    return this.jobs.store.runningSweeps().length > 0
  }

  async submit(spec: JobSpec, config: SweepConfig): Promise<SweepDetail> {
    const extra = checkSweep(config).map((e) => e)
    this.jobs.assertValid(spec, extra)
    await this.jobs.assertTargetAvailable(spec)
    const trials = trialsOf(config)
    if (trials.length === 0) throw new AppError('INVALID_SPEC', 'The sweep has no trials.', { fieldErrors: [{ field: 'sweep.space', message: 'no trials' }] })
    const id = randomUUID().replace(/-/g, '').slice(0, 16)
    this.jobs.store.insertSweep({
      id,
      name: spec.name,
      strategy: config.strategy,
      state: 'running',
      spec: JSON.stringify(spec),
      config: JSON.stringify(config),
      trials: JSON.stringify(trials),
      created_at: new Date().toISOString()
    })
    const base = { ...spec, hyperparameters: undefined }
    const merge = (t: Trial) => ({ ...(spec.hyperparameters ?? {}), ...t })
    try {
      if (spec.target.kind === 'slurm') {
        const rows = await this.jobs.createRows(base, trials.map(merge), { id, first: 0 })
        await this.jobs.launch(rows)
      } else if (spec.target.kind === 'sagemaker') {
        // SageMaker picks each trial's values: they are logged when it starts the trial
        const rows = await this.jobs.createRows(base, trials.map(() => ({ ...(spec.hyperparameters ?? {}) })), { id, first: 0 })
        const name = await this.jobs.submitTuning(rows, base, id, config)
        this.jobs.store.setSweepRemote(id, name, JSON.stringify(trials))
        this.jobs.kick()
      } else {
        await this.submitNext(this.jobs.store.sweep(id)!)
      }
    } catch (err) {
      this.jobs.store.setSweepState(id, 'stopped')
      throw err
    }
    this.changed(id)
    return this.get(id)
  }

  private queue: Promise<void> = Promise.resolve()

  /** Non-Slurm sweeps: submits trials while fewer than `concurrency` run (one caller at a time, so no trial is created twice). */
  private submitNext(s: SweepRow): Promise<void> {
    const run = this.queue.then(() => this.submitNextNow(this.jobs.store.sweep(s.id)!))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async submitNextNow(s: SweepRow): Promise<void> {
    if (s.state !== 'running') return
    const spec = JSON.parse(s.spec) as JobSpec
    if (spec.target.kind === 'slurm' || spec.target.kind === 'sagemaker') return
    const config = JSON.parse(s.config) as SweepConfig
    const trials = JSON.parse(s.trials) as Trial[]
    const rows = this.jobs.store.list({ sweepId: s.id, limit: 100_000 })
    const active = rows.filter((r) => !TERMINAL.has(r.state)).length
    const room = Math.min((config.concurrency ?? trials.length) - active, trials.length - rows.length)
    for (let i = 0; i < room; i++) {
      const index = rows.length + i
      const [row] = await this.jobs.createRows({ ...spec, hyperparameters: undefined }, [{ ...(spec.hyperparameters ?? {}), ...trials[index] }], { id: s.id, first: index })
      await this.jobs.launch([row]).catch(() => undefined) // the failure is on the trial's row
    }
  }

  async refresh(): Promise<void> {
    for (const s of this.jobs.store.runningSweeps()) {
      if (s.remote_id) await this.jobs.refreshTuning(s.id, s.remote_id).catch((err) => this.jobs.warn(`tuning job ${s.remote_id}`, err))
      await this.submitNext(s)
      const trials = JSON.parse(s.trials) as Trial[]
      const rows = this.jobs.store.list({ sweepId: s.id, limit: 100_000 })
      if (rows.length === trials.length && rows.every((r) => TERMINAL.has(r.state) && r.log_complete)) this.jobs.store.setSweepState(s.id, 'finished')
      this.changed(s.id)
    }
  }

  private changed(id: string): void {
    const info = this.info(this.jobs.store.sweep(id)!)
    const key = JSON.stringify(info)
    if (this.seen.get(id) === key) return
    this.seen.set(id, key)
    this.emit('sweep.status', info)
  }

  private objectiveOf(r: JobRow | undefined, metric: string | undefined): number | null {
    if (!r?.run_id || !metric) return null
    try {
      const m = this.tracking.runs.get(r.run_id).data.metrics.find((x) => x.key === metric)
      return m && typeof m.value === 'number' ? m.value : null
    } catch {
      return null
    }
  }

  private trialsOf(s: SweepRow): SweepTrial[] {
    const config = JSON.parse(s.config) as SweepConfig
    const trials = JSON.parse(s.trials) as Trial[]
    const spec = JSON.parse(s.spec) as JobSpec
    const byIndex = new Map(this.jobs.store.list({ sweepId: s.id, limit: 100_000 }).map((r) => [r.trial_index!, r]))
    return trials.map((t, i) => {
      const r = byIndex.get(i)
      return {
        index: i,
        hyperparameters: { ...(spec.hyperparameters ?? {}), ...t },
        jobId: r?.id ?? null,
        state: r ? r.state : s.state === 'stopped' ? 'cancelled' : 'pending',
        objective: this.objectiveOf(r, config.objective?.metric)
      }
    })
  }

  private info(s: SweepRow, trials = this.trialsOf(s)): SweepInfo {
    const config = JSON.parse(s.config) as SweepConfig
    return {
      id: s.id,
      name: s.name,
      strategy: s.strategy,
      state: s.state,
      createdAt: s.created_at,
      trialCount: trials.length,
      done: trials.filter((t) => t.state !== 'pending' && TERMINAL.has(t.state)).length,
      objective: config.objective ?? null,
      bestTrial: config.objective ? bestTrial(trials.map((t) => t.objective), config.objective.goal) : null
    }
  }

  list(): SweepInfo[] {
    return this.jobs.store.sweeps().map((s) => this.info(s))
  }

  get(id: string): SweepDetail {
    const s = this.jobs.store.sweep(id)
    if (!s) throw new AppError('NOT_FOUND', `No sweep with id ${id}`)
    const trials = this.trialsOf(s)
    return { ...this.info(s, trials), spec: JSON.parse(s.spec), config: JSON.parse(s.config), trials }
  }

  async stop(id: string): Promise<SweepDetail> {
    const s = this.jobs.store.sweep(id)
    if (!s) throw new AppError('NOT_FOUND', `No sweep with id ${id}`)
    if (s.state === 'running') {
      this.jobs.store.setSweepState(id, 'stopped')
      if (s.remote_id) await this.jobs.stopTuning(s.remote_id, JSON.parse(s.spec) as JobSpec)
      await this.jobs.cancelRows(this.jobs.store.list({ sweepId: id, limit: 100_000 }).filter((r) => !TERMINAL.has(r.state)))
      this.changed(id)
    }
    return this.get(id)
  }
}
