/** Jobs, targets and sweeps in the app database (migrations 003_jobs.sql, 006_job_file_tracking.sql). */
import type { AppDatabase } from '../../db'
import type { JobBackendKind, JobInfo, JobSpec, JobState, JobTarget, SweepConfig, TargetTracking } from '../../../shared/jobs'
import { cloudTrackingPlan, splitCloudConfig } from './cloudTracking'
import type { JobRef } from './types'

export interface JobRow {
  id: string
  name: string
  backend: JobBackendKind
  target_id: string | null
  target_name: string
  spec: string
  hyperparameters: string
  state: JobState
  remote_id: string | null
  exit_code: number | null
  reason: string | null
  submitted_at: string
  started_at: string | null
  ended_at: string | null
  run_id: string | null
  experiment_id: string | null
  sweep_id: string | null
  trial_index: number | null
  work_dir: string | null
  script: string | null
  log_path: string | null
  extra: string
  log_bytes: number
  log_lines: number
  metric_steps: string
  log_complete: number
  /** File-store ingestion offsets (FileStoreOffsets JSON). */
  tracking_files: string
}

export interface TargetRow {
  id: string
  name: string
  kind: 'ssh' | 'slurm' | 'sagemaker' | 'kubernetes'
  /** Cloud targets (table job_cloud_targets): their settings as JSON, without secrets. */
  config?: string | null
  ssh: string | null
  work_root: string | null
  partition: string | null
  tracking: TargetTracking
  created_at: string
}

export interface SweepRow {
  id: string
  name: string
  strategy: 'grid' | 'random'
  state: 'running' | 'finished' | 'stopped'
  spec: string
  config: string
  trials: string
  created_at: string
  /** SageMaker: the hyperparameter tuning job that runs this sweep. */
  remote_id?: string | null
}

export type StoredSsh = { host: string; port: number; username: string; privateKeyPath?: string; useAgent?: boolean }

export const DEFAULT_WORK_ROOT = '~/.atelier/jobs'

export function toJobInfo(r: JobRow): JobInfo {
  return {
    id: r.id,
    name: r.name,
    backend: r.backend,
    targetId: r.target_id,
    targetName: r.target_name,
    remoteId: r.remote_id,
    state: r.state,
    exitCode: r.exit_code,
    reason: r.reason,
    submittedAt: r.submitted_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    runId: r.run_id,
    experimentId: r.experiment_id,
    sweepId: r.sweep_id,
    trialIndex: r.trial_index,
    hyperparameters: JSON.parse(r.hyperparameters)
  }
}

export function toRef(r: JobRow): JobRef {
  return { id: r.id, remoteId: r.remote_id, workDir: r.work_dir, logPath: r.log_path, extra: JSON.parse(r.extra) }
}

/** A job row as the service sees it: `target_id` names the target, whichever table holds it. */
const JOB_COLS = 'jobs.*, COALESCE(target_id, cloud_target_id) AS target_id'

export function isCloud(kind: string): kind is 'sagemaker' | 'kubernetes' {
  return kind === 'sagemaker' || kind === 'kubernetes'
}

interface CloudRow {
  id: string
  name: string
  kind: 'sagemaker' | 'kubernetes'
  config: string
  created_at: string
}

function fromCloud(c: CloudRow): TargetRow {
  return { id: c.id, name: c.name, kind: c.kind, config: c.config, ssh: null, work_root: null, partition: null, tracking: 'direct', created_at: c.created_at }
}

export class JobStore {
  constructor(private readonly db: AppDatabase) {}

  insertJob(r: Pick<JobRow, 'id' | 'name' | 'backend' | 'target_id' | 'target_name' | 'spec' | 'hyperparameters' | 'submitted_at'> & Partial<JobRow>): void {
    // a cloud target is referenced from its own column (jobs.target_id references job_targets)
    const row: Record<string, unknown> = isCloud(r.backend) ? { ...r, target_id: null, cloud_target_id: r.target_id } : { ...r }
    const cols = Object.keys(row)
    this.db.prepare(`INSERT INTO jobs (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`).run(row)
  }

  update(id: string, patch: Partial<JobRow>): JobRow {
    const cols = Object.keys(patch).filter((k) => k !== 'id')
    if (cols.length > 0) this.db.prepare(`UPDATE jobs SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...patch, id })
    return this.get(id)!
  }

  get(id: string): JobRow | undefined {
    return this.db.prepare(`SELECT ${JOB_COLS} FROM jobs WHERE id = ?`).get(id) as JobRow | undefined
  }

  list(filter: { states?: JobState[]; sweepId?: string; limit?: number } = {}): JobRow[] {
    const where: string[] = []
    const args: unknown[] = []
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`)
      args.push(...filter.states)
    }
    if (filter.sweepId) {
      where.push('sweep_id = ?')
      args.push(filter.sweepId)
    }
    const sql = `SELECT ${JOB_COLS} FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY submitted_at DESC, trial_index ASC LIMIT ?`
    return this.db.prepare(sql).all(...args, filter.limit ?? 1000) as JobRow[]
  }

  /** Jobs whose state can still change or whose log has not been read to its end. */
  unfinished(): JobRow[] {
    return this.db
      .prepare(`SELECT ${JOB_COLS} FROM jobs WHERE state IN ('queued', 'starting', 'running') OR log_complete = 0 ORDER BY submitted_at`)
      .all() as JobRow[]
  }

  // ---------- targets ----------
  targets(): TargetRow[] {
    const hosts = this.db.prepare('SELECT * FROM job_targets').all() as TargetRow[]
    const cloud = (this.db.prepare('SELECT * FROM job_cloud_targets').all() as CloudRow[]).map(fromCloud)
    return [...hosts, ...cloud].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  target(id: string): TargetRow | undefined {
    const host = this.db.prepare('SELECT * FROM job_targets WHERE id = ?').get(id) as TargetRow | undefined
    if (host) return host
    const cloud = this.db.prepare('SELECT * FROM job_cloud_targets WHERE id = ?').get(id) as CloudRow | undefined
    return cloud ? fromCloud(cloud) : undefined
  }

  saveTarget(t: TargetRow): void {
    if (isCloud(t.kind)) {
      this.db
        .prepare(
          `INSERT INTO job_cloud_targets (id, name, kind, config, created_at) VALUES (@id, @name, @kind, @config, @created_at)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, config = excluded.config`
        )
        .run({ id: t.id, name: t.name, kind: t.kind, config: t.config ?? '{}', created_at: t.created_at })
      return
    }
    this.db
      .prepare(
        `INSERT INTO job_targets (id, name, kind, ssh, work_root, partition, tracking, created_at) VALUES (@id, @name, @kind, @ssh, @work_root, @partition, @tracking, @created_at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, ssh = excluded.ssh, work_root = excluded.work_root, partition = excluded.partition, tracking = excluded.tracking`
      )
      .run(t)
  }

  removeTarget(id: string): void {
    this.db.prepare('DELETE FROM job_targets WHERE id = ?').run(id)
    this.db.prepare('DELETE FROM job_cloud_targets WHERE id = ?').run(id)
  }

  // ---------- sweeps ----------
  insertSweep(r: SweepRow): void {
    this.db
      .prepare('INSERT INTO job_sweeps (id, name, strategy, state, spec, config, trials, created_at) VALUES (@id, @name, @strategy, @state, @spec, @config, @trials, @created_at)')
      .run(r)
  }

  sweep(id: string): SweepRow | undefined {
    return this.db.prepare('SELECT * FROM job_sweeps WHERE id = ?').get(id) as SweepRow | undefined
  }

  sweeps(): SweepRow[] {
    return this.db.prepare('SELECT * FROM job_sweeps ORDER BY created_at DESC').all() as SweepRow[]
  }

  runningSweeps(): SweepRow[] {
    return this.db.prepare("SELECT * FROM job_sweeps WHERE state = 'running'").all() as SweepRow[]
  }

  setSweepRemote(id: string, remoteId: string, trials: string): void {
    this.db.prepare('UPDATE job_sweeps SET remote_id = ?, trials = ? WHERE id = ?').run(remoteId, trials, id)
  }

  setSweepState(id: string, state: SweepRow['state']): void {
    this.db.prepare('UPDATE job_sweeps SET state = ? WHERE id = ?').run(state, id)
  }
}

export function toTarget(t: TargetRow, hasPassphrase: boolean, hasTrackingToken = false): JobTarget {
  const ssh = t.ssh ? (JSON.parse(t.ssh) as StoredSsh) : null
  if (isCloud(t.kind)) {
    const { settings: config, trackingUri } = splitCloudConfig(t.config)
    return {
      id: t.id,
      name: t.name,
      kind: t.kind,
      ssh: null,
      workRoot: '',
      partition: null,
      tracking: 'direct',
      sagemaker: t.kind === 'sagemaker' ? { ...(config as { region: string; roleArn: string; bucket: string }), hasKeys: hasPassphrase } : null,
      kubernetes: t.kind === 'kubernetes' ? config : null,
      trackingUri,
      hasTrackingToken,
      cloudTracking: cloudTrackingPlan(t.kind, trackingUri)
    }
  }
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    ssh: ssh ? { ...ssh, hasPassphrase } : null,
    workRoot: t.work_root ?? DEFAULT_WORK_ROOT,
    partition: t.partition,
    tracking: t.tracking ?? 'direct'
  }
}

export type { JobSpec, SweepConfig }
