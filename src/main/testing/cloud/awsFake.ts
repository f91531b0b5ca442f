/**
 * Loopback fake of SageMaker, CloudWatch Logs and Secrets Manager speaking AWS JSON 1.1 (`X-Amz-Target`,
 * `application/x-amz-json-1.1`) with SigV4 signatures checked against the fake's own credentials.
 * Training jobs progress on their own (InProgress: Starting → Downloading → Training → Uploading →
 * Completed) and write one log line per epoch to `/aws/sagemaker/TrainingJobs`, per host stream.
 * Model Registry packages (groups, approval status and description) and endpoints (models,
 * weighted configurations, Creating → InService) are kept in memory. An endpoint's variants really
 * serve their models: on CreateEndpoint/UpdateEndpoint the fake downloads each variant's
 * ModelDataUrl from the S3 fake (`s3Endpoint`), unpacks model.tar.gz and starts the shipped scoring
 * server on it (the local endpoint backend, /usr/bin/python3); the endpoint is InService once every
 * server answers, Failed (with SageMaker's FailureReason) when one cannot be downloaded or loaded.
 * InvokeEndpoint (`POST /endpoints/<name>/invocations`, SageMaker Runtime's REST protocol) is routed
 * to a variant by weight or TargetVariant and answers that variant's own prediction. Secrets Manager
 * (Create/Put/Get/DeleteSecret) holds tracking tokens; containers of the local mode reach it with
 * the role's keys through AWS_ENDPOINT_URL_SECRETS_MANAGER.
 * Test harness only: never shipped.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { VariantRuntime } from '../../services/endpoints/backend'
import { LocalBackend } from '../../services/endpoints/LocalBackend'
import { verifySigV4, type FakeCredentials } from './sigv4'
import { LocalTrainingRun, type LocalContainerOptions } from './smContainer'

export const FAKE_CREDENTIALS: FakeCredentials = {
  accessKeyId: 'AKIAFAKEATELIER00001',
  secretAccessKey: 'fakeSecretKeyForAtelierTests/0123456789ab'
}
export const FAKE_ACCOUNT = '123456789012'
export const FAKE_ROLE = `arn:aws:iam::${FAKE_ACCOUNT}:role/AtelierSageMaker`
export const LOG_GROUP = '/aws/sagemaker/TrainingJobs'

type Json = Record<string, any>

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string
  ) {
    super(message)
  }
}

const validation = (msg: string) => new AwsError(400, 'ValidationException', msg)

interface TrainingJob {
  name: string
  arn: string
  request: Json
  created: number
  hosts: number
  epochs: number
  stoppedAt?: number
  failWith?: string
  tuningJob?: string
  tunedHyperParameters?: Record<string, string>
  /** When the job starts running (tuning trials wait for a slot). */
  startAt: number
  /** Local container mode: the script really running (else the job is simulated). */
  run?: LocalTrainingRun
  /** Local container mode: a tuning trial waiting for one of its tuning job's parallel slots. */
  waiting?: boolean
}

interface TuningJob {
  name: string
  arn: string
  request: Json
  created: number
  trials: string[]
  stoppedAt?: number
}

export interface AwsFakeOptions {
  /** Duration of one simulated phase or epoch, in ms. */
  stepMs?: number
  region?: string
  credentials?: FakeCredentials[]
  roles?: string[]
  /** Requests per second allowed for each Describe/List operation before ThrottlingException. */
  readRateLimit?: number
  /**
   * Local container mode: training jobs of a framework image (`sagemaker_program` and
   * `sagemaker_submit_directory` hyperparameters) run their script for real (see smContainer.ts),
   * with code from and outputs to this S3 fake, and so do a tuning job's trials (MaxParallelTrainingJobs
   * at a time). Without it (the benchmark's 500 jobs) jobs are simulated: one log line per epoch.
   */
  localContainer?: { s3Endpoint: string; python?: string; stopGraceSec?: number }
  /** The S3 fake endpoints download their ModelDataUrl from (default: the local container's). */
  s3Endpoint?: string
  /** Python that runs the endpoints' scoring servers. */
  python?: string
}

export interface CallRecord {
  target: string
  at: number
  body: Json
}

interface ModelPackage {
  group: string
  version: number
  arn: string
  request: Json
  created: number
  modified: number
  status: 'Approved' | 'Rejected' | 'PendingManualApproval'
  approvalDescription?: string
}

interface SmEndpoint {
  name: string
  arn: string
  config: string
  /** The configuration being rolled out while Updating. */
  pendingConfig?: string
  created: number
  /** When the current Creating/Updating phase ends. */
  readyAt: number
  modified: number
  /** Why the last creation or update failed (SageMaker's FailureReason). */
  failureReason?: string
  failed?: boolean
}

/** The scoring servers of one endpoint configuration, one per production variant. */
interface ConfigServers {
  done: boolean
  error: string | null
  servers: Map<string, VariantRuntime>
  dir: string
}

const APPROVAL = new Set(['Approved', 'Rejected', 'PendingManualApproval'])

const PHASES = ['Starting', 'Downloading', 'Training', 'Uploading'] as const

export class AwsFake {
  readonly stepMs: number
  readonly region: string
  readonly credentials: FakeCredentials[]
  readonly roles: Set<string>
  readonly expiredSessionTokens = new Set<string>()
  readonly calls: CallRecord[] = []
  private server: Server | null = null
  private jobs = new Map<string, TrainingJob>()
  private tuning = new Map<string, TuningJob>()
  private packageGroups = new Map<string, { arn: string; description: string; created: number }>()
  private packages: ModelPackage[] = []
  private models = new Map<string, { arn: string; request: Json; created: number }>()
  private endpointConfigs = new Map<string, { arn: string; request: Json; created: number }>()
  private endpoints = new Map<string, SmEndpoint>()
  /** Scoring servers by `<endpoint>/<config>`. */
  private serving = new Map<string, ConfigServers>()
  private nextEndpointError: AwsError | null = null
  s3Endpoint: string | null
  private readonly python: string
  private invocations = 0
  private throttleLeft = 0
  private throttleOp: string | null = null
  private nextCreateError: AwsError | null = null
  private readRateLimit: number | null
  private buckets = new Map<string, { tokens: number; at: number }>()
  port = 0

  constructor(opts: AwsFakeOptions = {}) {
    this.stepMs = opts.stepMs ?? 200
    this.region = opts.region ?? 'eu-west-1'
    this.credentials = opts.credentials ?? [FAKE_CREDENTIALS]
    this.roles = new Set(opts.roles ?? [FAKE_ROLE])
    this.readRateLimit = opts.readRateLimit ?? null
    this.localContainer = opts.localContainer ?? null
    this.s3Endpoint = opts.s3Endpoint ?? opts.localContainer?.s3Endpoint ?? null
    this.python = opts.python ?? '/usr/bin/python3'
  }

  private readonly localContainer: AwsFakeOptions['localContainer'] | null

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async stop(): Promise<void> {
    const s = this.server
    this.server = null
    for (const j of this.jobs.values()) j.run?.dispose()
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
    await Promise.all([...this.serving.keys()].map((k) => this.stopServers(k)))
  }

  /** The next `n` requests (of `operation`, else any operation) answer ThrottlingException. */
  throttle(n: number, operation?: string): void {
    this.throttleLeft = n
    this.throttleOp = operation ?? null
  }

  /** The next Create call answers ResourceLimitExceeded with AWS's wording. */
  failNextCreateWithResourceLimit(instanceType = 'ml.p3.2xlarge'): void {
    this.nextCreateError = new AwsError(
      400,
      'ResourceLimitExceeded',
      `The account-level service limit '${instanceType} for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.`
    )
  }

  /** The next CreateEndpoint answers ResourceLimitExceeded with AWS's wording. */
  failNextEndpointWithResourceLimit(instanceType = 'ml.m5.large'): void {
    this.nextEndpointError = new AwsError(
      400,
      'ResourceLimitExceeded',
      `The account-level service limit '${instanceType} for endpoint usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.`
    )
  }

  /** The variant scoring servers running for an endpoint (its current configuration). */
  servingVariants(endpoint: string): string[] {
    const e = this.endpoints.get(endpoint)
    return e ? [...(this.serving.get(`${e.name}/${e.config}`)?.servers.keys() ?? [])] : []
  }

  callsTo(op: string): CallRecord[] {
    return this.calls.filter((c) => c.target.endsWith('.' + op))
  }

  jobNames(): string[] {
    return [...this.jobs.keys()]
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const target = String(req.headers['x-amz-target'] ?? '')
    const send = (status: number, payload: Json) => {
      const text = JSON.stringify(payload)
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': createHash('md5').update(String(Math.random())).digest('hex'),
        'content-length': Buffer.byteLength(text)
      })
      res.end(text)
    }
    const fail = (e: AwsError) => send(e.status, { __type: e.type, message: e.message })
    try {
      const invoke = /^\/endpoints\/([^/?]+)\/invocations$/.exec(req.url ?? '')
      if (req.method === 'POST' && invoke) {
        const authFail = verifySigV4({ method: req.method, url: req.url ?? '/', headers: req.headers, body, service: 'sagemaker', known: this.credentials, expiredSessionTokens: this.expiredSessionTokens })
        if (authFail) throw new AwsError(authFail.status, authFail.type, authFail.message)
        const name = decodeURIComponent(invoke[1])
        this.calls.push({ target: 'SageMakerRuntime.InvokeEndpoint', at: Date.now(), body: { EndpointName: name } })
        const out = await this.invokeEndpoint(name, body, String(req.headers['content-type'] ?? 'application/octet-stream'), String(req.headers['x-amzn-sagemaker-target-variant'] ?? ''))
        res.writeHead(200, { 'content-type': out.contentType, 'x-amzn-invoked-production-variant': out.variant, 'content-length': out.body.length })
        res.end(out.body)
        return
      }
      const service = target.startsWith('SageMaker.') ? 'sagemaker' : target.startsWith('Logs_20140328.') ? 'logs' : target.startsWith('secretsmanager.') ? 'secretsmanager' : null
      if (req.method !== 'POST' || !service) {
        throw new AwsError(400, 'UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`)
      }
      const authFail = verifySigV4({
        method: req.method,
        url: req.url ?? '/',
        headers: req.headers,
        body,
        service,
        known: this.credentials,
        expiredSessionTokens: this.expiredSessionTokens
      })
      if (authFail) throw new AwsError(authFail.status, authFail.type, authFail.message)
      const params = body.length ? (JSON.parse(body.toString('utf8')) as Json) : {}
      this.calls.push({ target, at: Date.now(), body: params })
      if (this.throttleLeft > 0 && (!this.throttleOp || target.endsWith(`.${this.throttleOp}`))) {
        this.throttleLeft--
        throw new AwsError(400, 'ThrottlingException', 'Rate exceeded')
      }
      const op = target.slice(target.indexOf('.') + 1)
      if (this.readRateLimit && /^(Describe|List|Get)/.test(op)) this.takeToken(op)
      send(200, service === 'sagemaker' ? this.sagemaker(op, params) : service === 'logs' ? this.logs(op, params) : this.secretsManager(op, params))
    } catch (e) {
      if (e instanceof AwsError) fail(e)
      else fail(new AwsError(500, 'InternalFailure', e instanceof Error ? e.message : String(e)))
    }
  }

  private takeToken(op: string): void {
    const rate = this.readRateLimit!
    const now = Date.now()
    const b = this.buckets.get(op) ?? { tokens: rate, at: now }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate)
    b.at = now
    this.buckets.set(op, b)
    if (b.tokens < 1) throw new AwsError(400, 'ThrottlingException', 'Rate exceeded')
    b.tokens -= 1
  }

  // ---------------------------------------------------------------- SageMaker

  private smEndpoint(name: string): SmEndpoint {
    const e = this.endpoints.get(name)
    if (!e) throw validation(`Could not find endpoint "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint/${String(name).toLowerCase()}".`)
    return e
  }

  /**
   * Creating (or Updating) for at least two steps and until the configuration's scoring servers
   * answer, then InService; an update's configuration takes over then. A creation whose servers
   * fail ends Failed; a failed update rolls back to the previous configuration (InService), both
   * with the FailureReason.
   */
  private endpointStatus(e: SmEndpoint): 'Creating' | 'Updating' | 'InService' | 'Failed' {
    if (e.failed) return 'Failed'
    const wanted = e.pendingConfig ?? e.config
    const load = this.serving.get(`${e.name}/${wanted}`)
    if (Date.now() < e.readyAt || (load && !load.done)) return e.pendingConfig ? 'Updating' : 'Creating'
    if (load?.error) {
      e.failureReason = load.error
      void this.stopServers(`${e.name}/${wanted}`)
      if (!e.pendingConfig) {
        e.failed = true
        return 'Failed'
      }
      e.pendingConfig = undefined
      return 'InService'
    }
    if (e.pendingConfig) {
      const old = e.config
      e.config = e.pendingConfig
      e.pendingConfig = undefined
      e.failureReason = undefined
      if (old !== e.config) void this.stopServers(`${e.name}/${old}`)
    }
    return 'InService'
  }

  private describeEndpoint(e: SmEndpoint): Json {
    const status = this.endpointStatus(e)
    const variants = (this.endpointConfigs.get(e.config)?.request.ProductionVariants ?? []) as Json[]
    return {
      EndpointName: e.name,
      EndpointArn: e.arn,
      EndpointConfigName: e.config,
      EndpointStatus: status,
      CreationTime: e.created / 1000,
      LastModifiedTime: e.modified / 1000,
      ...(e.failureReason ? { FailureReason: e.failureReason } : {}),
      ...(status === 'Creating' || status === 'Failed'
        ? {}
        : {
            ProductionVariants: variants.map((v) => ({
              VariantName: v.VariantName,
              CurrentWeight: v.InitialVariantWeight ?? 1,
              DesiredWeight: v.InitialVariantWeight ?? 1,
              CurrentInstanceCount: v.InitialInstanceCount ?? 1,
              DesiredInstanceCount: v.InitialInstanceCount ?? 1
            }))
          })
    }
  }

  /** Downloads and unpacks each variant's model data and starts its scoring server, in the background. */
  private loadConfig(endpoint: string, config: string): void {
    const key = `${endpoint}/${config}`
    const dir = mkdtempSync(join(tmpdir(), 'atelier-smep-'))
    const load: ConfigServers = { done: false, error: null, servers: new Map(), dir }
    this.serving.set(key, load)
    const variants = (this.endpointConfigs.get(config)?.request.ProductionVariants ?? []) as Json[]
    const backend = new LocalBackend({ runDir: join(dir, 'run'), preferShipped: true, maxRestarts: 0, startTimeoutMs: 120_000, pollMs: 100 })
    const one = async (v: Json) => {
      const variant = String(v.VariantName)
      const model = this.models.get(v.ModelName)
      const url = String(model?.request.PrimaryContainer?.ModelDataUrl ?? '')
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url)
      const noData = `Failed to download model data for container "container_1" of production variant "${variant}". Please ensure that there is an object located at the URL "${url}", and the role ${model?.request.ExecutionRoleArn} has permissions to access the object.`
      if (!m || !this.s3Endpoint) throw new Error(noData)
      const s3 = new S3Client({ region: this.region, endpoint: this.s3Endpoint, forcePathStyle: true, credentials: this.credentials[0], maxAttempts: 1 })
      let bytes: Uint8Array
      try {
        const obj = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }))
        bytes = await obj.Body!.transformToByteArray()
      } catch {
        throw new Error(noData)
      } finally {
        s3.destroy()
      }
      const modelDir = join(dir, variant)
      mkdirSync(modelDir, { recursive: true })
      writeFileSync(join(dir, `${variant}.tar.gz`), bytes)
      await new Promise<void>((resolve, reject) =>
        execFile('tar', ['-xzf', join(dir, `${variant}.tar.gz`), '-C', modelDir], (err) => (err ? reject(new Error(`Failed to extract model data archive from URL "${url}". Please ensure that the object located at the URL is a valid tar.gz archive.`)) : resolve()))
      )
      const rt = await backend.start({ key: variant, modelDir, interpreter: this.python, onChange: () => undefined })
      load.servers.set(variant, rt)
      await rt.ready()
      if (rt.info().state !== 'running') throw new Error(`The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`)
    }
    void Promise.all(variants.map((v) => one(v))).then(
      () => {
        load.done = true
      },
      (err: Error) => {
        load.error = err.message
        load.done = true
      }
    )
  }

  private async stopServers(key: string): Promise<void> {
    const load = this.serving.get(key)
    if (!load) return
    this.serving.delete(key)
    await Promise.all([...load.servers.values()].map((r) => r.stop().catch(() => undefined)))
    rmSync(load.dir, { recursive: true, force: true })
  }

  /**
   * Routes a request to a variant, picked by weight (deterministically, by a running counter) or
   * named by TargetVariant, and answers that variant's scoring server's prediction; an error from
   * the model comes back as SageMaker's ModelError.
   */
  private async invokeEndpoint(name: string, body: Buffer, contentType: string, targetVariant: string): Promise<{ body: Buffer; contentType: string; variant: string }> {
    const e = this.endpoints.get(name)
    if (!e) throw validation(`Endpoint ${name} of account ${FAKE_ACCOUNT} not found.`)
    const status = this.endpointStatus(e)
    if (status === 'Creating' || status === 'Failed') throw validation(`Endpoint ${name} of account ${FAKE_ACCOUNT} not found.`)
    const variants = (this.endpointConfigs.get(e.config)?.request.ProductionVariants ?? []) as Json[]
    let variant: Json | undefined
    if (targetVariant) {
      variant = variants.find((v) => v.VariantName === targetVariant)
      if (!variant) throw validation(`Variant ${targetVariant} not found for endpoint ${name}.`)
    } else {
      const total = variants.reduce((a, v) => a + Number(v.InitialVariantWeight ?? 1), 0)
      let pick = ((this.invocations++ % 100) / 100) * total
      variant = variants.find((v) => (pick -= Number(v.InitialVariantWeight ?? 1)) < 0) ?? variants[variants.length - 1]
    }
    const vname = String(variant!.VariantName)
    const target = this.serving.get(`${e.name}/${e.config}`)?.servers.get(vname)?.target()
    if (!target || !('port' in target)) throw new AwsError(503, 'ServiceUnavailable', `Variant ${vname} of endpoint ${name} is not available.`)
    const up = await new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
      const r = request({ host: target.host, port: target.port, path: '/invocations', method: 'POST', headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 500, type: String(res.headers['content-type'] ?? 'application/json'), body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      r.on('error', reject)
      r.end(body)
    })
    if (up.status >= 400) {
      throw new AwsError(
        424,
        'ModelError',
        `Received ${up.status >= 500 ? 'server' : 'client'} error (${up.status}) from primary with message "${up.body.toString('utf8')}". See https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${name} in account ${FAKE_ACCOUNT} for more information.`
      )
    }
    return { body: up.body, contentType: up.type, variant: vname }
  }

  private createPackageGroup(p: Json): Json {
    const name = String(p.ModelPackageGroupName ?? '')
    if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) {
      throw validation(`1 validation error detected: Value '${name}' at 'modelPackageGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
    }
    if (this.packageGroups.has(name)) throw validation(`Model Package Group already exists: arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model-package-group/${name.toLowerCase()}`)
    const arn = `arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model-package-group/${name.toLowerCase()}`
    this.packageGroups.set(name, { arn, description: String(p.ModelPackageGroupDescription ?? ''), created: Date.now() })
    return { ModelPackageGroupArn: arn }
  }

  private createPackage(p: Json): ModelPackage {
    const group = String(p.ModelPackageGroupName ?? '')
    if (!this.packageGroups.has(group)) throw validation(`Model Package Group ${group} does not exist.`)
    const containers = p.InferenceSpecification?.Containers
    if (!Array.isArray(containers) || containers.length === 0) throw validation('InferenceSpecification is required for a versioned model package.')
    for (const c of containers) {
      if (!c.Image) throw validation("1 validation error detected: Value null at 'inferenceSpecification.containers.1.member.image' failed to satisfy constraint: Member must not be null")
      if (c.ModelDataUrl && !/^s3:\/\/[^/]+\/.+/.test(c.ModelDataUrl)) throw validation(`Invalid ModelDataUrl: ${c.ModelDataUrl}`)
    }
    const status = p.ModelApprovalStatus ?? 'PendingManualApproval'
    if (!APPROVAL.has(status)) throw validation(`1 validation error detected: Value '${status}' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]`)
    const version = this.packages.filter((m) => m.group === group).length + 1
    const m: ModelPackage = {
      group,
      version,
      arn: `arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model-package/${group.toLowerCase()}/${version}`,
      request: p,
      created: Date.now(),
      modified: Date.now(),
      status
    }
    this.packages.push(m)
    return m
  }

  private modelPackage(nameOrArn: string): ModelPackage {
    const m = this.packages.find((x) => x.arn === nameOrArn)
    if (!m) throw validation(`ModelPackage ${nameOrArn} does not exist.`)
    return m
  }

  private describePackage(m: ModelPackage): Json {
    return {
      ModelPackageName: m.group,
      ModelPackageGroupName: m.group,
      ModelPackageVersion: m.version,
      ModelPackageArn: m.arn,
      ModelPackageDescription: m.request.ModelPackageDescription,
      CreationTime: m.created / 1000,
      LastModifiedTime: m.modified / 1000,
      InferenceSpecification: m.request.InferenceSpecification,
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      CertifyForMarketplace: false,
      ModelApprovalStatus: m.status,
      ...(m.approvalDescription !== undefined ? { ApprovalDescription: m.approvalDescription } : {}),
      ...(m.request.CustomerMetadataProperties ? { CustomerMetadataProperties: m.request.CustomerMetadataProperties } : {})
    }
  }

  private listPackages(p: Json): Json {
    let rows = this.packages.filter((m) => (!p.ModelPackageGroupName || m.group === p.ModelPackageGroupName) && (!p.ModelApprovalStatus || m.status === p.ModelApprovalStatus))
    rows = rows.sort((a, b) => b.created - a.created || b.version - a.version)
    const start = p.NextToken ? Number(p.NextToken) : 0
    const max = p.MaxResults ?? 100
    const page = rows.slice(start, start + max)
    return {
      ModelPackageSummaryList: page.map((m) => ({
        ModelPackageName: m.group,
        ModelPackageGroupName: m.group,
        ModelPackageVersion: m.version,
        ModelPackageArn: m.arn,
        ModelPackageDescription: m.request.ModelPackageDescription,
        CreationTime: m.created / 1000,
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: m.status
      })),
      ...(start + max < rows.length ? { NextToken: String(start + max) } : {})
    }
  }

  private sagemaker(op: string, p: Json): Json {
    switch (op) {
      case 'CreateTrainingJob':
        return { TrainingJobArn: this.createTrainingJob(p).arn }
      case 'DescribeTrainingJob':
        return this.describe(this.job(p.TrainingJobName))
      case 'ListTrainingJobs':
        return this.listTrainingJobs(p)
      case 'StopTrainingJob': {
        const j = this.job(p.TrainingJobName)
        const s = this.state(j)
        if (s.status !== 'InProgress') throw validation(`The request was rejected because the training job is in status ${s.status}.`)
        j.stoppedAt = Date.now()
        j.run?.stop()
        return {}
      }
      case 'CreateHyperParameterTuningJob':
        return { HyperParameterTuningJobArn: this.createTuningJob(p).arn }
      case 'DescribeHyperParameterTuningJob':
        return this.describeTuning(this.tuningJob(p.HyperParameterTuningJobName))
      case 'ListTrainingJobsForHyperParameterTuningJob': {
        const t = this.tuningJob(p.HyperParameterTuningJobName)
        return { TrainingJobSummaries: t.trials.map((n) => this.trialSummary(this.jobs.get(n)!)) }
      }
      case 'StopHyperParameterTuningJob': {
        const t = this.tuningJob(p.HyperParameterTuningJobName)
        t.stoppedAt = Date.now()
        for (const n of t.trials) {
          const j = this.jobs.get(n)!
          if (this.state(j).status === 'InProgress' && !j.stoppedAt) j.stoppedAt = Date.now()
          j.run?.stop()
        }
        return {}
      }
      case 'CreateModel': {
        const name = String(p.ModelName ?? '')
        if (this.models.has(name)) throw validation(`Cannot create already existing model "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model/${name.toLowerCase()}".`)
        if (!p.ExecutionRoleArn || !this.roles.has(p.ExecutionRoleArn)) throw validation(`Could not access model data or assume role ${p.ExecutionRoleArn}.`)
        if (!p.PrimaryContainer?.Image && !p.Containers?.length) throw validation('A PrimaryContainer or Containers is required.')
        const arn = `arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model/${name.toLowerCase()}`
        this.models.set(name, { arn, request: p, created: Date.now() })
        return { ModelArn: arn }
      }
      case 'CreateEndpointConfig': {
        const name = String(p.EndpointConfigName ?? '')
        if (this.endpointConfigs.has(name)) throw validation(`Cannot create already existing endpoint configuration "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint-config/${name.toLowerCase()}".`)
        const variants = p.ProductionVariants
        if (!Array.isArray(variants) || variants.length === 0) throw validation("1 validation error detected: Value null at 'productionVariants' failed to satisfy constraint: Member must not be null")
        for (const v of variants) {
          if (!this.models.has(v.ModelName)) throw validation(`Could not find model "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model/${String(v.ModelName).toLowerCase()}".`)
        }
        const arn = `arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint-config/${name.toLowerCase()}`
        this.endpointConfigs.set(name, { arn, request: p, created: Date.now() })
        return { EndpointConfigArn: arn }
      }
      case 'CreateEndpoint': {
        const name = String(p.EndpointName ?? '')
        if (this.endpoints.has(name)) throw validation(`Cannot create already existing endpoint "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint/${name.toLowerCase()}".`)
        if (!this.endpointConfigs.has(p.EndpointConfigName)) throw validation(`Could not find endpoint configuration "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint-config/${String(p.EndpointConfigName).toLowerCase()}".`)
        const quota = this.nextEndpointError
        if (quota) {
          this.nextEndpointError = null
          throw quota
        }
        const now = Date.now()
        const e: SmEndpoint = { name, arn: `arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint/${name.toLowerCase()}`, config: p.EndpointConfigName, created: now, readyAt: now + 2 * this.stepMs, modified: now }
        this.endpoints.set(name, e)
        this.loadConfig(name, e.config)
        return { EndpointArn: e.arn }
      }
      case 'UpdateEndpoint': {
        const e = this.smEndpoint(p.EndpointName)
        if (this.endpointStatus(e) !== 'InService') throw validation(`Cannot update in-progress endpoint "${e.arn}".`)
        if (!this.endpointConfigs.has(p.EndpointConfigName)) throw validation(`Could not find endpoint configuration "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint-config/${String(p.EndpointConfigName).toLowerCase()}".`)
        e.pendingConfig = p.EndpointConfigName
        e.readyAt = Date.now() + 2 * this.stepMs
        e.modified = Date.now()
        this.loadConfig(e.name, e.pendingConfig!)
        return { EndpointArn: e.arn }
      }
      case 'DescribeEndpoint':
        return this.describeEndpoint(this.smEndpoint(p.EndpointName))
      case 'DescribeEndpointConfig': {
        const c = this.endpointConfigs.get(p.EndpointConfigName)
        if (!c) throw validation(`Could not find endpoint configuration "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint-config/${String(p.EndpointConfigName).toLowerCase()}".`)
        return { EndpointConfigName: p.EndpointConfigName, EndpointConfigArn: c.arn, ProductionVariants: c.request.ProductionVariants, CreationTime: c.created / 1000 }
      }
      case 'DeleteEndpoint': {
        const e = this.smEndpoint(p.EndpointName)
        this.endpoints.delete(e.name)
        for (const key of [...this.serving.keys()]) if (key.startsWith(`${e.name}/`)) void this.stopServers(key)
        return {}
      }
      case 'DeleteEndpointConfig': {
        if (!this.endpointConfigs.delete(p.EndpointConfigName)) throw validation(`Could not find endpoint configuration "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:endpoint-config/${String(p.EndpointConfigName).toLowerCase()}".`)
        return {}
      }
      case 'DeleteModel': {
        if (!this.models.delete(p.ModelName)) throw validation(`Could not find model "arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:model/${String(p.ModelName).toLowerCase()}".`)
        return {}
      }
      case 'CreateModelPackageGroup':
        return this.createPackageGroup(p)
      case 'DescribeModelPackageGroup': {
        const g = this.packageGroups.get(p.ModelPackageGroupName)
        if (!g) throw validation(`ModelPackageGroup ${p.ModelPackageGroupName} does not exist.`)
        return { ModelPackageGroupName: p.ModelPackageGroupName, ModelPackageGroupArn: g.arn, ModelPackageGroupDescription: g.description, CreationTime: g.created / 1000, ModelPackageGroupStatus: 'Completed' }
      }
      case 'CreateModelPackage':
        return { ModelPackageArn: this.createPackage(p).arn }
      case 'ListModelPackages':
        return this.listPackages(p)
      case 'DescribeModelPackage':
        return this.describePackage(this.modelPackage(p.ModelPackageName))
      case 'UpdateModelPackage': {
        const m = this.modelPackage(p.ModelPackageArn)
        if (p.ModelApprovalStatus !== undefined) {
          if (!APPROVAL.has(p.ModelApprovalStatus)) throw validation(`1 validation error detected: Value '${p.ModelApprovalStatus}' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]`)
          m.status = p.ModelApprovalStatus
        }
        if (p.ApprovalDescription !== undefined) m.approvalDescription = String(p.ApprovalDescription)
        m.modified = Date.now()
        return { ModelPackageArn: m.arn }
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `Unknown operation SageMaker.${op}`)
    }
  }

  private job(name: unknown): TrainingJob {
    const j = typeof name === 'string' ? this.jobs.get(name) : undefined
    if (!j) throw validation('Requested resource not found.')
    return j
  }

  private tuningJob(name: unknown): TuningJob {
    const t = typeof name === 'string' ? this.tuning.get(name) : undefined
    if (!t) throw new AwsError(400, 'ResourceNotFound', `Amazon SageMaker can't find a tuning job with name ${String(name)}`)
    return t
  }

  private checkDefinition(p: Json, where: string): void {
    const need = (cond: unknown, field: string) => {
      if (!cond) throw validation(`1 validation error detected: Value null at '${where}${field}' failed to satisfy constraint: Member must not be null`)
    }
    need(p.AlgorithmSpecification?.TrainingImage || p.AlgorithmSpecification?.AlgorithmName, 'algorithmSpecification.trainingImage')
    need(p.RoleArn, 'roleArn')
    need(p.OutputDataConfig?.S3OutputPath, 'outputDataConfig.s3OutputPath')
    need(p.ResourceConfig?.InstanceType, 'resourceConfig.instanceType')
    need(p.ResourceConfig?.VolumeSizeInGB, 'resourceConfig.volumeSizeInGB')
    need(p.StoppingCondition, 'stoppingCondition')
    if (!this.roles.has(p.RoleArn)) {
      throw validation(
        `Could not assume role ${p.RoleArn}. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.`
      )
    }
    const sc = p.StoppingCondition ?? {}
    if (p.EnableManagedSpotTraining) {
      if (!sc.MaxWaitTimeInSeconds) throw validation('Invalid MaxWaitTimeInSeconds. It is required for managed spot training.')
      if (sc.MaxWaitTimeInSeconds < (sc.MaxRuntimeInSeconds ?? 86400)) {
        throw validation('Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds')
      }
    }
    for (const md of p.AlgorithmSpecification?.MetricDefinitions ?? []) {
      try {
        new RegExp(md.Regex)
      } catch {
        throw validation(`Metric definition regex '${md.Regex}' for metric '${md.Name}' is not a valid regular expression.`)
      }
    }
  }

  private checkName(name: unknown, field: string): string {
    if (typeof name !== 'string' || !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) {
      throw validation(
        `1 validation error detected: Value '${String(name)}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`
      )
    }
    return name
  }

  private takeCreateError(): void {
    const e = this.nextCreateError
    if (e) {
      this.nextCreateError = null
      throw e
    }
  }

  private createTrainingJob(p: Json): TrainingJob {
    const name = this.checkName(p.TrainingJobName, 'trainingJobName')
    this.checkDefinition(p, '')
    if (this.jobs.has(name)) {
      throw new AwsError(
        400,
        'ResourceInUse',
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${this.arn('training-job', name)})`
      )
    }
    this.takeCreateError()
    const hp: Json = p.HyperParameters ?? {}
    const now = Date.now()
    const job: TrainingJob = {
      name,
      arn: this.arn('training-job', name),
      request: p,
      created: now,
      startAt: now,
      hosts: Math.max(1, Number(p.ResourceConfig.InstanceCount ?? 1)),
      epochs: Math.max(1, Math.min(50, Number(hp.epochs ?? 3) || 3)),
      failWith: typeof hp.fake_fail_with === 'string' ? hp.fake_fail_with : undefined
    }
    if (this.runsForReal(hp)) job.run = new LocalTrainingRun(name, p, job.hosts, this.containerOptions())
    this.jobs.set(name, job)
    return job
  }

  /** Local container mode runs the jobs of a framework image (its program and code in the hyperparameters). */
  private runsForReal(hp: Json): boolean {
    return !!(this.localContainer && hp.sagemaker_program && hp.sagemaker_submit_directory)
  }

  private containerOptions(): LocalContainerOptions {
    return { ...this.localContainer!, credentials: this.credentials[0], region: this.region, awsEndpoint: this.endpoint }
  }

  /** Local container mode: the tuning job's next waiting trial runs, once a slot is free (at creation, or when a trial ends). */
  private startNextTrial(t: TuningJob): void {
    if (t.stoppedAt !== undefined || !this.server) return
    const j = t.trials.map((n) => this.jobs.get(n)!).find((x) => x.waiting && x.stoppedAt === undefined)
    if (!j) return
    j.waiting = false
    j.startAt = Date.now()
    j.run = new LocalTrainingRun(j.name, j.request, j.hosts, this.containerOptions(), () => this.startNextTrial(t))
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:sagemaker:${this.region}:${FAKE_ACCOUNT}:${kind}/${name.toLowerCase()}`
  }

  /** Where a job stands at `now`, derived from its clock. */
  private state(j: TrainingJob, now = Date.now()): {
    status: string
    secondary: string
    end?: number
    failure?: string
    lines: number
  } {
    if (j.waiting) return j.stoppedAt !== undefined ? { status: 'Stopped', secondary: 'Stopped', end: j.stoppedAt, lines: 0 } : { status: 'InProgress', secondary: 'Starting', lines: 0 }
    if (j.run) {
      const r = j.run
      const lines = r.events.get(1)!.length
      if (r.endedAt !== undefined) return { status: r.phase, secondary: r.phase === 'Stopped' ? (r.secondary ?? 'Stopped') : r.phase, end: r.endedAt, failure: r.failure, lines }
      return { status: r.phase === 'Stopping' ? 'Stopping' : 'InProgress', secondary: r.phase, lines }
    }
    const step = this.stepMs
    const runEnd = j.startAt + (3 + j.epochs) * step
    const elapsed = now - j.startAt
    const lines = Math.max(0, Math.min(j.epochs, Math.floor((elapsed - 2 * step) / step) + 1))
    if (j.stoppedAt !== undefined && j.stoppedAt < runEnd) {
      const stoppedLines = Math.max(0, Math.min(j.epochs, Math.floor((j.stoppedAt - j.startAt - 2 * step) / step) + 1))
      if (now < j.stoppedAt + step) return { status: 'Stopping', secondary: 'Stopping', lines: stoppedLines }
      return { status: 'Stopped', secondary: 'Stopped', end: j.stoppedAt + step, lines: stoppedLines }
    }
    if (now < j.startAt) return { status: 'InProgress', secondary: 'Starting', lines: 0 }
    if (now >= runEnd) {
      if (j.failWith) {
        return { status: 'Failed', secondary: 'Failed', end: runEnd, failure: j.failWith, lines: j.epochs }
      }
      return { status: 'Completed', secondary: 'Completed', end: runEnd, lines: j.epochs }
    }
    const phase = elapsed < step ? 0 : elapsed < 2 * step ? 1 : elapsed < (2 + j.epochs) * step ? 2 : 3
    return { status: 'InProgress', secondary: PHASES[phase], lines }
  }

  /** The log lines a job's training script printed (host 1 prints the metrics). */
  private logLines(j: TrainingJob, host: number, count: number): Array<{ t: number; m: string }> {
    const hp: Json = j.request.HyperParameters ?? {}
    const lr = Number(hp.lr ?? hp.learning_rate ?? 0.1) || 0.1
    const out: Array<{ t: number; m: string }> = []
    const base = j.startAt + 2 * this.stepMs
    out.push({ t: base - 1, m: `[host algo-${host}] Invoking script with hyperparameters ${JSON.stringify(hp)}` })
    for (let i = 0; i < count; i++) {
      const loss = (1 / (i + 1 + lr * 10)).toFixed(4)
      const acc = (1 - 1 / (i + 2 + lr * 10)).toFixed(4)
      out.push({ t: base + i * this.stepMs, m: `[host algo-${host}] epoch=${i + 1} loss=${loss} accuracy=${acc}` })
    }
    return out
  }

  private finalMetrics(j: TrainingJob, lines: number): Array<{ MetricName: string; Value: number; Timestamp: number }> {
    const defs: Array<{ Name: string; Regex: string }> = j.request.AlgorithmSpecification?.MetricDefinitions ?? []
    const text = j.run ? j.run.events.get(1)! : this.logLines(j, 1, lines)
    const out: Array<{ MetricName: string; Value: number; Timestamp: number }> = []
    for (const d of defs) {
      const re = new RegExp(d.Regex)
      let last: { v: number; t: number } | null = null
      for (const l of text) {
        const m = re.exec(l.m)
        if (m && m[1] !== undefined && Number.isFinite(Number(m[1]))) last = { v: Number(m[1]), t: l.t }
      }
      if (last) out.push({ MetricName: d.Name, Value: last.v, Timestamp: last.t / 1000 })
    }
    return out
  }

  private describe(j: TrainingJob): Json {
    const s = this.state(j)
    const p = j.request
    const transitions: Json[] = []
    const now = Date.now()
    if (j.run) for (const t of j.run.transitions) transitions.push({ Status: t.status, StartTime: t.at / 1000, StatusMessage: `${t.status} the training job` })
    if (j.waiting) transitions.push({ Status: 'Starting', StartTime: j.created / 1000, StatusMessage: 'Starting the training job' })
    for (let i = 0; i < PHASES.length && !j.run && !j.waiting; i++) {
      const start = j.startAt + (i === 0 ? 0 : i === 1 ? 1 : i === 2 ? 2 : 2 + j.epochs) * this.stepMs
      if (start > now || (s.end !== undefined && start > s.end)) break
      transitions.push({ Status: PHASES[i], StartTime: start / 1000, StatusMessage: `${PHASES[i]} the training job` })
    }
    const out: Json = {
      TrainingJobName: j.name,
      TrainingJobArn: j.arn,
      TrainingJobStatus: s.status,
      SecondaryStatus: s.secondary,
      SecondaryStatusTransitions: transitions,
      AlgorithmSpecification: p.AlgorithmSpecification,
      RoleArn: p.RoleArn,
      HyperParameters: p.HyperParameters ?? {},
      InputDataConfig: p.InputDataConfig,
      OutputDataConfig: p.OutputDataConfig,
      ResourceConfig: p.ResourceConfig,
      StoppingCondition: p.StoppingCondition,
      EnableManagedSpotTraining: !!p.EnableManagedSpotTraining,
      Environment: p.Environment ?? {},
      CreationTime: j.created / 1000,
      LastModifiedTime: (s.end ?? now) / 1000,
      ModelArtifacts: {
        S3ModelArtifacts: `${String(p.OutputDataConfig.S3OutputPath).replace(/\/$/, '')}/${j.name}/output/model.tar.gz`
      },
      FinalMetricDataList: this.finalMetrics(j, s.lines)
    }
    if (j.startAt <= now) out.TrainingStartTime = j.startAt / 1000
    if (s.end !== undefined) {
      out.TrainingEndTime = s.end / 1000
      out.TrainingTimeInSeconds = Math.max(1, Math.round((s.end - j.startAt) / 1000))
      out.BillableTimeInSeconds = out.TrainingTimeInSeconds
    }
    if (s.failure) out.FailureReason = s.failure
    if (j.tuningJob) out.TuningJobArn = this.tuning.get(j.tuningJob)?.arn
    if (s.status !== 'Completed') delete out.ModelArtifacts
    return out
  }

  private summary(j: TrainingJob): Json {
    const s = this.state(j)
    const out: Json = {
      TrainingJobName: j.name,
      TrainingJobArn: j.arn,
      CreationTime: j.created / 1000,
      LastModifiedTime: (s.end ?? Date.now()) / 1000,
      TrainingJobStatus: s.status,
      SecondaryStatus: s.secondary
    }
    if (s.end !== undefined) out.TrainingEndTime = s.end / 1000
    return out
  }

  private listTrainingJobs(p: Json): Json {
    const max = Math.min(100, Math.max(1, Number(p.MaxResults ?? 10)))
    let all = [...this.jobs.values()]
    if (typeof p.NameContains === 'string') all = all.filter((j) => j.name.includes(p.NameContains))
    if (typeof p.CreationTimeAfter === 'number') all = all.filter((j) => j.created / 1000 > p.CreationTimeAfter)
    if (typeof p.StatusEquals === 'string') all = all.filter((j) => this.state(j).status === p.StatusEquals)
    const ascending = p.SortOrder === 'Ascending'
    all.sort((a, b) => (ascending ? a.created - b.created : b.created - a.created) || (a.name < b.name ? -1 : 1))
    const start = p.NextToken ? Number(Buffer.from(String(p.NextToken), 'base64').toString('utf8')) : 0
    if (!Number.isInteger(start) || start < 0) throw validation('Invalid pagination token')
    const page = all.slice(start, start + max)
    const out: Json = { TrainingJobSummaries: page.map((j) => this.summary(j)) }
    if (start + max < all.length) out.NextToken = Buffer.from(String(start + max)).toString('base64')
    return out
  }

  private createTuningJob(p: Json): TuningJob {
    const name = this.checkName(p.HyperParameterTuningJobName, 'hyperParameterTuningJobName')
    if (name.length > 32) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'hyperParameterTuningJobName' failed to satisfy constraint: Member must have length less than or equal to 32`
      )
    }
    const cfg: Json = p.HyperParameterTuningJobConfig ?? {}
    const def: Json = p.TrainingJobDefinition ?? {}
    if (!cfg.Strategy) throw validation("1 validation error detected: Value null at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: Member must not be null")
    const maxJobs = Number(cfg.ResourceLimits?.MaxNumberOfTrainingJobs)
    const parallel = Number(cfg.ResourceLimits?.MaxParallelTrainingJobs)
    if (!maxJobs || !parallel) {
      throw validation("1 validation error detected: Value null at 'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' failed to satisfy constraint: Member must not be null")
    }
    const objective = cfg.HyperParameterTuningJobObjective
    const metricNames = (def.AlgorithmSpecification?.MetricDefinitions ?? []).map((d: Json) => d.Name)
    if (objective && !metricNames.includes(objective.MetricName)) {
      throw validation(`The objective metric '${objective.MetricName}' is not defined in the metric definitions.`)
    }
    this.checkDefinition(def, 'trainingJobDefinition.')
    if (this.tuning.has(name)) {
      throw new AwsError(400, 'ResourceInUse', `Hyperparameter tuning job name ${name} already exists in this account and region.`)
    }
    this.takeCreateError()
    const now = Date.now()
    const t: TuningJob = { name, arn: this.arn('hyper-parameter-tuning-job', name), request: p, created: now, trials: [] }
    const ranges: Json = cfg.ParameterRanges ?? {}
    const static_: Json = def.StaticHyperParameters ?? {}
    // Grid: every combination of the categorical values, in order (SageMaker allows only categorical ranges there)
    let grid: Record<string, string>[] | null = null
    if (cfg.Strategy === 'Grid') {
      if ((ranges.IntegerParameterRanges ?? []).length || (ranges.ContinuousParameterRanges ?? []).length) {
        throw validation('Grid search strategy supports only categorical hyperparameter ranges.')
      }
      grid = [{}]
      for (const r of ranges.CategoricalParameterRanges ?? []) grid = grid.flatMap((g) => (r.Values as string[]).map((v) => ({ ...g, [r.Name]: v })))
    }
    const trialCount = grid ? Math.min(grid.length, maxJobs) : maxJobs
    // local container mode: each trial runs its script for real, MaxParallelTrainingJobs at a time
    const real = this.runsForReal(static_)
    for (let k = 0; k < trialCount; k++) {
      const tuned: Record<string, string> = {}
      const rnd = (salt: string) => {
        const h = createHash('sha256').update(`${name}/${k}/${salt}`).digest()
        return h.readUInt32BE(0) / 0xffffffff
      }
      for (const r of ranges.IntegerParameterRanges ?? []) {
        const lo = Number(r.MinValue)
        const hi = Number(r.MaxValue)
        tuned[r.Name] = String(lo + Math.floor(rnd(r.Name) * (hi - lo + 1)))
      }
      for (const r of ranges.ContinuousParameterRanges ?? []) {
        const lo = Number(r.MinValue)
        const hi = Number(r.MaxValue)
        tuned[r.Name] = String(lo + rnd(r.Name) * (hi - lo))
      }
      for (const r of ranges.CategoricalParameterRanges ?? []) {
        tuned[r.Name] = grid ? grid[k][r.Name] : r.Values[Math.floor(rnd(r.Name) * r.Values.length) % r.Values.length]
      }
      const suffix = createHash('sha256').update(`${name}-${k}`).digest('hex').slice(0, 8)
      const trialName = `${name}-${String(k + 1).padStart(3, '0')}-${suffix}`
      const hp = { ...static_, ...tuned }
      const wave = Math.floor(k / parallel)
      const job: TrainingJob = {
        name: trialName,
        arn: this.arn('training-job', trialName),
        request: { ...def, TrainingJobName: trialName, HyperParameters: hp },
        created: now,
        startAt: now + wave * (4 + Math.max(1, Math.min(50, Number(hp.epochs ?? 3) || 3))) * this.stepMs,
        hosts: Math.max(1, Number(def.ResourceConfig?.InstanceCount ?? 1)),
        epochs: Math.max(1, Math.min(50, Number(hp.epochs ?? 3) || 3)),
        tuningJob: name,
        tunedHyperParameters: tuned,
        waiting: real || undefined
      }
      this.jobs.set(trialName, job)
      t.trials.push(trialName)
    }
    this.tuning.set(name, t)
    if (real) for (let k = 0; k < parallel; k++) this.startNextTrial(t)
    return t
  }

  private objectiveOf(t: TuningJob, j: TrainingJob): Json | undefined {
    const obj = t.request.HyperParameterTuningJobConfig?.HyperParameterTuningJobObjective
    if (!obj) return undefined
    const s = this.state(j)
    const m = this.finalMetrics(j, s.lines).find((x) => x.MetricName === obj.MetricName)
    return m ? { MetricName: m.MetricName, Value: m.Value } : undefined
  }

  private trialSummary(j: TrainingJob): Json {
    const t = this.tuning.get(j.tuningJob!)!
    const s = this.state(j)
    const out: Json = {
      TrainingJobName: j.name,
      TrainingJobArn: j.arn,
      TuningJobName: t.name,
      CreationTime: j.created / 1000,
      TrainingJobStatus: s.status,
      TunedHyperParameters: j.tunedHyperParameters
    }
    if (!j.waiting && j.startAt <= Date.now()) out.TrainingStartTime = j.startAt / 1000
    if (s.end !== undefined) out.TrainingEndTime = s.end / 1000
    if (s.failure) out.FailureReason = s.failure
    const obj = s.status === 'Completed' ? this.objectiveOf(t, j) : undefined
    if (obj) {
      out.FinalHyperParameterTuningJobObjectiveMetric = obj
      out.ObjectiveStatus = 'Succeeded'
    } else {
      out.ObjectiveStatus = 'Pending'
    }
    return out
  }

  private describeTuning(t: TuningJob): Json {
    const counts = { Completed: 0, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 }
    const summaries = t.trials.map((n) => this.trialSummary(this.jobs.get(n)!))
    for (const s of summaries) {
      if (s.TrainingJobStatus === 'Completed') counts.Completed++
      else if (s.TrainingJobStatus === 'Failed') counts.NonRetryableError++
      else if (s.TrainingJobStatus === 'Stopped') counts.Stopped++
      else counts.InProgress++
    }
    const done = counts.InProgress === 0
    const status = t.stoppedAt ? (done ? 'Stopped' : 'Stopping') : done ? 'Completed' : 'InProgress'
    const obj = t.request.HyperParameterTuningJobConfig?.HyperParameterTuningJobObjective
    const scored = summaries.filter((s) => s.FinalHyperParameterTuningJobObjectiveMetric)
    scored.sort((a, b) => {
      const d = a.FinalHyperParameterTuningJobObjectiveMetric.Value - b.FinalHyperParameterTuningJobObjectiveMetric.Value
      return obj?.Type === 'Maximize' ? -d : d
    })
    const out: Json = {
      HyperParameterTuningJobName: t.name,
      HyperParameterTuningJobArn: t.arn,
      HyperParameterTuningJobConfig: t.request.HyperParameterTuningJobConfig,
      TrainingJobDefinition: t.request.TrainingJobDefinition,
      HyperParameterTuningJobStatus: status,
      CreationTime: t.created / 1000,
      TrainingJobStatusCounters: counts,
      ObjectiveStatusCounters: { Succeeded: scored.length, Pending: summaries.length - scored.length, Failed: 0 }
    }
    if (scored[0]) out.BestTrainingJob = scored[0]
    return out
  }

  // ---------------------------------------------------------------- CloudWatch Logs

  private streams(): Array<{ job: TrainingJob; host: number; name: string }> {
    const out: Array<{ job: TrainingJob; host: number; name: string }> = []
    const now = Date.now()
    for (const j of this.jobs.values()) {
      if (j.waiting || (j.run ? !j.run.transitions.some((t) => t.status === 'Training') : now < j.startAt + 2 * this.stepMs - 1)) continue
      for (let h = 1; h <= j.hosts; h++) out.push({ job: j, host: h, name: `${j.name}/algo-${h}-${Math.floor(j.startAt / 1000)}` })
    }
    return out
  }

  private events(job: TrainingJob, host: number): Array<{ t: number; m: string }> {
    if (job.run) return job.run.events.get(host)!.slice()
    const s = this.state(job)
    return this.logLines(job, host, s.lines).filter((e) => e.t <= Date.now())
  }

  // ---------------------------------------------------------------- Secrets Manager

  /** Secrets by name: ARN, value, tags (a deleted one is gone at once, as with ForceDeleteWithoutRecovery). */
  readonly secrets = new Map<string, { arn: string; value: string; tags: Json[] }>()

  private secretOf(id: unknown): { name: string; arn: string; value: string } {
    for (const [name, sec] of this.secrets) if (name === id || sec.arn === id) return { name, ...sec }
    throw new AwsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
  }

  private secretsManager(op: string, p: Json): Json {
    switch (op) {
      case 'CreateSecret': {
        const name = String(p.Name ?? '')
        if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) throw new AwsError(400, 'ValidationException', `Invalid name: ${name}`)
        if (this.secrets.has(name)) throw new AwsError(400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`)
        const arn = `arn:aws:secretsmanager:${this.region}:${FAKE_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`
        this.secrets.set(name, { arn, value: String(p.SecretString ?? ''), tags: (p.Tags as Json[]) ?? [] })
        return { ARN: arn, Name: name, VersionId: randomUUID() }
      }
      case 'PutSecretValue': {
        const sec = this.secretOf(p.SecretId)
        this.secrets.set(sec.name, { ...this.secrets.get(sec.name)!, value: String(p.SecretString ?? '') })
        return { ARN: sec.arn, Name: sec.name, VersionId: randomUUID() }
      }
      case 'GetSecretValue': {
        const sec = this.secretOf(p.SecretId)
        return { ARN: sec.arn, Name: sec.name, SecretString: sec.value, VersionId: randomUUID(), CreatedDate: Date.now() / 1000 }
      }
      case 'DeleteSecret': {
        const sec = this.secretOf(p.SecretId)
        this.secrets.delete(sec.name)
        return { ARN: sec.arn, Name: sec.name, DeletionDate: Date.now() / 1000 }
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `Unknown operation secretsmanager.${op}`)
    }
  }

  private logs(op: string, p: Json): Json {
    if ((op === 'DescribeLogStreams' || op === 'GetLogEvents' || op === 'FilterLogEvents') && p.logGroupName !== LOG_GROUP) {
      throw new AwsError(400, 'ResourceNotFoundException', 'The specified log group does not exist.')
    }
    switch (op) {
      case 'DescribeLogStreams': {
        let all = this.streams()
        if (typeof p.logStreamNamePrefix === 'string') all = all.filter((s) => s.name.startsWith(p.logStreamNamePrefix))
        all.sort((a, b) => (a.name < b.name ? -1 : 1))
        const limit = Math.min(50, Number(p.limit ?? 50))
        const start = p.nextToken ? Number(p.nextToken) : 0
        const page = all.slice(start, start + limit)
        const out: Json = {
          logStreams: page.map((s) => {
            const ev = this.events(s.job, s.host)
            return {
              logStreamName: s.name,
              creationTime: s.job.startAt,
              firstEventTimestamp: ev[0]?.t,
              lastEventTimestamp: ev[ev.length - 1]?.t,
              lastIngestionTime: ev[ev.length - 1]?.t,
              uploadSequenceToken: '1',
              arn: `arn:aws:logs:${this.region}:${FAKE_ACCOUNT}:log-group:${LOG_GROUP}:log-stream:${s.name}`,
              storedBytes: 0
            }
          })
        }
        if (start + limit < all.length) out.nextToken = String(start + limit)
        return out
      }
      case 'GetLogEvents': {
        const s = this.streams().find((x) => x.name === p.logStreamName)
        if (!s) throw new AwsError(400, 'ResourceNotFoundException', 'The specified log stream does not exist.')
        const ev = this.events(s.job, s.host)
        const tok = typeof p.nextToken === 'string' ? /^f\/(\d+)$/.exec(p.nextToken) : null
        let from = tok ? Number(tok[1]) : 0
        if (!tok && typeof p.startTime === 'number') from = ev.findIndex((e) => e.t >= p.startTime)
        if (from < 0) from = ev.length
        const limit = Math.min(10000, Number(p.limit ?? 10000))
        const page = ev.slice(from, from + limit)
        const next = from + page.length
        return {
          events: page.map((e) => ({ timestamp: e.t, message: e.m, ingestionTime: e.t })),
          nextForwardToken: `f/${String(next).padStart(56, '0')}`,
          nextBackwardToken: `b/${String(from).padStart(56, '0')}`
        }
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `Unknown operation Logs_20140328.${op}`)
    }
  }
}
