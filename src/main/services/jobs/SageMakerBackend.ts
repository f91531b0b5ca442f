/**
 * Jobs as SageMaker training jobs. The source folder (the files the service listed, .gitignore
 * honoured) is packed as `sourcedir.tar.gz`, uploaded to the target's S3 prefix and named in the
 * framework containers' `sagemaker_program` / `sagemaker_submit_directory` hyperparameters.
 * Job names derive from Atelier's job id, so a retried submit can never start a second job.
 * Status is one paged `ListTrainingJobs` for every tracked job (plus one `DescribeTrainingJob` when
 * a job fails, for its reason); logs follow the per-host streams in `/aws/sagemaker/TrainingJobs`.
 * The SDK's adaptive retry absorbs throttling as a delay.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import {
  CreateHyperParameterTuningJobCommand,
  CreateTrainingJobCommand,
  DescribeHyperParameterTuningJobCommand,
  ListTrainingJobsForHyperParameterTuningJobCommand,
  StopHyperParameterTuningJobCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  StopTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type TrainingInstanceType,
  type TrainingJobSummary
} from '@aws-sdk/client-sagemaker'
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types'
import { AppError } from '../../../shared/errors'
import type { JobSpec, JobState, SweepConfig } from '../../../shared/jobs'
import type { JobBackend, JobRef, PreparedJob, StatusUpdate, Submitted } from './types'
import { TRIAL_RUN } from './fileStore'

export interface SageMakerTargetConfig {
  region: string
  roleArn: string
  bucket: string
  /** Key prefix under the bucket for code and outputs (no leading slash). */
  prefix?: string
  /** AWS profile from ~/.aws (default: the SDK's default chain). */
  profile?: string
  /** Endpoint overrides (VPC endpoints; the tests' loopback fakes). */
  endpoint?: string
  s3Endpoint?: string
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider
  /** Folder of the shipped, editable tables (sagemaker-images.json, sagemaker-prices.json). */
  tablesDir?: string
  /** Least time between two status refreshes (ms); later polls answer from the last one. */
  minPollIntervalMs?: number
  /** Least time between two log fetches of one job (ms). */
  minLogIntervalMs?: number
  maxAttempts?: number
}

export const LOG_GROUP = '/aws/sagemaker/TrainingJobs'
/** Where the source folder is unpacked in SageMaker's framework containers, and the shipped package in it. */
const CODE_LIB = '/opt/ml/code/lib'

/** The Secrets Manager secret holding a job's (or a sweep's) tracking token. */
export const trackingSecretName = (jobId: string) => `atelier/tracking/${jobId}`

function trackingToken(job: PreparedJob): string | undefined {
  return job.env.MLFLOW_TRACKING_TOKEN ?? job.tasks.find((t) => t.env.MLFLOW_TRACKING_TOKEN)?.env.MLFLOW_TRACKING_TOKEN
}
const hasToken = (job: PreparedJob) => trackingToken(job) !== undefined

/** Custom images run no launcher: bash reads the token from the secret the Environment names, or the job stops there. */
const TOKEN_FROM_SECRET =
  `MLFLOW_TRACKING_TOKEN="$(python3 -c "import boto3, os; print(boto3.client('secretsmanager', endpoint_url=os.environ.get('AWS_ENDPOINT_URL_SECRETS_MANAGER') or None)` +
  `.get_secret_value(SecretId=os.environ['ATELIER_TRACKING_SECRET'])['SecretString'])")" || exit 1; export MLFLOW_TRACKING_TOKEN;`

/** A SageMaker training job name for an Atelier job: stable, ≤ 63 characters, SageMaker's alphabet. */
export function trainingJobName(jobId: string): string {
  return ('atelier-' + jobId.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-')).slice(0, 63).replace(/-+$/, '')
}

export function tablesDirDefault(): string {
  for (let d = __dirname, i = 0; i < 8; i++, d = dirname(d)) {
    const c = join(d, 'resources', 'cloud')
    try {
      readFileSync(join(c, 'sagemaker-images.json'))
      return c
    } catch {
      /* keep looking upward */
    }
  }
  return join(process.cwd(), 'resources', 'cloud')
}

interface ImageRow {
  framework: string
  version: string
  repository: string
  tag: string
  accounts: Record<string, string>
}

/** The image URI for a job: its custom URI, or the framework table's entry for the region. */
export function imageUri(spec: JobSpec, region: string, tablesDir = tablesDirDefault()): string {
  const sm = spec.sagemaker
  if (sm?.imageUri) return sm.imageUri
  const table = JSON.parse(readFileSync(join(tablesDir, 'sagemaker-images.json'), 'utf8')) as { images: ImageRow[] }
  const fw = sm?.framework ?? 'sklearn'
  const rows = table.images.filter((r) => r.framework === fw && (!sm?.frameworkVersion || r.version === sm.frameworkVersion))
  const row = rows.find((r) => r.accounts[region])
  if (!row) {
    throw new AppError('INVALID_SPEC', `No ${fw}${sm?.frameworkVersion ? ' ' + sm.frameworkVersion : ''} image for ${region} in sagemaker-images.json; add one there or give a custom image URI.`, {
      fieldErrors: [{ field: 'sagemaker.imageUri', message: `no ${fw} image for ${region}` }]
    })
  }
  const host = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return `${row.accounts[region]}.dkr.ecr.${region}.${host}/${row.repository}:${row.tag}`
}

export interface CostEstimate {
  instanceType: string
  instanceCount: number
  hours: number
  pricePerHour: number | null
  /** Upper bound: on-demand price × instances × max runtime; null when the type is not in the table. */
  maxCost: number | null
  currency: string
}

export function estimateCost(spec: JobSpec, tablesDir = tablesDirDefault()): CostEstimate {
  const sm = spec.sagemaker
  const table = JSON.parse(readFileSync(join(tablesDir, 'sagemaker-prices.json'), 'utf8')) as { currency: string; training: Record<string, number> }
  const type = sm?.instanceType ?? 'ml.m5.large'
  const count = sm?.instanceCount ?? 1
  const hours = (sm?.maxRuntimeSec ?? 86_400) / 3600
  const price = table.training[type] ?? null
  return { instanceType: type, instanceCount: count, hours, pricePerHour: price, maxCost: price === null ? null : Math.round(price * count * hours * 100) / 100, currency: table.currency }
}

/**
 * `sourcedir.tar.gz` of a prepared job: the files the service listed from the source folder
 * (.gitignore honoured) plus the generated ones and `extra`. Also how Kubernetes jobs get code from S3.
 */
export async function packSource(job: Pick<PreparedJob, 'files' | 'sourceDir' | 'generated' | 'support'>, extra: Record<string, string> = {}): Promise<Buffer> {
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-sm-'))
  try {
    const gen = join(tmp, 'gen')
    mkdirSync(gen)
    // the shipped `atelier` package rides along under lib/ (the job's PYTHONPATH names it)
    const lib = Object.fromEntries(Object.entries(job.support ?? {}).filter(([rel]) => rel.startsWith('lib/')))
    const genFiles = Object.entries({ ...lib, ...job.generated, ...extra })
    for (const [rel, text] of genFiles) {
      mkdirSync(dirname(join(gen, rel)), { recursive: true })
      writeFileSync(join(gen, rel), text)
    }
    const out = join(tmp, 'sourcedir.tar.gz')
    const list = join(tmp, 'files')
    writeFileSync(list, job.files.join('\n') + '\n')
    const args = ['-czf', out]
    if (job.sourceDir && job.files.length) args.push('-C', job.sourceDir, '-T', list)
    if (genFiles.length) args.push('-C', gen, ...genFiles.map(([rel]) => rel))
    if (args.length === 2) args.push('-C', gen, '.')
    await new Promise<void>((resolve, reject) =>
      execFile('tar', args, { maxBuffer: 16 * 1024 * 1024 }, (err, _o, stderr) => (err ? reject(new AppError('JOB_ERROR', `Cannot pack the source folder: ${stderr || err.message}`)) : resolve()))
    )
    return readFileSync(out)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/** AppError carrying AWS's own words: `<Code>: <message>`. */
export function awsError(err: unknown, what: string): AppError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
  const code = e?.name ?? 'Error'
  return new AppError('CLOUD_ERROR', `${what}: ${code}: ${e?.message ?? String(err)}`, {
    provider: 'aws',
    code,
    httpStatus: e?.$metadata?.httpStatusCode ?? null,
    hint: hintFor(code, e?.message ?? '')
  })
}

function hintFor(code: string, message: string): string | null {
  if (/ExpiredToken|expired/i.test(code + message)) return 'Refresh the credentials (aws sso login, or new keys in ~/.aws/credentials).'
  if (/CredentialsProviderError|Could not load credentials/i.test(code + message)) return 'Set credentials: AWS_PROFILE, ~/.aws/credentials, environment variables or aws sso login.'
  if (/Could not assume role/.test(message)) return "Check the role ARN and that its trust policy allows sagemaker.amazonaws.com."
  if (code === 'ResourceLimitExceeded') return 'Ask for a higher quota in Service Quotas, or choose another instance type.'
  if (/InvalidSignature|UnrecognizedClient/.test(code)) return 'Check the access key and secret for this profile.'
  return null
}

/** The state reason of a running job while SageMaker throttles the status calls. */
export const THROTTLED = 'SageMaker is throttling requests; retrying'

function isThrottling(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? ''
  return name === 'ThrottlingException' || name === 'Throttling' || name === 'TooManyRequestsException' || name === 'RequestLimitExceeded'
}

const STATE: Record<string, JobState> = {
  InProgress: 'running',
  Completed: 'succeeded',
  Failed: 'failed',
  Stopping: 'running',
  Stopped: 'cancelled'
}

interface LogCursor {
  text: string
  streams: Map<string, string | undefined>
  fetchedAt: number
  /** The read after the job ended was made. */
  done: boolean
}

export class SageMakerBackend implements JobBackend {
  readonly kind = 'sagemaker' as const
  readonly sm: SageMakerClient
  readonly logsClient: CloudWatchLogsClient
  readonly s3: S3Client
  readonly secrets: SecretsManagerClient
  /** Tracking-token secrets deleted by this process (a job's secret goes when the job ends). */
  private secretsGone = new Set<string>()
  private last: { at: number; byName: Map<string, TrainingJobSummary> } | null = null
  private reasons = new Map<string, string>()
  /** Whether the last ListTrainingJobs was throttled (answered only after retries, or not at all). */
  private throttled = false
  private logs = new Map<string, LogCursor>()
  /** SageMaker API calls made by poll(), for rate accounting. */
  pollCalls = 0

  constructor(readonly cfg: SageMakerTargetConfig) {
    const credentials = cfg.credentials ?? fromNodeProviderChain(cfg.profile ? { profile: cfg.profile } : {})
    const common = { region: cfg.region, credentials, retryMode: 'adaptive', maxAttempts: cfg.maxAttempts ?? 10 } as const
    this.sm = new SageMakerClient({ ...common, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) })
    this.logsClient = new CloudWatchLogsClient({ ...common, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) })
    this.s3 = new S3Client({ ...common, ...(cfg.s3Endpoint ? { endpoint: cfg.s3Endpoint, forcePathStyle: true } : {}) })
    this.secrets = new SecretsManagerClient({ ...common, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) })
  }

  private get prefix(): string {
    return (this.cfg.prefix ?? 'atelier').replace(/^\/+|\/+$/g, '')
  }

  async workDirOf(folderId: string): Promise<string> {
    return `s3://${this.cfg.bucket}/${this.prefix}/${folderId}`
  }

  /** Checks credentials, region and bucket; each failure in AWS's words and what is missing. */
  async test(): Promise<{ ok: boolean; problems: string[] }> {
    const problems: string[] = []
    try {
      await this.sm.send(new ListTrainingJobsCommand({ MaxResults: 1 }))
    } catch (e) {
      problems.push(`credentials or region (${this.cfg.region}): ${awsError(e, 'SageMaker').message}`)
    }
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.cfg.bucket }))
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } }
      const status = err.$metadata?.httpStatusCode
      const words = status === 404 ? 'NotFound: the bucket does not exist' : status === 301 ? 'PermanentRedirect: the bucket is in another region' : status === 403 ? 'Forbidden: no access to the bucket' : awsError(e, 'S3').message
      problems.push(`bucket s3://${this.cfg.bucket}: ${words}`)
    }
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(this.cfg.roleArn)) problems.push(`role: '${this.cfg.roleArn}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`)
    return { ok: problems.length === 0, problems }
  }

  /** The CreateTrainingJob request for one task (exported for the submit-overhead benchmark). */
  request(job: PreparedJob, taskIndex: number, codeUri: string, program: string): CreateTrainingJobCommandInput {
    const spec = job.spec
    const task = job.tasks[taskIndex]
    const sm = spec.sagemaker
    const hp: Record<string, string> = {}
    for (const [k, v] of Object.entries(task.hyperparameters)) hp[k] = String(v)
    const image = imageUri(spec, this.cfg.region, this.cfg.tablesDir)
    const custom = !!sm?.imageUri
    if (!custom) {
      // The framework containers' toolkit reads these (values JSON-encoded, as the Python SDK sends them).
      hp.sagemaker_program = JSON.stringify(program)
      hp.sagemaker_submit_directory = JSON.stringify(codeUri)
      hp.sagemaker_region = JSON.stringify(this.cfg.region)
    }
    // ATELIER_JOB_ID also marks the training job as this job's (DescribeTrainingJob returns Environment).
    const shipsLib = Object.keys(job.support ?? {}).some((rel) => rel.startsWith('lib/'))
    const { MLFLOW_TRACKING_TOKEN: token, ...jobEnv } = { ...job.env, ...task.env }
    // the tracking token is not put in the Environment (DescribeTrainingJob shows it): a secret holds it
    const env: Record<string, string> = { ...(shipsLib ? { PYTHONPATH: CODE_LIB } : {}), ...jobEnv, ...(token ? { ATELIER_TRACKING_SECRET: trackingSecretName(task.jobId) } : {}), ATELIER_JOB_ID: task.jobId }
    const maxRuntime = sm?.maxRuntimeSec ?? 86_400
    return {
      TrainingJobName: trainingJobName(task.jobId),
      RoleArn: this.cfg.roleArn,
      AlgorithmSpecification: {
        TrainingImage: image,
        TrainingInputMode: 'File',
        MetricDefinitions: (spec.metricDefinitions ?? []).map((m) => ({ Name: m.name, Regex: m.regex })),
        ...(custom ? { ContainerEntrypoint: ['bash', '-c'], ContainerArguments: [`cd /opt/ml/code 2>/dev/null; ${token ? `${TOKEN_FROM_SECRET} ` : ''}${task.command}`] } : {})
      },
      HyperParameters: hp,
      Environment: Object.fromEntries([['ATELIER_JOB_ID', task.jobId], ...Object.entries(env).filter(([k]) => k !== 'ATELIER_JOB_ID').slice(0, 47)]),
      OutputDataConfig: { S3OutputPath: `s3://${this.cfg.bucket}/${this.prefix}/output` },
      ResourceConfig: { InstanceType: (sm?.instanceType ?? 'ml.m5.large') as TrainingInstanceType, InstanceCount: sm?.instanceCount ?? 1, VolumeSizeInGB: sm?.volumeSizeGb ?? 30 },
      StoppingCondition: { MaxRuntimeInSeconds: maxRuntime, ...(sm?.spot ? { MaxWaitTimeInSeconds: sm.spot.maxWaitSec } : {}) },
      EnableManagedSpotTraining: !!sm?.spot,
      Tags: [
        { Key: 'atelier:job-id', Value: task.jobId },
        { Key: 'atelier:job-name', Value: job.name.slice(0, 256) }
      ]
    }
  }

  /**
   * The entry point the framework container runs. A job that writes MLflow's file store or has a
   * tracking token gets a small launcher first: it reads the token from the Secrets Manager secret
   * the Environment names, copies the seeded experiment/run meta.yaml (packed under _atelier/mlruns)
   * to the store, so that the `mlflow` client continues MLFLOW_RUN_ID there (a tuning trial's run is
   * named after its training job: see TRIAL_RUN), then runs the entry.
   */
  private program(job: PreparedJob): { program: string; extra: Record<string, string> } {
    const inner = this.entryProgram(job)
    const seed = Object.entries(job.support ?? {}).filter(([rel]) => rel.startsWith('mlruns/'))
    if (!seed.length && !hasToken(job)) return inner
    const launcher = [
      'import os, runpy, shutil, sys',
      "here = os.path.dirname(os.path.abspath(__file__))",
      // the tracking token comes from Secrets Manager (the job's Environment names the secret only)
      "secret = os.environ.pop('ATELIER_TRACKING_SECRET', '')",
      'if secret:',
      '    import boto3',
      "    client = boto3.client('secretsmanager', endpoint_url=os.environ.get('AWS_ENDPOINT_URL_SECRETS_MANAGER') or None)",
      "    os.environ['MLFLOW_TRACKING_TOKEN'] = client.get_secret_value(SecretId=secret)['SecretString']",
      "store = os.environ.get('MLFLOW_TRACKING_URI', '')",
      "if store.startswith('file:'):",
      "    root = store[len('file:'):]",
      "    shutil.copytree(os.path.join(here, '_atelier', 'mlruns'), root, dirs_exist_ok=True)",
      // a tuning trial: its run is named after the training job SageMaker started for it
      "    exp = os.path.join(root, os.environ.get('MLFLOW_EXPERIMENT_ID', '0'))",
      `    trial = os.path.join(exp, ${JSON.stringify(TRIAL_RUN)})`,
      "    if os.path.isdir(trial) and not os.environ.get('MLFLOW_RUN_ID') and os.environ.get('TRAINING_JOB_NAME'):",
      "        import hashlib",
      "        run_id = hashlib.md5(os.environ['TRAINING_JOB_NAME'].encode()).hexdigest()",
      "        os.rename(trial, os.path.join(exp, run_id))",
      "        meta = os.path.join(exp, run_id, 'meta.yaml')",
      '        with open(meta) as f:',
      `            text = f.read().replace(${JSON.stringify(TRIAL_RUN)}, run_id)`,
      "        with open(meta, 'w') as f:",
      '            f.write(text)',
      "        os.environ['MLFLOW_RUN_ID'] = run_id",
      `target = os.path.join(here, ${JSON.stringify(inner.program)})`,
      'sys.argv = [target] + sys.argv[1:]',
      'sys.path[0] = os.path.dirname(target)',
      "runpy.run_path(target, run_name='__main__')",
      ''
    ].join('\n')
    return { program: '_atelier_seed.py', extra: { ...inner.extra, ...Object.fromEntries(seed.map(([rel, text]) => [`_atelier/${rel}`, text])), '_atelier_seed.py': launcher } }
  }

  private entryProgram(job: PreparedJob): { program: string; extra: Record<string, string> } {
    const e = job.spec.entry
    if (e.kind === 'script') return { program: e.path, extra: {} }
    if (e.kind === 'notebook') return { program: Object.keys(job.generated)[0] ?? e.path, extra: {} }
    // Modules and command lines go through a small launcher the framework toolkit can run.
    const launcher =
      e.kind === 'module'
        ? `import runpy, sys\nsys.argv = [${JSON.stringify(e.module)}] + sys.argv[1:]\nrunpy.run_module(${JSON.stringify(e.module)}, run_name='__main__', alter_sys=True)\n`
        : `import subprocess, sys\nsys.exit(subprocess.call(['bash', '-c', ${JSON.stringify(e.command)}]))\n`
    return { program: '_atelier_entry.py', extra: { '_atelier_entry.py': launcher } }
  }

  async submit(job: PreparedJob): Promise<Submitted> {
    const { program, extra } = this.program(job)
    const key = `${this.prefix}/${job.folderId}/sourcedir.tar.gz`
    const body = await packSource(job, extra)
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: body, ContentType: 'application/gzip' }))
    } catch (e) {
      throw awsError(e, `Uploading the source to s3://${this.cfg.bucket}/${key}`)
    }
    const codeUri = `s3://${this.cfg.bucket}/${key}`
    const token = trackingToken(job)
    if (token) for (const t of job.tasks) await this.putTokenSecret(trackingSecretName(t.jobId), token, t.jobId)
    const names: string[] = []
    let first = ''
    for (let i = 0; i < job.tasks.length; i++) {
      const req = this.request(job, i, codeUri, program)
      if (!first) first = JSON.stringify(req, null, 2)
      try {
        await this.sm.send(new CreateTrainingJobCommand(req))
      } catch (e) {
        // A retry after a lost answer: the job with this name is ours, already submitted.
        if ((e as { name?: string }).name !== 'ResourceInUse' || !(await this.isOurs(req.TrainingJobName!, job.tasks[i].jobId))) {
          if (token) for (const t of job.tasks.slice(i)) await this.deleteTokenSecret(trackingSecretName(t.jobId))
          throw awsError(e, 'CreateTrainingJob')
        }
      }
      names.push(req.TrainingJobName!)
    }
    return { remoteIds: names, workDir: await this.workDirOf(job.folderId), logPaths: names.map((n) => `${LOG_GROUP}/${n}`), script: first, extra: { codeUri, ...(token ? { trackingSecret: true } : {}) } }
  }

  private async isOurs(name: string, jobId: string): Promise<boolean> {
    try {
      const d = await this.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }))
      return d.Environment?.ATELIER_JOB_ID === jobId
    } catch {
      return false
    }
  }

  /** Every tracked job's status from paged ListTrainingJobs (100 per call). */
  async poll(jobs: JobRef[]): Promise<Map<string, StatusUpdate>> {
    const out = new Map<string, StatusUpdate>()
    // trials of tuning jobs (named by SageMaker) are followed through their tuning job
    const tracked = jobs.filter((j) => j.remoteId?.startsWith('atelier-'))
    if (!tracked.length) return out
    const minGap = this.cfg.minPollIntervalMs ?? 5_000
    if (!this.last || Date.now() - this.last.at >= minGap) {
      const byName = new Map<string, TrainingJobSummary>()
      let token: string | undefined
      let retried = false
      try {
        do {
          this.pollCalls++
          const page = await this.sm.send(new ListTrainingJobsCommand({ NameContains: 'atelier-', MaxResults: 100, NextToken: token, SortBy: 'CreationTime', SortOrder: 'Descending' }))
          // The SDK's retries (adaptive mode) absorbed throttling: the answer came late.
          if ((page.$metadata.attempts ?? 1) > 1) retried = true
          for (const s of page.TrainingJobSummaries ?? []) if (s.TrainingJobName) byName.set(s.TrainingJobName, s)
          token = page.NextToken
          // Stop paging once every tracked job has been seen.
          if (tracked.every((j) => byName.has(j.remoteId!))) break
        } while (token)
        this.last = { at: Date.now(), byName }
        this.throttled = retried
      } catch (e) {
        // Still throttled after every retry: keep the last known states and try again next poll.
        if (!isThrottling(e) || !this.last) throw awsError(e, 'ListTrainingJobs')
        this.throttled = true
      }
    }
    for (const j of tracked) {
      const s = this.last.byName.get(j.remoteId!)
      if (!s) continue
      const state = STATE[s.TrainingJobStatus ?? ''] ?? 'running'
      let reason: string | null = s.SecondaryStatus ?? null
      if (this.throttled && state === 'running') reason = THROTTLED
      if (s.TrainingJobStatus === 'Failed') {
        let why = this.reasons.get(j.remoteId!)
        if (why === undefined) {
          this.pollCalls++
          const d = await this.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: j.remoteId! })).catch(() => null)
          why = d?.FailureReason ?? ''
          this.reasons.set(j.remoteId!, why)
        }
        reason = why || s.SecondaryStatus || 'Failed'
      }
      out.set(j.id, { state, exitCode: state === 'succeeded' ? 0 : state === 'failed' ? 1 : null, reason })
      if (j.extra.trackingSecret && state !== 'running' && state !== 'starting') await this.deleteTokenSecret(trackingSecretName(j.id))
    }
    return out
  }

  /** A job's tracking token as a Secrets Manager secret (replaced if a retried submit finds it there). */
  private async putTokenSecret(name: string, token: string, owner: string): Promise<void> {
    try {
      await this.secrets.send(new CreateSecretCommand({ Name: name, SecretString: token, Description: 'MLflow tracking token of an Atelier training job; deleted when the job ends', Tags: [{ Key: 'atelier:job-id', Value: owner }] }))
    } catch (e) {
      if ((e as { name?: string }).name !== 'ResourceExistsException') throw awsError(e, 'Storing the tracking token in Secrets Manager (CreateSecret)')
      await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: token })).catch((err) => {
        throw awsError(err, 'Storing the tracking token in Secrets Manager (PutSecretValue)')
      })
    }
  }

  /**
   * Deletes a tracking-token secret at once (no recovery window), once per process. A failure (no
   * permission, say) must not cost the job its status: the secret is then left to expire with the token.
   */
  private async deleteTokenSecret(name: string): Promise<void> {
    if (this.secretsGone.has(name)) return
    this.secretsGone.add(name)
    await this.secrets.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })).catch(() => undefined)
  }

  /** The job's CloudWatch log (every host's stream, in stream order), as bytes from `fromByte`. */
  async readLog(job: JobRef, fromByte: number, maxBytes: number, opts: { final?: boolean } = {}): Promise<Buffer> {
    if (!job.remoteId) return Buffer.alloc(0)
    let c = this.logs.get(job.id)
    if (!c) this.logs.set(job.id, (c = { text: '', streams: new Map(), fetchedAt: 0, done: false }))
    const minGap = this.cfg.minLogIntervalMs ?? 2_000
    const last = opts.final && !c.done
    if ((last || Date.now() - c.fetchedAt >= minGap) && Buffer.byteLength(c.text) <= fromByte) {
      c.fetchedAt = Date.now()
      if (last) c.done = true
      await this.fetchLog(job.remoteId, c)
    }
    return Buffer.from(c.text).subarray(fromByte, fromByte + maxBytes)
  }

  private async fetchLog(name: string, c: LogCursor): Promise<void> {
    try {
      const ls = await this.logsClient.send(new DescribeLogStreamsCommand({ logGroupName: LOG_GROUP, logStreamNamePrefix: `${name}/` }))
      for (const s of ls.logStreams ?? []) if (s.logStreamName && !c.streams.has(s.logStreamName)) c.streams.set(s.logStreamName, undefined)
    } catch (e) {
      if ((e as { name?: string }).name === 'ResourceNotFoundException') return
      throw awsError(e, 'DescribeLogStreams')
    }
    const multi = c.streams.size > 1
    for (const [stream, token] of c.streams) {
      let next = token
      for (;;) {
        const r = await this.logsClient
          .send(new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: stream, startFromHead: true, ...(next ? { nextToken: next } : {}) }))
          .catch((e) => {
            throw awsError(e, 'GetLogEvents')
          })
        const host = stream.split('/')[1]?.replace(/-\d+$/, '')
        for (const ev of r.events ?? []) c.text += (multi && host ? `[${host}] ` : '') + (ev.message ?? '').replace(/\n$/, '') + '\n'
        const same = r.nextForwardToken === next
        next = r.nextForwardToken
        if (same || !(r.events ?? []).length) break
      }
      c.streams.set(stream, next)
    }
  }

  async cancel(jobs: JobRef[]): Promise<void> {
    for (const j of jobs) {
      if (!j.remoteId) continue
      try {
        await this.sm.send(new StopTrainingJobCommand({ TrainingJobName: j.remoteId }))
      } catch (e) {
        // Already ended, or already stopping (a stopped tuning job stops its training jobs): nothing to stop.
        if ((e as { name?: string }).name === 'ValidationException' && /status (Completed|Failed|Stopped|Stopping)/.test((e as Error).message)) continue
        throw awsError(e, 'StopTrainingJob')
      }
    }
  }

  /**
   * A sweep as one hyperparameter tuning job: value lists become categorical ranges, min/max
   * integer or continuous ones (logarithmic when `log`). SageMaker needs an objective metric that
   * the metric definitions produce.
   */
  async submitSweep(job: PreparedJob, sweepId: string, sweep: SweepConfig): Promise<{ tuningJobName: string; codeUri: string }> {
    if (!sweep.objective) {
      throw new AppError('INVALID_SPEC', 'A SageMaker sweep needs an objective metric.', { fieldErrors: [{ field: 'sweep.objective', message: 'required on SageMaker' }] })
    }
    if (!(job.spec.metricDefinitions ?? []).some((m) => m.name === sweep.objective!.metric)) {
      throw new AppError('INVALID_SPEC', `SageMaker reads the objective '${sweep.objective.metric}' from the log: add a metric definition (regex) for it.`, {
        fieldErrors: [{ field: 'metricDefinitions', message: `no regex for ${sweep.objective.metric}` }]
      })
    }
    const { program, extra } = this.program(job)
    const key = `${this.prefix}/${job.folderId}/sourcedir.tar.gz`
    const body = await packSource(job, extra)
    await this.s3.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: body, ContentType: 'application/gzip' })).catch((e) => {
      throw awsError(e, `Uploading the source to s3://${this.cfg.bucket}/${key}`)
    })
    const codeUri = `s3://${this.cfg.bucket}/${key}`
    const token = trackingToken(job)
    if (token) await this.putTokenSecret(trackingSecretName(job.tasks[0].jobId), token, sweepId)
    const base = this.request(job, 0, codeUri, program)
    const tuned = new Set(Object.keys(sweep.space))
    const staticHp = Object.fromEntries(Object.entries(base.HyperParameters ?? {}).filter(([k]) => !tuned.has(k)))
    const categorical: { Name: string; Values: string[] }[] = []
    const integer: { Name: string; MinValue: string; MaxValue: string; ScalingType: 'Auto' | 'Logarithmic' }[] = []
    const continuous: { Name: string; MinValue: string; MaxValue: string; ScalingType: 'Auto' | 'Logarithmic' }[] = []
    for (const [name, r] of Object.entries(sweep.space)) {
      if ('values' in r) categorical.push({ Name: name, Values: r.values.map(String) })
      else (r.integer ? integer : continuous).push({ Name: name, MinValue: String(r.min), MaxValue: String(r.max), ScalingType: r.log ? 'Logarithmic' : 'Auto' })
    }
    const gridSize = categorical.reduce((n, c) => n * c.Values.length, 1)
    const tuningJobName = ('atl-' + sweepId.toLowerCase().replace(/[^a-z0-9-]/g, '-')).slice(0, 32).replace(/-+$/, '')
    try {
      await this.sm.send(
        new CreateHyperParameterTuningJobCommand({
          HyperParameterTuningJobName: tuningJobName,
          HyperParameterTuningJobConfig: {
            Strategy: sweep.strategy === 'grid' ? 'Grid' : 'Random',
            HyperParameterTuningJobObjective: { Type: sweep.objective.goal === 'maximize' ? 'Maximize' : 'Minimize', MetricName: sweep.objective.metric },
            ResourceLimits: {
              MaxNumberOfTrainingJobs: sweep.strategy === 'grid' ? Math.min(gridSize, sweep.maxTrials ?? gridSize) : (sweep.maxTrials ?? 10),
              MaxParallelTrainingJobs: sweep.concurrency ?? 1
            },
            ParameterRanges: { CategoricalParameterRanges: categorical, IntegerParameterRanges: integer, ContinuousParameterRanges: continuous }
          },
          TrainingJobDefinition: {
            StaticHyperParameters: staticHp,
            AlgorithmSpecification: {
              TrainingImage: base.AlgorithmSpecification!.TrainingImage,
              TrainingInputMode: 'File',
              MetricDefinitions: base.AlgorithmSpecification!.MetricDefinitions
            },
            RoleArn: base.RoleArn!,
            OutputDataConfig: base.OutputDataConfig!,
            ResourceConfig: base.ResourceConfig,
            StoppingCondition: base.StoppingCondition!,
            EnableManagedSpotTraining: base.EnableManagedSpotTraining,
            Environment: base.Environment
          },
          Tags: [{ Key: 'atelier:sweep-id', Value: sweepId }]
        })
      )
    } catch (e) {
      if ((e as { name?: string }).name !== 'ResourceInUse') {
        if (token) await this.deleteTokenSecret(trackingSecretName(job.tasks[0].jobId))
        throw awsError(e, 'CreateHyperParameterTuningJob')
      }
    }
    return { tuningJobName, codeUri }
  }

  /** The tuning job's state and its training jobs as trials (name, state, tuned values, objective). */
  async sweepStatus(tuningJobName: string): Promise<{
    status: string
    best: string | null
    trials: { trainingJobName: string; state: JobState; reason: string | null; hyperparameters: Record<string, string>; objective: number | null }[]
  }> {
    const d = await this.sm.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: tuningJobName })).catch((e) => {
      throw awsError(e, 'DescribeHyperParameterTuningJob')
    })
    const trials: Awaited<ReturnType<SageMakerBackend['sweepStatus']>>['trials'] = []
    let token: string | undefined
    do {
      const page = await this.sm
        .send(new ListTrainingJobsForHyperParameterTuningJobCommand({ HyperParameterTuningJobName: tuningJobName, MaxResults: 100, NextToken: token }))
        .catch((e) => {
          throw awsError(e, 'ListTrainingJobsForHyperParameterTuningJob')
        })
      for (const t of page.TrainingJobSummaries ?? []) {
        trials.push({
          trainingJobName: t.TrainingJobName!,
          state: STATE[t.TrainingJobStatus ?? ''] ?? 'running',
          reason: t.FailureReason ?? null,
          hyperparameters: t.TunedHyperParameters ?? {},
          objective: t.FinalHyperParameterTuningJobObjectiveMetric?.Value ?? null
        })
      }
      token = page.NextToken
    } while (token)
    trials.sort((a, b) => (a.trainingJobName < b.trainingJobName ? -1 : 1))
    const secret = d.TrainingJobDefinition?.Environment?.ATELIER_TRACKING_SECRET
    if (secret && ['Completed', 'Failed', 'Stopped'].includes(d.HyperParameterTuningJobStatus ?? '')) await this.deleteTokenSecret(secret)
    return { status: d.HyperParameterTuningJobStatus ?? 'InProgress', best: d.BestTrainingJob?.TrainingJobName ?? null, trials }
  }

  async stopSweep(tuningJobName: string): Promise<void> {
    await this.sm.send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: tuningJobName })).catch((e) => {
      throw awsError(e, 'StopHyperParameterTuningJob')
    })
  }

  /**
   * The job's output data (`/opt/ml/output/data`, which SageMaker uploads as
   * `<S3OutputPath>/<job>/output/output.tar.gz` when the job ends); null when there is none.
   */
  async outputData(remoteId: string): Promise<Buffer | null> {
    const d = await this.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: remoteId })).catch((e) => {
      throw awsError(e, 'DescribeTrainingJob')
    })
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(d.OutputDataConfig?.S3OutputPath ?? '')
    if (!m) return null
    const key = [m[2].replace(/\/+$/, ''), remoteId, 'output', 'output.tar.gz'].filter(Boolean).join('/')
    try {
      const obj = await this.s3.send(new GetObjectCommand({ Bucket: m[1], Key: key }))
      return Buffer.from(await obj.Body!.transformToByteArray())
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null
      throw awsError(e, `Downloading s3://${m[1]}/${key}`)
    }
  }

  /** The output model.tar.gz of a completed job. */
  async modelArtifact(remoteId: string): Promise<string | null> {
    const d = await this.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: remoteId }))
    return d.ModelArtifacts?.S3ModelArtifacts ?? null
  }

  async dispose(): Promise<void> {
    this.sm.destroy()
    this.logsClient.destroy()
    this.s3.destroy()
  }
}
