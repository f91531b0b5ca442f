/**
 * The one backend interface behind every place a job can run. A backend turns a prepared job into
 * something running on its target and answers, for many jobs at once, where they stand. Kubernetes
 * and SageMaker slot in as new kinds implementing the same five calls.
 */
import type { JobBackendKind, JobSpec, JobState } from '../../../shared/jobs'

/** A job as the backends see it: the row's facts that locate it on the target. */
export interface JobRef {
  id: string
  remoteId: string | null
  workDir: string | null
  logPath: string | null
  extra: Record<string, unknown>
}

/** What the service prepares before a backend submits: the command line and its environment. */
export interface PreparedTask {
  jobId: string
  /** Per-trial (a sweep's array task) or per-job: HP_* and MLFLOW_RUN_ID differ. */
  env: Record<string, string>
  /** The shell command that runs the entry (already quoted), run in `<workDir>/src`. */
  command: string
  hyperparameters: Record<string, string | number | boolean>
}

export interface PreparedJob {
  /** The job (or, for a Slurm array, the sweep) whose folder holds the files. */
  folderId: string
  name: string
  spec: JobSpec
  /** Source files to ship (relative paths under `sourceDir`); plus generated files (notebook → script). */
  sourceDir: string | null
  files: string[]
  generated: Record<string, string>
  /** Shared environment (tracking URI/token, user vars). */
  env: Record<string, string>
  /** Files written into the job folder (paths relative to it): the shipped `atelier` package, a file store's meta.yaml. */
  support?: Record<string, string>
  /** Shell lines run after the environment is exported (e.g. PYTHONPATH prepended to what modules set). */
  shell?: string[]
  /** One task per job; several for a Slurm array (trial index = position). */
  tasks: PreparedTask[]
  /** Array throttle (`%C`). */
  concurrency?: number
}

export interface Submitted {
  /** Per task, in order: the remote id (`1234`, `1234_0`, `pid@host`), stored before submit returns. */
  remoteIds: string[]
  workDir: string
  /** Per task, the log file on the target. */
  logPaths: string[]
  script: string
  extra?: Record<string, unknown>
}

export interface StatusUpdate {
  state: JobState
  exitCode?: number | null
  reason?: string | null
}

export interface JobBackend {
  readonly kind: JobBackendKind
  /** The absolute folder on the target that a job (or a Slurm array) with this folder id uses. */
  workDirOf(folderId: string): Promise<string>
  /** Ships files and starts the job(s); throws SLURM_REJECTED / SSH_* / JOB_ERROR with the target's words. */
  submit(job: PreparedJob, active?: JobRef[]): Promise<Submitted>
  /** Where each job stands, in one round trip to the target (one squeue for all Slurm jobs). */
  poll(jobs: JobRef[]): Promise<Map<string, StatusUpdate>>
  /**
   * Bytes of the job's log from `fromByte` (at most `maxBytes`); empty when nothing new. `final`: the
   * job has ended, so what the provider holds now is read once more whatever the rate limit (a job
   * that ends between two throttled reads would otherwise lose its last lines).
   */
  readLog(job: JobRef, fromByte: number, maxBytes: number, opts?: { final?: boolean }): Promise<Buffer>
  cancel(jobs: JobRef[]): Promise<void>
  /** Whether another job may start now (local concurrency / GPUs); absent = always. */
  hasCapacity?(spec: JobSpec, active: JobRef[]): boolean
  dispose(): Promise<void>
}

export interface FileToWrite {
  path: string
  content: string
  /** Default 0o644. */
  mode?: number
}

/** How commands and files reach a target: this machine, or a host over SSH. */
export interface Runner {
  readonly label: string
  readonly local: boolean
  /** Runs a bash script (login shell remotely, so cluster PATHs and modules apply). */
  sh(script: string, opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>
  /** Absolute form of a path that may start with `~/`. */
  resolve(path: string): Promise<string>
  /** Writes files, creating their folders first (over SSH: one command for all the folders, not one per file). */
  writeFiles(files: FileToWrite[]): Promise<void>
  /** Copies `files` (relative to localDir) to remoteDir, creating folders. */
  upload(localDir: string, files: string[], remoteDir: string): Promise<void>
  read(path: string, fromByte: number, maxBytes: number): Promise<Buffer>
  close(): Promise<void>
}

export const TERMINAL = new Set<JobState>(['succeeded', 'failed', 'cancelled', 'lost'])
