/**
 * Training jobs: the part of the WorkbenchApi contract for jobs, targets and sweeps.
 * `api.ts` spreads `jobRequests()` into its request table and merges `JobResults`/`JobEvents`
 * into `Results`/`Events`, so this file is the one place the jobs surface is declared.
 *
 * One backend interface (submit, status, logs, cancel, reattach) sits behind these methods;
 * `kind` names the backend, so Kubernetes and SageMaker slot in as new kinds without a UI change.
 */
import { z } from 'zod'

const id = z.string().min(1).max(200)
const path = z.string().min(1).max(4096)

export const JOB_BACKENDS = ['local', 'ssh', 'slurm', 'sagemaker', 'kubernetes'] as const
export type JobBackendKind = (typeof JOB_BACKENDS)[number]

export const JOB_STATES = ['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled', 'lost'] as const
export type JobState = (typeof JOB_STATES)[number]
export const TERMINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'lost']

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only, not starting with a digit')
const hpValue = z.union([z.string().max(1000), z.number().finite(), z.boolean()])

/**
 * What the user asks for. The schema checks shapes; the service checks meaning (paths exist,
 * the target supports GPUs, the partition is named…) and answers INVALID_SPEC with
 * `details.fieldErrors: {field, message}[]` before anything is submitted.
 */
export const JobSpecSchema = z
  .object({
    name: z
      .string()
      .min(1, 'give the job a name')
      .max(120)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._ -]*$/, 'letters, digits, space, dot, dash and underscore only'),
    /** Where it runs: the laptop, or a saved target (`jobs.targets.*`) of kind ssh or slurm. */
    target: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('local') }).strict(),
      z.object({ kind: z.literal('ssh'), targetId: id }).strict(),
      /** Without targetId: the Slurm CLI on this machine (sbatch/squeue on PATH). */
      z.object({ kind: z.literal('slurm'), targetId: id.optional() }).strict(),
      z.object({ kind: z.literal('sagemaker'), targetId: id }).strict(),
      z.object({ kind: z.literal('kubernetes'), targetId: id }).strict()
    ]),
    entry: z.discriminatedUnion('kind', [
      /** A Python script, relative to sourceDir. */
      z.object({ kind: z.literal('script'), path, args: z.array(z.string().max(4096)).max(200).optional() }).strict(),
      z.object({ kind: z.literal('module'), module: z.string().regex(/^[A-Za-z_][\w.]*$/), args: z.array(z.string().max(4096)).max(200).optional() }).strict(),
      /** A shell command line, run with bash -c in sourceDir. */
      z.object({ kind: z.literal('command'), command: z.string().min(1).max(100_000) }).strict(),
      /** A .ipynb converted to a script (code cells in order; magics and shell escapes commented out). */
      z.object({ kind: z.literal('notebook'), path }).strict()
    ]),
    /** Packaged and synced (honouring .gitignore). Defaults to the open workspace. */
    sourceDir: path.optional(),
    env: z
      .object({
        /** Interpreter on the target (default: the selected interpreter locally, `python3` remotely). */
        python: z.string().min(1).max(4096).optional(),
        condaEnv: z.string().min(1).max(200).optional(),
        vars: z.record(envName, z.string().max(100_000)).optional(),
        /** Slurm `module load` lines (module names). */
        modules: z.array(z.string().regex(/^[\w./+-]+$/, 'a module name like cuda/12.1')).max(50).optional()
      })
      .strict()
      .optional(),
    /** Passed as `--name value` arguments and HP_NAME variables, logged as run params. */
    hyperparameters: z.record(z.string().regex(/^[A-Za-z_][\w.-]*$/), hpValue).optional(),
    resources: z
      .object({
        cpus: z.number().int().min(1).max(1024).optional(),
        memoryMb: z.number().int().min(16).max(16_000_000).optional(),
        gpus: z.number().int().min(0).max(64).optional(),
        timeLimitMin: z.number().int().min(1).max(525_600).optional(),
        partition: z.string().regex(/^[\w.-]+$/).max(100).optional(),
        nodes: z.number().int().min(1).max(1024).optional(),
        /**
         * (Multi-node) PyTorch: srun + torchrun, one launcher per node, the rendezvous on the first
         * node (Slurm only). nprocPerNode: processes per node (default: the GPU count, else 1).
         */
        torchrun: z.object({ nprocPerNode: z.number().int().min(1).max(64).optional() }).strict().optional()
      })
      .strict()
      .optional(),
    inputs: z.array(path).max(100).optional(),
    /** Where the job writes results (relative paths are under the job's directory on the target). */
    outputDir: z.string().min(1).max(4096).optional(),
    /** For jobs that don't use MLflow: metric name + regex with one capture group over each log line. */
    metricDefinitions: z
      .array(
        z
          .object({
            name: z.string().regex(/^[\w./ -]+$/).max(250),
            regex: z.string().min(1).max(1000)
          })
          .strict()
      )
      .max(50)
      .optional(),
    /** SageMaker training: image (framework from the shipped table, or a custom URI) and instances. */
    sagemaker: z
      .object({
        framework: z.enum(['sklearn', 'pytorch', 'xgboost']).optional(),
        frameworkVersion: z.string().max(50).optional(),
        imageUri: z.string().min(1).max(2048).optional(),
        instanceType: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'an instance type like ml.m5.large'),
        instanceCount: z.number().int().min(1).max(100).optional(),
        volumeSizeGb: z.number().int().min(1).max(16_384).optional(),
        maxRuntimeSec: z.number().int().min(60).max(28 * 86_400).optional(),
        /** Managed spot training; maxWaitSec ≥ maxRuntimeSec. */
        spot: z.object({ maxWaitSec: z.number().int().min(60).max(28 * 86_400) }).strict().optional()
      })
      .strict()
      .optional(),
    /** Kubernetes: the container image and scheduling; workers > 0 (or torchrun) makes a PyTorchJob. */
    kubernetes: z
      .object({
        image: z.string().min(1).max(2048),
        workers: z.number().int().min(0).max(1000).optional(),
        nodeSelector: z.record(z.string().max(317), z.string().max(63)).optional(),
        tolerations: z
          .array(
            z
              .object({
                key: z.string().max(317).optional(),
                operator: z.enum(['Exists', 'Equal']).optional(),
                value: z.string().max(63).optional(),
                effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional()
              })
              .strict()
          )
          .max(50)
          .optional()
      })
      .strict()
      .optional(),
    /** Experiment the job's run goes into (created if missing). Default: "Jobs". */
    experimentName: z.string().min(1).max(500).optional()
  })
  .strict()
export type JobSpec = z.infer<typeof JobSpecSchema>

/** An SSH login (kernels' tunnels and job targets share it). */
export const SshConnectionSchema = z
  .object({
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).optional(),
    username: z.string().min(1).max(128),
    privateKeyPath: path.optional(),
    /** Kept in the secret store, never in the database. */
    passphrase: z.string().max(1024).optional(),
    useAgent: z.boolean().optional(),
    /** SHA256 fingerprint the user accepted after an SSH_HOST_KEY error. */
    acceptHostKey: z.string().max(200).optional()
  })
  .strict()

export const SageMakerTargetSchema = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region like eu-west-1'),
    roleArn: z.string().min(1).max(2048),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
    prefix: z.string().max(1024).optional(),
    profile: z.string().regex(/^[\w.@-]+$/).max(128).optional(),
    /** Endpoint overrides (VPC endpoints, S3-compatible stores). */
    endpoint: z.string().url().max(2048).optional(),
    s3Endpoint: z.string().url().max(2048).optional(),
    /** Kept in the secret store, never in the database; absent keeps the stored keys. */
    accessKeyId: z.string().max(128).optional(),
    secretAccessKey: z.string().max(1024).optional(),
    sessionToken: z.string().max(4096).optional()
  })
  .strict()

export const KubernetesTargetSchema = z
  .object({
    kubeconfigPath: path.optional(),
    context: z.string().max(253).optional(),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name').max(63).optional(),
    /** How code reaches the pods: a ConfigMap (folders up to about 1 MiB) or S3; unset: a ConfigMap while it fits, else S3 when `s3` is set. */
    codeFrom: z.enum(['configmap', 's3']).optional(),
    /** Where `sourcedir.tar.gz` goes for code from S3; the pods download it through a presigned URL (no AWS credentials in the cluster). */
    s3: z
      .object({
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
        prefix: z.string().max(1024).optional(),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region like eu-west-1'),
        profile: z.string().regex(/^[\w.@-]+$/).max(128).optional(),
        endpoint: z.string().url().max(2048).optional(),
        /** Kept in the secret store, never in the database; absent keeps the stored keys. */
        accessKeyId: z.string().max(128).optional(),
        secretAccessKey: z.string().max(1024).optional(),
        sessionToken: z.string().max(4096).optional()
      })
      .strict()
      .optional(),
    /** Image of the init container that fetches the code from S3 (needs sh, curl and tar). */
    fetchImage: z.string().min(1).max(2048).optional()
  })
  .strict()

/** A saved place to run jobs: an SSH GPU host, or a Slurm cluster reached over SSH (login node) or locally. */
export const JobTargetSchema = z
  .object({
    id: id.optional(),
    name: z.string().min(1).max(200),
    kind: z.enum(['ssh', 'slurm', 'sagemaker', 'kubernetes']),
    /** Required for ssh; for slurm, absent means the local Slurm CLI. */
    ssh: SshConnectionSchema.optional(),
    /** Directory on the target under which each job gets its own folder (default ~/.atelier/jobs). */
    workRoot: z.string().min(1).max(4096).optional(),
    /** Slurm: default partition. */
    partition: z.string().regex(/^[\w.-]+$/).max(100).optional(),
    /**
     * Whether the tracking server is reachable from where this target's jobs run: 'direct' (default),
     * or 'file' (jobs write MLflow's file store in their folder, `MLFLOW_TRACKING_URI=file:…`, and the
     * app reads it into their runs while they run and once more at the end).
     */
    tracking: z.enum(['direct', 'file']).optional(),
    /** SageMaker: where jobs run and store code/outputs. Credentials: the profile or the SDK's chain, or keys kept in the secret store. */
    sagemaker: SageMakerTargetSchema.optional(),
    /** Kubernetes: kubeconfig (default ~/.kube/config or $KUBECONFIG), context and namespace; credentials stay in the kubeconfig. */
    kubernetes: KubernetesTargetSchema.optional()
  })
  .strict()
export type TargetTracking = 'direct' | 'file'
export type JobTargetInput = z.infer<typeof JobTargetSchema>

export const SweepSpaceSchema = z.record(
  z.string().regex(/^[A-Za-z_][\w.-]*$/),
  z.union([
    z.object({ values: z.array(hpValue).min(1).max(1000) }).strict(),
    z
      .object({
        min: z.number().finite(),
        max: z.number().finite(),
        log: z.boolean().optional(),
        integer: z.boolean().optional()
      })
      .strict()
      .refine((r) => r.max > r.min, 'max must be greater than min')
  ])
)

export const SweepConfigSchema = z
  .object({
    strategy: z.enum(['grid', 'random']),
    space: SweepSpaceSchema,
    /** Random search: how many trials (grid: the grid size, capped by this when given). */
    maxTrials: z.number().int().min(1).max(1000).optional(),
    /** How many trials run at once (a Slurm array's `%N`). */
    concurrency: z.number().int().min(1).max(1000).optional(),
    seed: z.number().int().optional(),
    /** The metric that ranks trials (a run metric: logged with MLflow or parsed from the log). */
    objective: z.object({ metric: z.string().min(1).max(250), goal: z.enum(['minimize', 'maximize']) }).strict().optional()
  })
  .strict()
export type SweepConfig = z.infer<typeof SweepConfigSchema>

export function jobRequests() {
  const jobId = id
  return {
    /** Checks a spec without submitting: field-level errors, empty when valid. */
    'jobs.validate': z.object({ spec: JobSpecSchema }).strict(),
    'jobs.submit': z.object({ spec: JobSpecSchema }).strict(),
    'jobs.list': z
      .object({
        states: z.array(z.enum(JOB_STATES)).max(JOB_STATES.length).optional(),
        sweepId: id.optional(),
        limit: z.number().int().min(1).max(10_000).optional()
      })
      .strict(),
    'jobs.get': z.object({ jobId }).strict(),
    'jobs.cancel': z.object({ jobId }).strict(),
    /** Lines of the job's combined log, by line number; `follow` in the UI = `job.log` events. */
    'jobs.logs': z
      .object({
        jobId,
        fromLine: z.number().int().min(0).optional(),
        maxLines: z.number().int().min(1).max(200_000).optional()
      })
      .strict(),
    'jobs.targets.list': z.object({}).strict(),
    /** Whether the built-in targets work here (Slurm on this machine: sbatch present, controller up); cached, `refresh` asks again. */
    'jobs.targets.availability': z.object({ refresh: z.boolean().optional() }).strict(),
    'jobs.targets.save': z.object({ target: JobTargetSchema }).strict(),
    'jobs.targets.remove': z.object({ targetId: id }).strict(),
    /** Connects and reports what the target has (python, sbatch, GPUs); host-key errors surface here. */
    'jobs.targets.test': z.object({ targetId: id }).strict(),
    /** SageMaker: the most a job can cost (on-demand price × instances × max runtime), from the shipped price table. */
    'jobs.estimateCost': z.object({ spec: JobSpecSchema }).strict(),
    'jobs.sweeps.submit': z.object({ spec: JobSpecSchema, sweep: SweepConfigSchema }).strict(),
    'jobs.sweeps.list': z.object({}).strict(),
    'jobs.sweeps.get': z.object({ sweepId: id }).strict(),
    /** Early stop: cancels every trial not yet finished. */
    'jobs.sweeps.stop': z.object({ sweepId: id }).strict()
  } as const
}

export interface FieldError {
  /** Dotted path into the spec, e.g. `resources.gpus`. */
  field: string
  message: string
}

export interface JobInfo {
  id: string
  name: string
  backend: JobBackendKind
  targetId: string | null
  targetName: string
  /** The scheduler's or host's id (Slurm job id, `pid@host`…); stored before submit returns. */
  remoteId: string | null
  state: JobState
  exitCode: number | null
  /** Why it is in this state (Slurm reason, signal, "node lost"…). */
  reason: string | null
  submittedAt: string
  startedAt: string | null
  endedAt: string | null
  /** The tracking run this job logs to. */
  runId: string | null
  experimentId: string | null
  sweepId: string | null
  trialIndex: number | null
  hyperparameters: Record<string, string | number | boolean>
}

export interface JobDetail extends JobInfo {
  spec: JobSpec
  /** Where the job's files live on the target. */
  workDir: string | null
  /** The generated sbatch script or launcher, for the user to read. */
  script: string | null
  /** Latest value of each run metric (from MLflow logging or the log regexes). */
  metrics: Record<string, number>
}

export interface JobLogPage {
  jobId: string
  fromLine: number
  lines: string[]
  /** Lines known so far. */
  totalLines: number
  /** True when the job has ended and the whole log has been read. */
  complete: boolean
}

export interface JobTarget {
  id: string
  name: string
  kind: 'ssh' | 'slurm' | 'sagemaker' | 'kubernetes'
  /** Without secrets; `hasKeys` says whether access keys are kept in the secret store. */
  sagemaker?: { region: string; roleArn: string; bucket: string; prefix?: string; profile?: string; endpoint?: string; s3Endpoint?: string; hasKeys: boolean } | null
  kubernetes?: {
    kubeconfigPath?: string
    context?: string
    namespace?: string
    codeFrom?: 'configmap' | 's3'
    s3?: { bucket: string; prefix?: string; region: string; profile?: string; endpoint?: string }
    fetchImage?: string
  } | null
  /** Without secrets; `hasPassphrase` says whether one is kept in the secret store. */
  ssh: { host: string; port: number; username: string; privateKeyPath?: string; useAgent?: boolean; hasPassphrase: boolean } | null
  workRoot: string
  partition: string | null
  tracking: TargetTracking
}

/** Whether a target can take jobs now (a cheap check, cached by the service). */
export interface TargetAvailability {
  ok: boolean
  /** One sentence for the user; when not ok, it quotes the tool's own error. */
  message: string
  /** The check's whole output, verbatim. */
  detail: string | null
}

export interface CostEstimate {
  instanceType: string
  instanceCount: number
  hours: number
  /** On-demand price per instance-hour; null when the type is not in the table. */
  pricePerHour: number | null
  maxCost: number | null
  currency: string
}

export interface TargetTestResult {
  ok: boolean
  message: string
  python: string | null
  slurm: { version: string; partitions: string[] } | null
  gpus: string[]
}

export interface SweepTrial {
  index: number
  hyperparameters: Record<string, string | number | boolean>
  jobId: string | null
  state: JobState | 'pending'
  objective: number | null
}

export interface SweepInfo {
  id: string
  name: string
  strategy: 'grid' | 'random'
  state: 'running' | 'finished' | 'stopped'
  createdAt: string
  trialCount: number
  done: number
  objective: { metric: string; goal: 'minimize' | 'maximize' } | null
  bestTrial: number | null
}

export interface SweepDetail extends SweepInfo {
  spec: JobSpec
  config: SweepConfig
  trials: SweepTrial[]
}

export interface JobResults {
  'jobs.validate': { fieldErrors: FieldError[] }
  'jobs.submit': JobInfo
  'jobs.list': JobInfo[]
  'jobs.get': JobDetail
  'jobs.cancel': JobInfo
  'jobs.logs': JobLogPage
  'jobs.targets.list': JobTarget[]
  'jobs.targets.availability': { slurmHere: TargetAvailability }
  'jobs.targets.save': JobTarget
  'jobs.targets.remove': { ok: true }
  'jobs.targets.test': TargetTestResult
  'jobs.estimateCost': CostEstimate
  'jobs.sweeps.submit': SweepDetail
  'jobs.sweeps.list': SweepInfo[]
  'jobs.sweeps.get': SweepDetail
  'jobs.sweeps.stop': SweepDetail
}

export interface JobLogEvent {
  jobId: string
  /** Line number of lines[0]. */
  fromLine: number
  lines: string[]
}

export interface JobEvents {
  /** Any change of state, remote id, exit code or metrics. */
  'job.status': JobInfo
  /** New log lines as they arrive (batched, at most a few per second per job). */
  'job.log': JobLogEvent
  'sweep.status': SweepInfo
}

export function jobEventNames() {
  return ['job.status', 'job.log', 'sweep.status'] as const
}
