/**
 * Training jobs: validate → store the job (queued) → create its tracking run → submit through the
 * backend → store the remote id, all before `submit` returns. A poll loop (fast right after a
 * submit, 1 s while jobs are active, stopped when none are) asks each backend where its jobs
 * stand in one round trip, tails their logs (regex metrics → run metrics), ends the run, and
 * re-attaches every unfinished job when the app starts. Sweeps: see SweepRunner.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join, posix } from 'node:path'
import type { EventName, Events } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import { JobSpecSchema, type SweepConfig, type FieldError, type CloudTrackingPlan, type JobDetail, type JobInfo, type JobLogPage, type JobSpec, type TargetAvailability } from '../../../shared/jobs'
import type { AppDatabase } from '../../db'
import type { Logger } from '../../log'
import type { SecretStore } from '../secrets/SecretStore'
import type { KnownHostsStore } from '../ssh/connect'
import type { TrackingService } from '../tracking/TrackingService'
import { Backends, type BackendFactoryDeps } from './backends'
import { HostBackend } from './HostBackend'
import { LogFiles, wholeLines } from './logs'
import { folderIdOf, prepareJob, runTags } from './prepare'
import { fileStoreSeed, parseOffsets, readNew, TRIAL_RUN, trialRunId, type FileStoreOffsets } from './fileStore'
import { shippedPythonFiles } from './shippedPython'
import { checkSpec, gitCommit, q } from './spec'
import { DEFAULT_WORK_ROOT, isCloud, JobStore, toJobInfo, toRef, type JobRow, type TargetRow } from './store'
import { logRegexMetrics } from './metrics'
import { SageMakerBackend } from './SageMakerBackend'
import { SlurmBackend } from './SlurmBackend'
import { SweepRunner } from './SweepRunner'
import { awsKeysSecret, JobTargets } from './targets'
import { TrackingBridge } from './trackingBridge'
import { cloudTrackingEnv, cloudTrackingPlan, SAGEMAKER_OUTPUT_DATA, splitCloudConfig, trackingTokenSecret, unpackTarball } from './cloudTracking'
import { LocalRunner } from './runners'
import { TERMINAL, type JobBackend, type PreparedJob, type Runner, type StatusUpdate } from './types'
import { MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, validateMetric, validateParam, validateTag } from '../tracking/validate'

export interface JobServiceDeps {
  db: AppDatabase
  dataDir: string
  tracking: TrackingService
  secrets: Pick<SecretStore, 'get' | 'set' | 'delete'>
  knownHosts: KnownHostsStore
  emit: <E extends EventName>(event: E, payload: Events[E]) => void
  log: Logger
  /** Default workspace folder (the spec's sourceDir default). */
  workspacePath: () => string | null
  /** Interpreter for local jobs (default python3). */
  localPython?: () => string | null
  slurmEnv?: Record<string, string>
  localConcurrency?: number
  /** GPU indices here (default: detected with nvidia-smi by the caller). */
  localGpus?: number[]
  pollMs?: number
  /** Poll interval during the first seconds after a submit (so `running` is seen promptly). */
  fastPollMs?: number
  graceSeconds?: number
  /** Settings for every SageMaker / Kubernetes backend (poll and log intervals; tests). */
  cloud?: BackendFactoryDeps['cloud']
  /** First wait before a failed download of a SageMaker job's output data is tried again (doubling, at most 10 min). */
  outputRetryMs?: number
}

const LOG_CHUNK = 1 << 20

/** `{ fileStore: <mlruns folder on the target> }` for a job whose tracking URI is a file store. */
function fileStoreOf(job: PreparedJob, backend: JobBackend): { fileStore?: string; outputFileStore?: string } {
  const uri = job.env.MLFLOW_TRACKING_URI
  if (!uri?.startsWith('file:')) return {}
  // SageMaker: the store travels in the job's output data, read once the job has ended
  return backend instanceof SageMakerBackend ? { outputFileStore: uri.slice('file:'.length) } : { fileStore: uri.slice('file:'.length) }
}
const readdirSafe = (dir: string): string[] => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
const now = () => new Date().toISOString()
const RUN_STATUS = { succeeded: 'FINISHED', failed: 'FAILED', cancelled: 'KILLED', lost: 'FAILED' } as const

export class JobService {
  readonly store: JobStore
  readonly backends: Backends
  readonly sweeps: SweepRunner
  readonly targets: JobTargets
  private readonly bridge: TrackingBridge
  private readonly logFiles = new LogFiles()
  /** SageMaker jobs whose output data could not be downloaded: failures so far, and when to try again. */
  private readonly outputRetry = new Map<string, { failures: number; at: number }>()
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private disposed = false
  private fastUntil = 0
  /** Polls made (one per backend per tick); the bench reads it. */
  polls = 0

  constructor(private readonly d: JobServiceDeps) {
    this.store = new JobStore(d.db)
    this.backends = new Backends({
      dataDir: d.dataDir,
      log: d.log,
      knownHosts: d.knownHosts,
      passphrase: (id) => d.secrets.get(`jobs.target.${id}.passphrase`),
      slurmEnv: d.slurmEnv,
      localConcurrency: d.localConcurrency ?? 4,
      localGpus: d.localGpus ?? [],
      graceSeconds: d.graceSeconds,
      awsKeys: (id) => {
        const keys = d.secrets.get(awsKeysSecret(id))
        return keys ? JSON.parse(keys) : undefined
      },
      cloud: d.cloud
    })
    this.sweeps = new SweepRunner(this, d.tracking, d.emit)
    this.targets = new JobTargets({ store: this.store, backends: this.backends, secrets: d.secrets })
    this.bridge = new TrackingBridge(d.tracking, d.log, d.secrets, join(d.dataDir, 'jobs', 'tracking-relay.json'))
  }

  /** Re-attaches every unfinished job (called once at start). */
  start(): void {
    // trials of a tuning job get their remote ids as SageMaker starts them
    const tuned = new Set(this.store.runningSweeps().filter((s) => s.remote_id).map((s) => s.id))
    const stale = this.store.unfinished().filter((r) => !r.remote_id && r.backend !== 'local' && !TERMINAL.has(r.state) && !(r.sweep_id && tuned.has(r.sweep_id)))
    for (const r of stale) this.finish(r, { state: 'lost', reason: 'the app stopped before the submission completed' })
    // jobs still running here log into their runs through the relay: bind it again at its old address
    if (this.store.unfinished().length > 0 && existsSync(this.bridge.relayFile ?? '')) this.bridge.relay().catch((err) => this.d.log.warn('the job tracking relay did not start', err))
    this.kick()
  }

  // ---------- validation & submission ----------

  private target(spec: JobSpec): TargetRow | null {
    return spec.target.kind === 'local' || !spec.target.targetId ? null : (this.store.target(spec.target.targetId) ?? null)
  }

  sourceDirOf(spec: JobSpec): string | null {
    return spec.sourceDir ?? this.d.workspacePath()
  }

  validate(input: unknown): FieldError[] {
    const parsed = JobSpecSchema.safeParse(input)
    if (!parsed.success) return parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }))
    const spec = parsed.data
    const t = this.target(spec)
    const targetExists = spec.target.kind === 'local' || (spec.target.kind === 'slurm' && !spec.target.targetId) || (t !== null && t.kind === spec.target.kind)
    const gpus = spec.target.kind === 'local' ? (this.d.localGpus ?? []).length : null
    return checkSpec(spec, { sourceDir: this.sourceDirOf(spec), gpus, backend: spec.target.kind, targetExists })
  }

  assertValid(spec: JobSpec, extra: FieldError[] = []): void {
    const fieldErrors = [...this.validate(spec), ...extra]
    if (fieldErrors.length > 0) {
      throw new AppError('INVALID_SPEC', `The job spec has ${fieldErrors.length} problem(s): ${fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { fieldErrors })
    }
  }

  /** Slurm on this machine: can it take jobs (sbatch installed, controller up)? Cached by the backend. */
  async slurmHere(refresh = false): Promise<TargetAvailability> {
    const b = await this.backends.get('slurm', null)
    return b instanceof SlurmBackend ? b.available(refresh) : { ok: true, message: '', detail: null }
  }

  /** The target's problems as field errors (none when it can take the job). */
  async targetProblems(spec: JobSpec): Promise<FieldError[]> {
    if (spec.target.kind !== 'slurm' || spec.target.targetId) return []
    const a = await this.slurmHere()
    return a.ok ? [] : [{ field: 'target', message: a.message }]
  }

  /** Refuses, before anything is created, a job for a target that cannot take it (asking afresh). */
  async assertTargetAvailable(spec: JobSpec): Promise<void> {
    if (spec.target.kind !== 'slurm' || spec.target.targetId) return
    const a = await this.slurmHere(true)
    if (!a.ok) throw new AppError('TARGET_UNAVAILABLE', a.message, { target: 'slurm', detail: a.detail, fieldErrors: [{ field: 'target', message: a.message }] })
  }

  async submit(spec: JobSpec): Promise<JobInfo> {
    this.assertValid(spec)
    await this.assertTargetAvailable(spec)
    const [row] = await this.createRows(spec, [spec.hyperparameters ?? {}], null)
    try {
      await this.launch([row])
    } catch (err) {
      // the job exists (failed, with the reason): say which, so that the caller can show it
      if (err instanceof AppError) throw new AppError(err.code, err.message, { ...(err.details ?? {}), jobId: row.id })
      throw err
    }
    return toJobInfo(this.store.get(row.id)!)
  }

  /** Job rows (state queued) with their tracking runs, one per hyperparameter set. */
  async createRows(spec: JobSpec, hps: Record<string, string | number | boolean>[], sweep: { id: string; first: number } | null): Promise<JobRow[]> {
    const t = this.target(spec)
    const src = this.sourceDirOf(spec)
    const commit = src ? await gitCommit(src) : null
    const experimentId = this.experiment(spec.experimentName ?? 'Jobs')
    const rows: JobRow[] = []
    for (const [i, hp] of hps.entries()) {
      const id = randomUUID().replace(/-/g, '').slice(0, 16)
      const trial = sweep ? sweep.first + i : null
      const name = sweep ? `${spec.name} #${trial}` : spec.name
      this.store.insertJob({
        id,
        name,
        backend: spec.target.kind,
        target_id: t?.id ?? null,
        target_name: t?.name ?? (spec.target.kind === 'local' ? 'This machine' : 'Slurm (this machine)'),
        spec: JSON.stringify(spec),
        hyperparameters: JSON.stringify(hp),
        submitted_at: now(),
        sweep_id: sweep?.id ?? null,
        trial_index: trial
      })
      const tags = runTags(spec, { id, target: t?.name ?? spec.target.kind, commit, sweep: sweep ? { id: sweep.id, trial: trial! } : null })
      const run = this.d.tracking.runs.create({ experimentId, runName: name, tags })
      const params = Object.entries(hp).map(([key, v]) => ({ key, value: String(v) }))
      if (params.length) this.d.tracking.runs.logBatch(run.info.run_id, [], params, [])
      this.d.tracking.changed(experimentId, run.info.run_id)
      rows.push(this.store.update(id, { run_id: run.info.run_id, experiment_id: experimentId }))
    }
    return rows
  }

  private experiment(name: string): string {
    try {
      return this.d.tracking.experiments.getByName(name).experiment_id
    } catch {
      return this.d.tracking.experiments.create(name, undefined)
    }
  }

  async backendOf(row: Pick<JobRow, 'backend' | 'target_id'>): Promise<JobBackend> {
    const t = row.target_id ? (this.store.target(row.target_id) ?? null) : null
    if (row.backend !== 'local' && row.target_id && !t) throw new AppError('NOT_FOUND', 'The target of this job was removed.')
    return this.backends.get(row.backend, t)
  }

  /** Submits rows that share one spec: one job, or all trials of a Slurm array. Leaves local jobs queued while no slot is free. */
  async launch(rows: JobRow[]): Promise<void> {
    if (rows.some((r) => this.launching.has(r.id))) return
    for (const r of rows) this.launching.add(r.id)
    try {
      await this.launchNow(rows)
    } finally {
      for (const r of rows) this.launching.delete(r.id)
    }
  }

  /** Jobs whose submission is in flight (the poll loop must not start them a second time). */
  private readonly launching = new Set<string>()

  private async launchNow(rows: JobRow[]): Promise<void> {
    const first = rows[0]
    const spec = JSON.parse(first.spec) as JobSpec
    const backend = await this.backendOf(first)
    const active = this.store.list({ states: ['starting', 'running', 'queued'], limit: 100_000 }).filter((r) => r.backend === first.backend && r.target_id === first.target_id && r.remote_id)
    if (backend.hasCapacity && !backend.hasCapacity(spec, active.map(toRef))) {
      this.kick()
      return
    }
    try {
      const prepared = await this.prepare(rows, spec, backend)
      const cloud = this.cloudTracking(spec)
      const sub = await (backend instanceof HostBackend ? backend.submit(prepared, active.map(toRef)) : backend.submit(prepared))
      const local = (backend as { runner?: { local: boolean } }).runner?.local ?? false
      rows.forEach((r, i) => {
        const extra = { ...(sub.extra ?? {}), localLog: local ? sub.logPaths[i] : join(this.backends.jobsRoot, r.id, 'output.log'), ...fileStoreOf(prepared, backend), ...(cloud ? { tracking: cloud.plan } : {}) }
        const updated = this.store.update(r.id, { remote_id: sub.remoteIds[i], work_dir: sub.workDir, log_path: sub.logPaths[i], script: sub.script, extra: JSON.stringify(extra) })
        this.d.emit('job.status', toJobInfo(updated))
      })
      if (first.run_id) this.d.tracking.runs.logBatch(first.run_id, [], [], [{ key: 'atelier.job.remote_id', value: sub.remoteIds[0] }])
      for (const r of rows.slice(1)) if (r.run_id) this.d.tracking.runs.logBatch(r.run_id, [], [], [{ key: 'atelier.job.remote_id', value: sub.remoteIds[rows.indexOf(r)] }])
    } catch (err) {
      const reason = err instanceof AppError ? err.message : `submission failed: ${(err as Error).message}`
      for (const r of rows) this.finish(this.store.get(r.id)!, { state: 'failed', reason })
      throw err
    } finally {
      this.fastUntil = Date.now() + 15_000
      this.kick()
    }
  }

  /**
   * The job's files and environment. Every job gets the shipped `atelier` package (lib/ on its
   * PYTHONPATH); a target whose jobs cannot reach the tracking server gets a file store in the job
   * folder, seeded with the runs' meta.yaml, instead of the server's address.
   */
  private async prepare(rows: JobRow[], spec: JobSpec, backend: JobBackend): Promise<PreparedJob> {
    const workDir = await backend.workDirOf(folderIdOf(rows))
    const cloud = this.cloudTracking(spec)
    const mlruns = !cloud && this.target(spec)?.tracking === 'file' ? posix.join(workDir, 'mlruns') : null
    // a cloud job never gets the relay's loopback address: a server it can reach, its own file store, or nothing
    const tracking = cloud ? cloud.env : mlruns ? { MLFLOW_TRACKING_URI: `file:${mlruns}` } : await this.bridge.envFor(backend)
    const job = await prepareJob(rows, spec, {
      sourceDir: this.sourceDirOf(spec),
      python: spec.target.kind === 'local' ? (this.d.localPython?.() ?? 'python3') : 'python3',
      env: { PYTHONUNBUFFERED: '1', ...tracking, ...(spec.env?.vars ?? {}) },
      concurrency: rows.length > 1 ? this.sweeps.concurrencyOf(rows[0].sweep_id) : undefined
    })
    // the runs' meta.yaml in the store the job writes (a SageMaker job's is in its container)
    const store = mlruns ?? (cloud?.env.MLFLOW_TRACKING_URI?.startsWith('file:') ? cloud.env.MLFLOW_TRACKING_URI.slice('file:'.length) : null)
    const seed = store
      ? fileStoreSeed({ mlruns: store, experimentId: rows[0].experiment_id ?? '0', experimentName: spec.experimentName ?? 'Jobs', runs: rows.filter((r) => r.run_id).map((r) => ({ runId: r.run_id!, runName: r.name })), now: Date.now() })
      : {}
    job.support = { ...shippedPythonFiles('lib'), ...seed }
    job.shell = [`export PYTHONPATH=${q(posix.join(workDir, 'lib'))}"\${PYTHONPATH:+:\$PYTHONPATH}"`]
    return job
  }

  /** A cloud target's tracking: the job environment and what it means for the user (null for other targets). */
  private cloudTracking(spec: JobSpec): { env: Record<string, string>; plan: CloudTrackingPlan } | null {
    const t = this.target(spec)
    if (!t || !isCloud(t.kind)) return null
    const { trackingUri } = splitCloudConfig(t.config)
    const token = trackingUri ? this.d.secrets.get(trackingTokenSecret(t.id)) : undefined
    return { env: cloudTrackingEnv(t.kind, trackingUri, token), plan: cloudTrackingPlan(t.kind, trackingUri) }
  }

  // ---------- reading ----------

  list(filter: { states?: JobRow['state'][]; sweepId?: string; limit?: number }): JobInfo[] {
    return this.store.list(filter).map(toJobInfo)
  }

  require(jobId: string): JobRow {
    const r = this.store.get(jobId)
    if (!r) throw new AppError('NOT_FOUND', `No job with id ${jobId}`)
    return r
  }

  get(jobId: string): JobDetail {
    const r = this.require(jobId)
    const metrics: Record<string, number> = {}
    if (r.run_id) {
      try {
        for (const m of this.d.tracking.runs.get(r.run_id).data.metrics) if (typeof m.value === 'number') metrics[m.key] = m.value
      } catch {
        /* run deleted */
      }
    }
    return { ...toJobInfo(r), spec: JSON.parse(r.spec), workDir: r.work_dir, script: r.script, metrics, tracking: (JSON.parse(r.extra).tracking as CloudTrackingPlan | undefined) ?? null }
  }

  private localLog(r: JobRow): string {
    return (JSON.parse(r.extra).localLog as string | undefined) ?? join(this.backends.jobsRoot, r.id, 'output.log')
  }

  async logs(jobId: string, fromLine = 0, maxLines = 10_000): Promise<JobLogPage> {
    const r = this.require(jobId)
    const done = r.log_complete === 1
    if (!existsSync(this.localLog(r))) return { jobId, fromLine, lines: [], totalLines: 0, complete: done }
    const page = await this.logFiles.page(this.localLog(r), fromLine, maxLines, done)
    // only lines the poller has consumed, so `job.log` events and pages agree
    const total = done ? page.totalLines : Math.min(page.totalLines, r.log_lines)
    return { jobId, fromLine, lines: page.lines.slice(0, Math.max(0, total - fromLine)), totalLines: total, complete: done }
  }

  // ---------- cancel ----------

  async cancel(jobId: string): Promise<JobInfo> {
    const r = this.require(jobId)
    if (TERMINAL.has(r.state)) return toJobInfo(r)
    await this.cancelRows([r])
    return toJobInfo(this.store.get(jobId)!)
  }

  async cancelRows(rows: JobRow[]): Promise<void> {
    const live = rows.filter((r) => !TERMINAL.has(r.state))
    const groups = new Map<string, JobRow[]>()
    for (const r of live) groups.set(this.backends.key(r.backend, r.target_id), [...(groups.get(this.backends.key(r.backend, r.target_id)) ?? []), r])
    for (const g of groups.values()) {
      const submitted = g.filter((r) => r.remote_id)
      // terminal first, so a refresh during the kill's grace period does not call the job lost
      for (const r of g) this.finish(this.store.get(r.id)!, { state: 'cancelled', reason: 'cancelled by the user' })
      if (submitted.length) await (await this.backendOf(g[0])).cancel(submitted.map(toRef))
    }
    this.kick()
  }

  // ---------- the poll loop ----------

  /** Schedules a tick soon (after a submit, at start). */
  kick(): void {
    if (this.disposed || this.ticking) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => this.tick(), 0)
  }

  private schedule(): void {
    if (this.disposed) return
    const work = this.store.unfinished().length > 0 || this.sweeps.hasWork()
    if (!work) return
    const ms = Date.now() < this.fastUntil ? (this.d.fastPollMs ?? 100) : (this.d.pollMs ?? 1000)
    this.timer = setTimeout(() => this.tick(), ms)
  }

  /** One refresh of every unfinished job; resolves when done (tests and the bench await it). */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.ticking = this.refresh()
      .catch((err) => this.d.log.warn('job refresh failed', err))
      .finally(() => {
        this.ticking = null
        this.schedule()
      })
    return this.ticking
  }

  private async refresh(): Promise<void> {
    const rows = this.store.unfinished()
    const groups = new Map<string, JobRow[]>()
    for (const r of rows) groups.set(this.backends.key(r.backend, r.target_id), [...(groups.get(this.backends.key(r.backend, r.target_id)) ?? []), r])
    await Promise.all(
      [...groups.values()].map(async (g) => {
        let backend: JobBackend
        try {
          backend = await this.backendOf(g[0])
        } catch (err) {
          for (const r of g) if (!TERMINAL.has(r.state)) this.finish(r, { state: 'lost', reason: (err as Error).message })
          return
        }
        const live = g.filter((r) => !TERMINAL.has(r.state) && r.remote_id)
        if (live.length > 0) {
          this.polls++
          try {
            const statuses = await backend.poll(live.map(toRef))
            for (const r of live) {
              const s = statuses.get(r.id)
              if (!s) continue
              this.apply(r.id, s)
              if (s.state === 'succeeded' && backend instanceof SageMakerBackend) await this.recordModelArtifact(backend, r)
            }
          } catch (err) {
            this.d.log.warn(`status of ${live.length} job(s) on ${g[0].target_name} unavailable`, err)
          }
        }
        for (const r of g) {
          // the file store before the log: a job is complete once both are read to their end
          const stored = await this.ingestFileStore(backend, this.store.get(r.id)!).then(
            (done) => done !== false,
            (err) => (this.d.log.warn(`metrics file store of job ${r.id}`, err), false)
          )
          await this.tail(backend, this.store.get(r.id)!, stored).catch((err) => this.d.log.warn(`log of job ${r.id}`, err))
        }
        // local jobs waiting for a slot
        for (const r of g.filter((x) => x.state === 'queued' && !x.remote_id && x.backend === 'local' && !this.launching.has(x.id))) {
          if (this.disposed) break
          const fresh = this.store.get(r.id)!
          if (fresh.state !== 'queued' || fresh.remote_id) continue
          await this.launch([fresh]).catch((err) => this.d.log.warn(`could not start job ${r.id}`, err))
        }
      })
    )
    await this.sweeps.refresh()
  }

  /**
   * A sweep on SageMaker as one hyperparameter tuning job: every trial has its row (and run) from
   * the start; trials take SageMaker's training jobs in the order it creates them.
   */
  async submitTuning(rows: JobRow[], spec: JobSpec, sweepId: string, config: SweepConfig): Promise<string> {
    const backend = await this.backendOf(rows[0])
    if (!(backend instanceof SageMakerBackend)) throw new AppError('JOB_ERROR', 'Tuning jobs run on SageMaker only.')
    const prepared = await this.prepare(rows, spec, backend)
    // one definition for all trials: no per-trial run id or job id in its environment
    const { MLFLOW_RUN_ID: _r, ATELIER_JOB_ID: _j, ...env } = prepared.tasks[0].env
    const task = { ...prepared.tasks[0], jobId: sweepId, env, hyperparameters: (spec.hyperparameters ?? {}) as Record<string, string | number | boolean> }
    // a file store gets one run folder to be named after the trial's training job, not one per row
    const store = fileStoreOf(prepared, backend).outputFileStore
    const experimentId = rows[0].experiment_id ?? '0'
    const support = store
      ? {
          ...Object.fromEntries(Object.entries(prepared.support ?? {}).filter(([rel]) => !rel.startsWith('mlruns/'))),
          ...fileStoreSeed({ mlruns: store, experimentId, experimentName: spec.experimentName ?? 'Jobs', runs: [{ runId: TRIAL_RUN, runName: TRIAL_RUN }], now: Date.now() })
        }
      : prepared.support
    try {
      const { tuningJobName } = await backend.submitSweep({ ...prepared, support, tasks: [task] }, sweepId, config)
      const cloud = this.cloudTracking(spec)
      for (const r of rows) {
        const extra = { ...JSON.parse(r.extra), ...(store ? { outputFileStore: store } : {}), ...(cloud ? { tracking: cloud.plan } : {}) }
        this.store.update(r.id, { extra: JSON.stringify(extra) })
      }
      return tuningJobName
    } catch (err) {
      for (const r of rows) this.finish(this.store.get(r.id)!, { state: 'failed', reason: (err as Error).message })
      throw err
    }
  }

  warn(message: string, err: unknown): void {
    this.d.log.warn(message, err)
  }

  async stopTuning(tuningJobName: string, spec: JobSpec): Promise<void> {
    const backend = await this.backendOf({ backend: 'sagemaker', target_id: spec.target.kind === 'sagemaker' ? spec.target.targetId : null })
    if (backend instanceof SageMakerBackend) await backend.stopSweep(tuningJobName).catch((err) => this.d.log.warn(`stopping tuning job ${tuningJobName}`, err))
  }

  /** Where a tuning job stands: its training jobs become the trials' remote ids, states and hyperparameters. */
  async refreshTuning(sweepId: string, tuningJobName: string): Promise<void> {
    const rows = this.store.list({ sweepId, limit: 100_000 }).sort((a, b) => (a.trial_index ?? 0) - (b.trial_index ?? 0))
    if (!rows.length) return
    const backend = await this.backendOf(rows[0])
    if (!(backend instanceof SageMakerBackend)) return
    const st = await backend.sweepStatus(tuningJobName)
    const sweep = this.store.sweep(sweepId)!
    const trials = JSON.parse(sweep.trials) as Record<string, unknown>[]
    let adopted = false
    for (const [i, t] of st.trials.entries()) {
      const r = rows[i]
      if (!r) break
      if (!r.remote_id) {
        // SageMaker chose this trial's values (strings): numbers stay numbers
        const tuned = Object.fromEntries(Object.entries(t.hyperparameters).map(([k, v]) => [k, v !== '' && !isNaN(Number(v)) ? Number(v) : v]))
        const hp = { ...JSON.parse(r.hyperparameters), ...tuned }
        this.store.update(r.id, { remote_id: t.trainingJobName, log_path: `/aws/sagemaker/TrainingJobs/${t.trainingJobName}`, hyperparameters: JSON.stringify(hp) })
        if (r.run_id) {
          const params = Object.entries(tuned).map(([key, value]) => ({ key, value: String(value) }))
          this.d.tracking.runs.logBatch(r.run_id, [], [], [{ key: 'atelier.job.remote_id', value: t.trainingJobName }])
          if (params.length) this.d.tracking.runs.logBatch(r.run_id, [], params.filter((p) => !this.d.tracking.runs.get(r.run_id!).data.params.some((x) => x.key === p.key)), [])
        }
        if (i < trials.length) trials[i] = { ...trials[i], ...tuned }
        adopted = true
      }
      const before = this.store.get(r.id)!
      this.apply(r.id, { state: t.state, exitCode: t.state === 'succeeded' ? 0 : t.state === 'failed' ? 1 : null, reason: t.reason ?? (t.state === 'succeeded' ? 'Completed' : null) })
      if (t.state === 'succeeded' && !TERMINAL.has(before.state)) await this.recordModelArtifact(backend, this.store.get(r.id)!)
    }
    if (adopted) this.store.setSweepRemote(sweepId, tuningJobName, JSON.stringify(trials))
    if (['Completed', 'Stopped', 'Failed'].includes(st.status)) {
      for (const r of rows.slice(st.trials.length)) this.finish(this.store.get(r.id)!, { state: 'cancelled', reason: `the tuning job ended (${st.status}) without this trial` })
    }
  }

  /** The output model.tar.gz of a completed SageMaker job, as a tag of its run. */
  private async recordModelArtifact(backend: SageMakerBackend, r: JobRow): Promise<void> {
    if (!r.run_id || !r.remote_id) return
    try {
      const uri = await backend.modelArtifact(r.remote_id)
      if (!uri) return
      this.d.tracking.runs.logBatch(r.run_id, [], [], [{ key: 'atelier.job.model_artifact', value: uri }])
      this.d.tracking.changed(r.experiment_id ?? '0', r.run_id)
    } catch (err) {
      this.d.log.warn(`model artifact of SageMaker job ${r.remote_id}`, err)
    }
  }

  /** A state change from the backend: row, events, and the run's end when terminal. */
  private apply(id: string, s: StatusUpdate): void {
    const r = this.store.get(id)!
    if (TERMINAL.has(r.state)) return
    if (TERMINAL.has(s.state)) return this.finish(r, s)
    if (r.state === s.state && (s.reason ?? null) === r.reason) return
    const started = (s.state === 'running' || s.state === 'starting') && !r.started_at ? now() : r.started_at
    this.d.emit('job.status', toJobInfo(this.store.update(id, { state: s.state, reason: s.reason ?? null, started_at: started })))
  }

  finish(r: JobRow, s: StatusUpdate): void {
    if (TERMINAL.has(r.state)) return
    const t = now()
    const updated = this.store.update(r.id, {
      state: s.state,
      exit_code: s.exitCode ?? null,
      reason: s.reason ?? null,
      ended_at: t,
      started_at: r.started_at ?? (s.state === 'succeeded' || s.state === 'failed' ? t : null)
    })
    if (r.run_id) {
      try {
        const info = this.d.tracking.runs.update(r.run_id, { status: RUN_STATUS[s.state as keyof typeof RUN_STATUS], endTime: Date.now() })
        this.d.tracking.changed(info.experiment_id, r.run_id)
      } catch (err) {
        this.d.log.warn(`could not end run ${r.run_id}`, err)
      }
    }
    this.d.emit('job.status', toJobInfo(updated))
  }

  /**
   * Reads what is new in the job's file store (jobs that cannot reach the tracking server) into its
   * run: points from each metrics file's stored offset, params and tags that changed; points and
   * offsets in one transaction. After the job ended, reads until nothing is left.
   */
  private async ingestFileStore(backend: JobBackend, r: JobRow): Promise<boolean | void> {
    if (backend instanceof SageMakerBackend) return this.ingestOutputFileStore(backend, r)
    const mlruns = JSON.parse(r.extra).fileStore as string | undefined
    const runner = (backend as { runner?: Runner }).runner
    if (!mlruns || !runner || !r.run_id || !r.remote_id || r.log_complete) return
    await this.ingestRunDir(runner, posix.join(mlruns, r.experiment_id ?? '0', r.run_id), r)
  }

  /**
   * A SageMaker job's file store arrives in its output.tar.gz once the job has ended: downloaded,
   * unpacked in the job's folder here, and read like any other (by the stored offsets, so a second
   * read, after a crash or restart, adds nothing twice). No output (a job stopped early) is nothing to read.
   * A download that fails (S3 refusing the keys, say) is tried again later, waiting longer each time,
   * not on every refresh; false means "not read yet".
   */
  private async ingestOutputFileStore(backend: SageMakerBackend, r: JobRow): Promise<boolean> {
    const inJob = JSON.parse(r.extra).outputFileStore as string | undefined
    if (!inJob || !r.run_id || !r.remote_id || r.log_complete || !TERMINAL.has(r.state)) return true
    const dir = join(this.backends.jobsRoot, r.id, 'output-data')
    if (!existsSync(dir)) {
      const retry = this.outputRetry.get(r.id)
      if (retry && Date.now() < retry.at) return false
      let tarball: Buffer | null
      try {
        tarball = await backend.outputData(r.remote_id)
      } catch (err) {
        const failures = (retry?.failures ?? 0) + 1
        this.outputRetry.set(r.id, { failures, at: Date.now() + Math.min(10 * 60_000, (this.d.outputRetryMs ?? 5000) * 2 ** (failures - 1)) })
        throw err
      }
      this.outputRetry.delete(r.id)
      if (!tarball) return true
      await unpackTarball(tarball, dir)
    }
    // the store's path inside the output data folder (/opt/ml/output/data/mlruns → mlruns)
    const mlruns = join(dir, posix.relative(SAGEMAKER_OUTPUT_DATA, inJob))
    // a tuning trial's run is named after its training job (see TRIAL_RUN)
    const ids = [r.run_id, ...(r.sweep_id ? [trialRunId(r.remote_id)] : [])]
    const runDir = ids.flatMap((id) => [join(mlruns, r.experiment_id ?? '0', id), ...readdirSafe(mlruns).map((e) => join(mlruns, e, id))]).find((d) => existsSync(d))
    if (runDir) await this.ingestRunDir(new LocalRunner(), runDir, r)
    return true
  }

  private async ingestRunDir(runner: Runner, runDir: string, r: JobRow): Promise<void> {
    let offsets = parseOffsets(r.tracking_files)
    for (let round = 0; round < 64 && !this.disposed; round++) {
      const got = await readNew(runner, runDir, offsets)
      const changed = got.metrics.length + got.params.length + got.tags.length > 0 || JSON.stringify(got.offsets) !== JSON.stringify(offsets)
      if (!changed) break
      this.storeFileStorePoints(r, got, got.offsets)
      offsets = got.offsets
      if (!got.more) break
    }
  }

  private storeFileStorePoints(r: JobRow, got: Awaited<ReturnType<typeof readNew>>, offsets: FileStoreOffsets): void {
    const runId = r.run_id!
    const drop = (what: string, fn: () => void) => {
      try {
        fn()
        return true
      } catch (err) {
        this.d.log.warn(`job ${r.id}: skipped ${what} from its file store: ${(err as Error).message}`)
        return false
      }
    }
    const known = new Set<string>()
    const metrics = got.metrics.filter((m) => drop(`metric ${m.key}`, () => validateMetric(m, known)))
    let logged: Map<string, string>
    try {
      logged = new Map(this.d.tracking.runs.get(runId).data.params.map((p) => [p.key, p.value]))
    } catch {
      return void this.store.update(r.id, { tracking_files: JSON.stringify(offsets) }) // the run was deleted
    }
    // a param keeps its first value (MLflow's rule); one logged again with the same value is no change
    const params = got.params.filter((p) => {
      if (!logged.has(p.key)) return drop(`param ${p.key}`, () => validateParam(p))
      if (logged.get(p.key) !== p.value) this.d.log.warn(`job ${r.id}: param ${p.key} is ${logged.get(p.key)} in its run; the file store's ${p.value} is not taken`)
      return false
    })
    const tags = got.tags.filter((t) => drop(`tag ${t.key}`, () => validateTag(t)))
    if (got.bad > 0) this.d.log.warn(`job ${r.id}: ${got.bad} line(s) of its file store's metrics are not "timestamp value step"; skipped`)
    this.d.db.transaction(() => {
      for (let i = 0; i < Math.max(params.length, tags.length); i += MAX_PARAMS_TAGS_PER_BATCH) {
        this.d.tracking.runs.logBatch(runId, [], params.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH), tags.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH))
      }
      for (let i = 0; i < metrics.length; i += MAX_METRICS_PER_BATCH) this.d.tracking.runs.logBatch(runId, metrics.slice(i, i + MAX_METRICS_PER_BATCH), [], [])
      this.store.update(r.id, { tracking_files: JSON.stringify(offsets) })
    })()
    if (metrics.length + params.length + tags.length > 0) this.d.tracking.changed(r.experiment_id ?? '0', runId)
  }

  /** Reads what is new in the job's log: mirror it, parse metrics, emit lines; marks it complete after the end (when `mayComplete`). */
  private async tail(backend: JobBackend, r: JobRow, mayComplete = true): Promise<void> {
    if (r.log_complete) return
    const ended = TERMINAL.has(r.state)
    if (!r.remote_id || !r.log_path) {
      if (ended) this.store.update(r.id, { log_complete: 1 })
      return
    }
    const ref = toRef(r)
    const local = this.localLog(r) === r.log_path
    let bytes = r.log_bytes
    let lineNo = r.log_lines
    const steps = JSON.parse(r.metric_steps) as Record<string, number>
    for (let round = 0; round < 64; round++) {
      const chunk = await backend.readLog(ref, bytes, LOG_CHUNK, { final: ended })
      const whole = wholeLines(chunk, ended && chunk.length < LOG_CHUNK)
      if (whole.bytes === 0) break
      if (!local) await this.logFiles.append(this.localLog(r), chunk.subarray(0, whole.bytes))
      logRegexMetrics(this.d, r, whole.lines, steps)
      this.d.emit('job.log', { jobId: r.id, fromLine: lineNo, lines: whole.lines })
      bytes += whole.bytes
      lineNo += whole.lines.length
      this.store.update(r.id, { log_bytes: bytes, log_lines: lineNo, metric_steps: JSON.stringify(steps) })
      if (chunk.length < LOG_CHUNK) break
    }
    if (ended && mayComplete) {
      this.store.update(r.id, { log_complete: 1 })
      this.d.emit('job.status', toJobInfo(this.store.get(r.id)!))
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.ticking?.catch(() => undefined)
    await this.backends.dispose()
    this.bridge.close()
  }
}

export { DEFAULT_WORK_ROOT }
