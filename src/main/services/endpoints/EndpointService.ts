/**
 * Endpoints: registered model versions served by scoring servers (a backend: local now) behind one
 * proxy. Definitions live as JSON files under `<dataDir>/endpoints/<name>/endpoint.json` (the
 * token only as a SHA-256 hash there; the token itself in the secret store), so they outlive the
 * app; at start every endpoint that should run is re-attached to its still-running servers or
 * started again.
 *
 * Variants: the non-shadow variants share traffic by weight (a canary is a small weight); shadow
 * variants get a copy of each request. A change of variants (update, promote, rollback, an alias
 * that moved) starts the new servers first and switches traffic only once they serve, then stops
 * the servers no longer used, so no request is dropped; a new server that fails to load leaves the
 * old set in place and reports the error.
 *
 * An endpoint can instead live on a SageMaker target (`placement` in its definition): SageMaker runs
 * the variants (an approved model package's model data each) and splits traffic by their weights; a
 * change of variants moves the SageMaker endpoint onto a new configuration; requests still come
 * through the proxy (token, metrics, capture), which hands them to InvokeEndpoint.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import type { EventName, Events } from '../../../shared/api'
import { LOCAL_PRINCIPAL, type Principal } from '../../../shared/auth'
import type {
  BatchStatus,
  EndpointInfo,
  EndpointMetrics,
  EndpointState,
  InvokeResult,
  SignatureInfo,
  VariantInfo,
  VariantSpec
} from '../../../shared/endpoints'
import { redactEndpoint, type ReplayResult } from '../../../shared/endpoints'
import { replay } from './replay'
import { AppError } from '../../../shared/errors'
import type { DomainEventBus } from '../../domainEvents'
import type { Logger } from '../../log'
import type { LakeService } from '../lake/LakeService'
import type { RegistryService } from '../registry/RegistryService'
import type { SecretStore } from '../secrets/SecretStore'
import type { EndpointBackend, ManagedEndpointBackend, ManagedVariant, VariantRuntime } from './backend'
import { ManagedEndpoint } from './managed'
import { CaptureWriter, requestRecords } from './capture'
import { BUCKET_MS, VariantRecorder } from './metrics'
import { EndpointProxy, hashToken, type Route } from './proxy'
import { EndpointMonitor } from './monitor'
import { BatchRun } from './batch'
import { PACKAGE_ARN_TAG } from '../registry/sagemaker'
import type { DuckDBConnection } from '@duckdb/node-api'

interface StoredVariant {
  name: string
  version: number
  alias: string | null
  weight: number
  shadow: boolean
  /** SageMaker: the model data of the version's approved model package. */
  modelDataUrl?: string
}

/** A SageMaker endpoint's target and instances. */
interface StoredPlacement {
  kind: 'sagemaker'
  target: string
  endpointName: string
  instanceType: string
  instanceCount: number
}

interface StoredEndpoint {
  name: string
  model: string
  interpreter: string
  tokenHash: string
  variants: StoredVariant[]
  previous: StoredVariant[] | null
  capture: { enabled: boolean; samplingPercent: number }
  desired: 'running' | 'stopped'
  /** Absent: this machine. */
  placement?: StoredPlacement
  createdAt: number
  updatedAt: number
}

interface Active {
  spec: StoredVariant
  runtime: VariantRuntime
}

interface Live {
  monitor?: EndpointMonitor
  def: StoredEndpoint
  active: Active[]
  recorders: Map<string, VariantRecorder>
  capture: CaptureWriter
  /** The last error of a change that did not go through (a new version that failed to load). */
  changeError?: string
  /** Serialises changes of one endpoint. */
  lock: Promise<unknown>
  /** The SageMaker endpoint, once its target's backend is known. */
  managed?: ManagedEndpoint
  /** The target's name and region, for display. */
  targetInfo?: { name: string; region: string | null }
}

/** A saved cloud target's endpoint backend. */
export interface ManagedTarget {
  backend: ManagedEndpointBackend
  targetName: string
  region: string | null
}

export interface EndpointServiceDeps {
  dataDir: string
  registry: RegistryService
  domain: DomainEventBus
  secrets: SecretStore
  lake?: LakeService
  backend: EndpointBackend
  emit: <E extends EventName>(event: E, payload: Events[E]) => void
  log: Logger
  /** The Python to run scoring servers with when the caller names none. */
  defaultInterpreter: () => Promise<string>
  /** The proxy's port when none was used before (0: any free port). */
  port?: number
  captureFlushMs?: number
  /** A connection to the Data room's DuckDB (drift baselines read its tables). */
  sql?: () => Promise<DuckDBConnection>
  /** The endpoint backend of a saved SageMaker target, by id. */
  managed?: (targetId: string) => Promise<ManagedTarget>
  /** On-demand hosting prices per instance-hour (the shipped table). */
  hostingPrices?: () => { currency: string; hosting: Record<string, number> }
  /** SageMaker status polls: while Creating/Updating, and once settled (ms). */
  managedPollMs?: { busy: number; idle: number }
}

const PRIMARY = 'primary'
const secretKey = (name: string) => `endpoint-token:${name}`

export class EndpointService {
  private readonly live = new Map<string, Live>()
  readonly proxy: EndpointProxy
  private readonly root: string
  private readonly unsubscribe: (() => void)[] = []

  constructor(private readonly d: EndpointServiceDeps) {
    this.root = join(d.dataDir, 'endpoints')
    this.proxy = new EndpointProxy({ resolve: (name) => this.route(name) })
  }

  /** Binds the proxy (on its previous port when free) and re-attaches or starts every endpoint that should run. */
  async init(): Promise<void> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 })
    const portFile = join(this.root, 'proxy.json')
    let previous = this.d.port ?? 0
    try {
      previous = (JSON.parse(readFileSync(portFile, 'utf8')) as { port: number }).port
    } catch {
      // first start
    }
    const port = await this.proxy.listen(previous)
    writeFileSync(portFile, JSON.stringify({ port }))
    for (const dir of readdirSync(this.root, { withFileTypes: true })) {
      if (!dir.isDirectory() || dir.name === 'run') continue
      const def = this.readDef(dir.name)
      if (!def) continue
      const live = this.makeLive(def)
      if (def.placement) void this.attachManaged(live)
      else if (def.desired === 'running') void this.startAll(live)
      if (this.d.sql && existsSync(join(this.root, def.name, 'monitor', 'statistics.json'))) this.monitor(def.name)
    }
    this.unsubscribe.push(
      this.d.domain.on('alias.moved', (e) => void this.followAlias(e.name, e.alias)),
      this.d.domain.on('model_version.approved', (e) => {
        for (const l of this.live.values()) for (const v of l.def.variants) if (l.def.model === e.name && v.alias) void this.followAlias(e.name, v.alias)
      })
    )
    const guard = (name: string, version: number | null) => this.guardDelete(name, version)
    this.d.registry.deleteGuards.push(guard)
    this.unsubscribe.push(() => {
      const i = this.d.registry.deleteGuards.indexOf(guard)
      if (i >= 0) this.d.registry.deleteGuards.splice(i, 1)
    })
  }

  get url(): string {
    return `http://127.0.0.1:${this.proxy.port}`
  }

  // ---------- definitions ----------

  private defPath(name: string) {
    return join(this.root, name, 'endpoint.json')
  }

  private readDef(name: string): StoredEndpoint | null {
    try {
      return JSON.parse(readFileSync(this.defPath(name), 'utf8')) as StoredEndpoint
    } catch {
      return null
    }
  }

  private saveDef(def: StoredEndpoint) {
    def.updatedAt = Date.now()
    mkdirSync(join(this.root, def.name), { recursive: true })
    writeFileSync(`${this.defPath(def.name)}.tmp`, JSON.stringify(def, null, 2))
    renameSync(`${this.defPath(def.name)}.tmp`, this.defPath(def.name))
  }

  private makeLive(def: StoredEndpoint): Live {
    const live: Live = {
      def,
      active: [],
      recorders: new Map(),
      capture: new CaptureWriter(this.captureDir(def.name), this.d.log, { flushMs: this.d.captureFlushMs }),
      lock: Promise.resolve()
    }
    this.live.set(def.name, live)
    return live
  }

  private readonly batches = new Map<string, BatchRun>()

  /** Starts a batch prediction of a Data room table; progress comes as `endpoint.batch` events. */
  startBatch(name: string, table: string, output?: string): BatchStatus {
    this.require(name)
    const sql = this.d.sql
    if (!sql) throw new AppError('UNSUPPORTED', 'Batch prediction needs the Data room here')
    const out = output ?? `${table.split('.').pop()!.replace(/[^A-Za-z0-9_]/g, '_')}_${name.replace(/-/g, '_')}_predictions`
    let columns: string[] = []
    try {
      columns = this.signature(name).inputs.map((c) => c.name)
    } catch {
      columns = []
    }
    const run = new BatchRun(name, table, join(this.root, name, 'batch'), out, {
      connect: sql,
      invoke: (body) => this.invoke(name, body),
      publish: async (file, tableName) => {
        if (!this.d.lake) return file
        const existing = (await this.d.lake.listSources()).find((s) => s.name === tableName)
        if (existing) await this.d.lake.removeSource(existing.id)
        // the result file is the app's own: added as the app
        await this.d.lake.addSource({ kind: 'file', location: file, name: tableName }, LOCAL_PRINCIPAL)
        return tableName
      },
      onStatus: (s) => this.d.emit('endpoint.batch', s)
    })
    this.batches.set(run.status.batchId, run)
    void run.run(columns)
    return { ...run.status }
  }

  batch(batchId: string): BatchRun {
    const b = this.batches.get(batchId)
    if (!b) throw new AppError('NOT_FOUND', `No batch prediction ${batchId}`)
    return b
  }

  /** The endpoint's drift monitor (baseline, schedule, alarm). */
  monitor(name: string): EndpointMonitor {
    const live = this.require(name)
    if (!live.monitor) {
      const sql = this.d.sql
      if (!sql) throw new AppError('UNSUPPORTED', 'Drift monitoring needs the Data room here')
      live.monitor = new EndpointMonitor(name, join(this.root, name, 'monitor'), this.captureDir(name), {
        connect: sql,
        flushCapture: () => live.capture.flush(),
        onAlarm: (window) => this.d.emit('endpoint.alarm', { name, window }),
        log: this.d.log
      })
    }
    return live.monitor
  }

  /** Shadow evaluation: the last `n` captured requests replayed against the last three approved versions. */
  async replay(name: string, p: { n: number; labelColumn?: string }): Promise<ReplayResult> {
    const live = this.require(name)
    const sql = this.d.sql
    if (!sql) throw new AppError('UNSUPPORTED', 'Replay needs the Data room here')
    const approved = this.d.registry.listVersions({ name: live.def.model, approvalStatus: 'Approved', maxResults: 3 }).versions
    return replay(
      {
        endpoint: name,
        model: live.def.model,
        interpreter: live.def.interpreter,
        captureDir: this.captureDir(name),
        backend: this.d.backend,
        connect: sql,
        flushCapture: () => live.capture.flush(),
        versions: approved.map((v) => ({ version: v.version, aliases: v.aliases })),
        modelDir: (v) => this.modelDir(live.def.model, v),
        served: live.def.variants.map((v) => v.version)
      },
      p
    )
  }

  captureDir(name: string): string {
    return join(this.root, name, 'capture')
  }

  private require(name: string): Live {
    const l = this.live.get(name)
    if (!l) throw new AppError('NOT_FOUND', `No endpoint named '${name}'`, { name })
    return l
  }

  // ---------- models ----------

  /** The local folder of a registered version (its MLmodel file checked). */
  modelDir(model: string, version: number): string {
    const { artifactUri } = this.d.registry.resolveModelUri(`models:/${model}/${version}`)
    let dir: string
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(artifactUri)
    if (m) dir = join(this.d.dataDir, 'artifacts', ...m[1].split('/').filter((s) => s !== '' && s !== '..' && s !== '.'))
    else if (artifactUri.startsWith('file:')) dir = fileURLToPath(artifactUri)
    else if (isAbsolute(artifactUri)) dir = artifactUri
    else throw new AppError('ENDPOINT_ERROR', `Version ${version} of '${model}' is stored at ${artifactUri}, which this machine cannot serve from`)
    if (!existsSync(join(dir, 'MLmodel'))) throw new AppError('ENDPOINT_ERROR', `Version ${version} of '${model}' has no MLmodel file in ${dir}`)
    return dir
  }

  private resolveVersion(model: string, v: { version?: number; alias?: string }): number {
    if (v.alias) return this.d.registry.versionByAlias(model, v.alias).version
    if (v.version === undefined) throw new AppError('INVALID_REQUEST', 'give a version or an alias')
    return this.d.registry.getVersion(model, v.version).version
  }

  // ---------- runtimes ----------

  private runtimeKey(name: string, v: StoredVariant) {
    return `${name}--${v.name}--v${v.version}`
  }

  private async runtimeFor(live: Live, v: StoredVariant): Promise<VariantRuntime> {
    const key = this.runtimeKey(live.def.name, v)
    const existing = live.active.find((a) => a.runtime.key === key)
    if (existing) return existing.runtime
    return this.d.backend.start({
      key,
      modelDir: this.modelDir(live.def.model, v.version),
      interpreter: live.def.interpreter,
      onChange: () => this.changed(live)
    })
  }

  private async startAll(live: Live): Promise<void> {
    const active: Active[] = []
    for (const spec of live.def.variants) {
      try {
        active.push({ spec, runtime: await this.runtimeFor(live, spec) })
      } catch (err) {
        live.changeError = (err as Error).message
      }
    }
    live.active = active
    this.changed(live)
    await Promise.all(active.map((a) => a.runtime.ready().catch(() => undefined)))
    this.changed(live)
  }

  /** Starts what `next` needs, waits until it serves, switches traffic, stops what is left over. */
  private switchTo(live: Live, next: StoredVariant[], previous: StoredVariant[] | null): Promise<EndpointInfo> {
    const run = live.lock.then(async () => {
      const started: VariantRuntime[] = []
      const active: Active[] = []
      for (const spec of next) {
        const key = this.runtimeKey(live.def.name, spec)
        const reuse = live.active.find((a) => a.runtime.key === key)
        const runtime = reuse?.runtime ?? (await this.runtimeFor(live, spec))
        if (!reuse) started.push(runtime)
        active.push({ spec, runtime })
      }
      await Promise.all(started.map((r) => r.ready()))
      const failed = started.find((r) => r.info().state === 'failed')
      if (failed) {
        const error = failed.info().error ?? 'the scoring server failed'
        await Promise.all(started.map((r) => r.stop()))
        live.changeError = error
        this.changed(live)
        throw new AppError('ENDPOINT_ERROR', `The new variant did not start; traffic stays where it was.\n${error}`, { error })
      }
      const old = live.active
      live.active = active
      live.def.variants = next
      live.def.previous = previous
      live.changeError = undefined
      this.saveDef(live.def)
      const keep = new Set(active.map((a) => a.runtime.key))
      await Promise.all(old.filter((a) => !keep.has(a.runtime.key)).map((a) => a.runtime.stop()))
      this.changed(live)
      return this.info(live)
    })
    live.lock = run.catch(() => undefined)
    return run
  }

  // ---------- contract ----------

  async deploy(p: {
    name: string
    model: string
    version?: number
    alias?: string
    interpreter?: string
    variants?: VariantSpec[]
    capture?: { enabled: boolean; samplingPercent: number }
    sagemaker?: { target: string; instanceType: string; instanceCount: number }
  }): Promise<{ endpoint: EndpointInfo }> {
    if (this.live.has(p.name)) throw new AppError('ALREADY_EXISTS', `An endpoint named '${p.name}' already exists`, { name: p.name })
    const primary: StoredVariant = { name: PRIMARY, version: this.resolveVersion(p.model, p), alias: p.alias ?? null, weight: 100, shadow: false }
    const variants = [primary, ...(p.variants ?? []).map((v) => this.storedVariant(p.model, v))]
    if (p.variants?.length) {
      const w = variants.filter((v) => !v.shadow).reduce((a, v) => a + v.weight, 0)
      if (w !== 100) primary.weight = Math.max(0, 100 - (w - 100))
    }
    checkVariants(variants)
    let managed: { target: ManagedTarget; variants: StoredVariant[] } | null = null
    if (p.sagemaker) {
      const target = await this.managedTarget(p.sagemaker.target)
      managed = { target, variants: await this.withModelData(target.backend, p.model, variants) }
    } else for (const v of variants) this.modelDir(p.model, v.version)
    const token = randomBytes(24).toString('base64url')
    const now = Date.now()
    const def: StoredEndpoint = {
      name: p.name,
      model: p.model,
      interpreter: p.interpreter ?? (await this.d.defaultInterpreter()),
      tokenHash: hashToken(token),
      variants: managed ? managed.variants : variants,
      previous: null,
      capture: p.capture ?? { enabled: false, samplingPercent: 0 },
      desired: 'running',
      ...(p.sagemaker
        ? { placement: { kind: 'sagemaker' as const, target: p.sagemaker.target, endpointName: p.name, instanceType: p.sagemaker.instanceType, instanceCount: p.sagemaker.instanceCount } }
        : {}),
      createdAt: now,
      updatedAt: now
    }
    this.d.secrets.set(secretKey(p.name), token)
    this.saveDef(def)
    const live = this.makeLive(def)
    if (managed) {
      const m = this.makeManaged(live, managed.target)
      const creating = m.apply(this.managedVariants(def, def.variants)).catch((err: Error) => {
        live.changeError = err.message
        this.changed(live)
      })
      live.lock = creating
    } else void this.startAll(live)
    return { endpoint: this.info(live) }
  }

  private storedVariant(model: string, v: VariantSpec): StoredVariant {
    return { name: v.name, version: this.resolveVersion(model, v), alias: v.alias ?? null, weight: v.shadow ? 0 : v.weight, shadow: v.shadow ?? false }
  }

  list(): EndpointInfo[] {
    return [...this.live.values()].map((l) => this.info(l)).sort((a, b) => a.name.localeCompare(b.name))
  }

  /** Names of the endpoints that live on a cloud target (which must not be removed under them). */
  onTarget(targetId: string): string[] {
    return [...this.live.values()].filter((l) => l.def.placement?.target === targetId).map((l) => l.def.name).sort()
  }

  get(name: string): { endpoint: EndpointInfo } {
    return { endpoint: this.info(this.require(name)) }
  }

  async update(p: { name: string; variants?: VariantSpec[]; promote?: string; rollback?: true; background?: boolean }): Promise<{ endpoint: EndpointInfo }> {
    const live = this.require(p.name)
    const current = live.def.variants
    let next: StoredVariant[]
    if (p.rollback) {
      if (!live.def.previous) throw new AppError('INVALID_STATE', `Endpoint '${p.name}' has nothing to roll back to`)
      next = live.def.previous
    } else if (p.promote) {
      const v = current.find((x) => x.name === p.promote)
      if (!v) throw new AppError('NOT_FOUND', `Endpoint '${p.name}' has no variant '${p.promote}'`)
      next = [{ ...v, weight: 100, shadow: false }]
    } else if (p.variants) {
      next = p.variants.map((v) => {
        const same = current.find((x) => x.name === v.name)
        // a variant given by name only keeps its version
        if (same && v.version === undefined && v.alias === undefined) return { ...same, weight: v.shadow ? 0 : v.weight, shadow: v.shadow ?? false }
        return this.storedVariant(live.def.model, v)
      })
    } else throw new AppError('INVALID_REQUEST', 'give variants, promote or rollback')
    checkVariants(next)
    return { endpoint: await (live.def.placement ? this.switchManaged(live, next, current, p.background) : this.switchTo(live, next, current)) }
  }

  async start(name: string): Promise<{ endpoint: EndpointInfo }> {
    const live = this.require(name)
    live.def.desired = 'running'
    this.saveDef(live.def)
    if (live.def.placement) return { endpoint: await this.switchManaged(live, live.def.variants, live.def.previous) }
    if (live.active.length === 0) await this.startAll(live)
    return { endpoint: this.info(live) }
  }

  async stop(name: string): Promise<{ endpoint: EndpointInfo }> {
    const live = this.require(name)
    if (live.def.placement) {
      // a stopped SageMaker endpoint costs nothing: it is deleted (configuration and models too)
      await live.lock
      await live.managed?.remove()
      live.def.desired = 'stopped'
      this.saveDef(live.def)
      this.changed(live)
      return { endpoint: this.info(live) }
    }
    live.def.desired = 'stopped'
    this.saveDef(live.def)
    const active = live.active
    live.active = []
    await Promise.all(active.map((a) => a.runtime.stop()))
    this.changed(live)
    return { endpoint: this.info(live) }
  }

  async delete(name: string): Promise<{ ok: true }> {
    const live = this.require(name)
    await this.stop(name)
    live.managed?.dispose()
    live.monitor?.dispose()
    await live.capture.close()
    this.live.delete(name)
    this.d.secrets.delete(secretKey(name))
    rmSync(join(this.root, name, 'endpoint.json'), { force: true })
    // captured data stays (it may be open in the Data room); the definition goes
    return { ok: true }
  }

  setCapture(name: string, enabled: boolean, samplingPercent: number): { endpoint: EndpointInfo } {
    const live = this.require(name)
    live.def.capture = { enabled, samplingPercent }
    this.saveDef(live.def)
    this.changed(live)
    return { endpoint: this.info(live) }
  }

  /** Adds the endpoint's captured Parquet files as a Data room source (`capture_<name>`). */
  async openCapture(name: string, principal: Principal = LOCAL_PRINCIPAL): Promise<{ source: string }> {
    const live = this.require(name)
    await live.capture.flush()
    if (!this.d.lake) throw new AppError('UNSUPPORTED', 'The Data room is not available here')
    const dir = this.captureDir(name)
    if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.parquet'))) {
      throw new AppError('NOT_FOUND', `Endpoint '${name}' has captured nothing yet (turn capture on and send requests)`)
    }
    const source = `capture_${name.replace(/-/g, '_')}`
    const existing = (await this.d.lake.listSources()).find((s) => s.name === source)
    if (existing) await this.d.lake.refresh(existing.id)
    // the capture folder is the app's own (not the caller's files): added as the app
    else await this.d.lake.addSource({ kind: 'folder', location: dir, format: 'parquet', name: source }, principal.role === 'admin' ? principal : LOCAL_PRINCIPAL)
    return { source }
  }

  metrics(name: string): EndpointMetrics {
    const live = this.require(name)
    const names = new Set([...live.def.variants.map((v) => v.name), ...live.recorders.keys()])
    return {
      name,
      bucketMs: BUCKET_MS,
      variants: [...names].map((n) => (live.recorders.get(n) ?? new VariantRecorder()).snapshot(n, live.def.variants.find((v) => v.name === n)?.shadow ?? false))
    }
  }

  signature(name: string): SignatureInfo {
    const live = this.require(name)
    const primary = live.def.variants.find((v) => !v.shadow) ?? live.def.variants[0]
    const dir = this.modelDir(live.def.model, primary.version)
    const mlmodel = parseYaml(readFileSync(join(dir, 'MLmodel'), 'utf8')) as { signature?: { inputs?: string }; saved_input_example_info?: { artifact_path?: string } }
    let inputs: { name: string; type: string }[] = []
    try {
      const cols = JSON.parse(mlmodel.signature?.inputs ?? '[]') as { name?: string; type: string }[]
      inputs = cols.filter((c) => c.name).map((c) => ({ name: c.name!, type: c.type }))
    } catch {
      inputs = []
    }
    let example: Record<string, unknown>[] | null = null
    const ex = mlmodel.saved_input_example_info?.artifact_path
    if (ex && existsSync(join(dir, ex))) example = requestRecords(JSON.stringify({ dataframe_split: JSON.parse(readFileSync(join(dir, ex), 'utf8')) }), 'application/json')
    return { inputs, example }
  }

  /** Calls the endpoint through its proxy (so metrics and capture see it) with its own token. */
  invoke(name: string, body: string, contentType = 'application/json'): Promise<InvokeResult> {
    this.require(name)
    const token = this.d.secrets.get(secretKey(name)) ?? ''
    const t0 = performance.now()
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.proxy.port,
          path: `/endpoints/${name}/invocations`,
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': Buffer.byteLength(body) }
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: unknown = text
            try {
              parsed = JSON.parse(text)
            } catch {
              // not JSON: the text as is
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, latencyMs: performance.now() - t0, variant: (res.headers['x-atelier-variant'] as string | undefined) ?? null })
          })
        }
      )
      req.on('error', (err) => reject(new AppError('ENDPOINT_ERROR', `Could not reach the endpoint proxy: ${err.message}`)))
      req.end(body)
    })
  }

  // ---------- routing, state ----------

  private recorder(live: Live, variant: string): VariantRecorder {
    let r = live.recorders.get(variant)
    if (!r) live.recorders.set(variant, (r = new VariantRecorder()))
    return r
  }

  private route(name: string): Route | null {
    const live = this.live.get(name)
    if (!live) return null
    const m = live.managed
    return {
      ...(live.def.placement
        ? {
            managed: {
              unavailable: () => (m ? (live.def.desired === 'stopped' ? 'This endpoint is stopped' : m.unavailable()) : 'The SageMaker target is not connected yet'),
              invoke: (body: Buffer, contentType: string) => m!.invoke(body, contentType)
            }
          }
        : {}),
      tokenHash: live.def.tokenHash,
      variants: (live.def.placement ? live.def.variants.map((spec) => ({ spec, runtime: null })) : live.active).map((a) => ({
        name: a.spec.name,
        weight: a.spec.weight,
        shadow: a.spec.shadow,
        target: () => a.runtime?.target() ?? null,
        record: (ms: number, error: boolean) => this.recorder(live, a.spec.name).record(ms, error)
      })),
      samplingPercent: live.def.capture.enabled ? live.def.capture.samplingPercent : 0,
      capture: (row) => live.capture.add(row)
    }
  }

  private changed(live: Live) {
    if (!this.live.has(live.def.name)) return
    // every connected client gets events, read-only roles included: never the token
    this.d.emit('endpoint.changed', redactEndpoint(this.info(live), false))
  }

  private info(live: Live): EndpointInfo {
    if (live.def.placement) return this.managedInfo(live, live.def.placement)
    const def = live.def
    const variants: VariantInfo[] = def.variants.map((spec) => {
      const a = live.active.find((x) => x.spec.name === spec.name)
      const rt = a?.runtime.info()
      return {
        name: spec.name,
        model: def.model,
        version: a?.spec.version ?? spec.version,
        alias: spec.alias,
        weight: spec.weight,
        shadow: spec.shadow,
        state: rt ? rt.state : def.desired === 'stopped' ? 'stopped' : 'starting',
        error: rt?.error,
        server: rt?.server ?? 'atelier',
        port: rt?.port ?? null,
        pid: rt?.pid ?? null,
        restarts: rt?.restarts ?? 0
      }
    })
    const serving = variants.filter((v) => !v.shadow)
    let state: EndpointState
    let error: string | undefined
    if (def.desired === 'stopped') state = 'stopped'
    else if (serving.some((v) => v.state === 'failed')) {
      state = 'failed'
      error = serving.find((v) => v.state === 'failed')?.error
    } else if (live.active.length === 0 && live.changeError) {
      state = 'failed'
      error = live.changeError
    } else if (serving.length > 0 && serving.every((v) => v.state === 'running')) state = 'running'
    else state = 'starting'
    return { ...this.commonInfo(def), state, ...(error ? { error } : live.changeError ? { error: live.changeError } : {}), variants }
  }

  /** What an endpoint's page shows whatever serves it: names, address, token, previous rollout, capture, times. */
  private commonInfo(def: StoredEndpoint) {
    return {
      name: def.name,
      model: def.model,
      alias: def.variants.find((v) => v.name === PRIMARY)?.alias ?? null,
      url: `${this.url}/endpoints/${def.name}/invocations`,
      token: this.d.secrets.get(secretKey(def.name)) ?? '',
      interpreter: def.interpreter,
      previous: def.previous ? def.previous.map((v) => ({ name: v.name, version: v.version, ...(v.alias ? { alias: v.alias } : {}), weight: v.weight, shadow: v.shadow })) : null,
      capture: def.capture,
      createdAt: def.createdAt,
      updatedAt: def.updatedAt
    }
  }

  // ---------- SageMaker ----------

  private managedTarget(targetId: string): Promise<ManagedTarget> {
    if (!this.d.managed) throw new AppError('UNSUPPORTED', 'SageMaker endpoints are not available here')
    return this.d.managed(targetId)
  }

  private makeManaged(live: Live, t: ManagedTarget): ManagedEndpoint {
    const poll = this.d.managedPollMs ?? { busy: 15_000, idle: 60_000 }
    live.managed?.dispose()
    live.managed = new ManagedEndpoint(t.backend, live.def.placement!.endpointName, { busyPollMs: poll.busy, idlePollMs: poll.idle, onChange: () => this.changed(live) })
    live.targetInfo = { name: t.targetName, region: t.region }
    return live.managed
  }

  /** After a restart: describes the SageMaker endpoint (no deploy) and follows its status. */
  private async attachManaged(live: Live): Promise<void> {
    try {
      const m = this.makeManaged(live, await this.managedTarget(live.def.placement!.target))
      if (live.def.desired === 'running') await m.attach()
      else this.changed(live)
    } catch (err) {
      live.changeError = (err as Error).message
      this.changed(live)
    }
  }

  /** Each variant with the model data of its version's SageMaker model package, which must be approved. */
  private async withModelData(backend: ManagedEndpointBackend, model: string, variants: StoredVariant[]): Promise<StoredVariant[]> {
    const out: StoredVariant[] = []
    for (const v of variants) {
      if (v.shadow) throw new AppError('INVALID_REQUEST', 'A SageMaker endpoint takes no shadow variants; give the variant a traffic weight instead')
      const arn = this.d.registry.getVersion(model, v.version).tags[PACKAGE_ARN_TAG]
      if (!arn) {
        throw new AppError('INVALID_STATE', `Version ${v.version} of '${model}' has not been pushed to SageMaker's Model Registry; push it from the Models room and approve it in Reviews first.`)
      }
      out.push({ ...v, modelDataUrl: await backend.approvedModelData(arn) })
    }
    return out
  }

  private managedVariants(def: StoredEndpoint, variants: StoredVariant[]): ManagedVariant[] {
    const p = def.placement!
    return variants.map((v) => ({ name: v.name, modelDataUrl: v.modelDataUrl!, weight: v.weight, instanceType: p.instanceType, instanceCount: p.instanceCount }))
  }

  /** Moves the SageMaker endpoint onto `next`; the definition changes once SageMaker serves it. */
  private async switchManaged(live: Live, next: StoredVariant[], previous: StoredVariant[] | null, background = false): Promise<EndpointInfo> {
    const connected = () => {
      const m = live.managed
      if (!m) throw new AppError('INVALID_STATE', `The SageMaker target of endpoint '${live.def.name}' is not connected${live.changeError ? `: ${live.changeError}` : ''}`)
      return m
    }
    // what SageMaker must have (approved packages with model data) is checked before anything changes
    const withData = await this.withModelData(connected().backend, live.def.model, next)
    const run = live.lock.then(async () => {
      const m = connected()
      try {
        await m.apply(this.managedVariants(live.def, withData))
      } catch (err) {
        live.changeError = (err as Error).message
        this.changed(live)
        throw err
      }
      live.def.variants = withData
      live.def.previous = previous
      live.def.desired = 'running'
      live.changeError = undefined
      this.saveDef(live.def)
      this.changed(live)
      return this.info(live)
    })
    live.lock = run.catch(() => undefined)
    if (!background) return run
    // the change goes on (minutes on SageMaker): its status and any failure show on the endpoint
    return this.info(live)
  }

  private managedInfo(live: Live, p: StoredPlacement): EndpointInfo {
    const def = live.def
    const m = live.managed
    const status = m?.status ?? null
    const now = def.desired === 'stopped' ? { state: 'stopped' as const } : m ? m.state() : live.changeError ? { state: 'failed' as const, error: live.changeError } : { state: 'starting' as const }
    const error = now.state === 'stopped' ? undefined : (('error' in now ? now.error : undefined) ?? live.changeError)
    const variants: VariantInfo[] = def.variants.map((spec) => {
      const sv = status?.variants.find((v) => v.name === spec.name)
      return {
        name: spec.name,
        model: def.model,
        version: spec.version,
        alias: spec.alias,
        weight: sv?.weight ?? spec.weight,
        shadow: false,
        state: now.state,
        ...(now.state === 'failed' && error ? { error } : {}),
        server: 'sagemaker',
        port: null,
        pid: null,
        restarts: 0,
        instances: sv?.instances ?? (now.state === 'stopped' ? 0 : p.instanceCount)
      }
    })
    let prices: { currency: string; hosting: Record<string, number> } = { currency: 'USD', hosting: {} }
    try {
      prices = this.d.hostingPrices?.() ?? prices
    } catch (err) {
      // an unreadable price table costs the cost column, not the endpoint's page
      this.d.log.warn('endpoints: cannot read the SageMaker price table', err)
    }
    const price = prices.hosting[p.instanceType] ?? null
    return {
      ...this.commonInfo(def),
      state: now.state,
      ...(error ? { error } : {}),
      variants,
      sagemaker: {
        target: p.target,
        targetName: live.targetInfo?.name ?? p.target,
        region: live.targetInfo?.region ?? null,
        endpointName: p.endpointName,
        instanceType: p.instanceType,
        instanceCount: p.instanceCount,
        status: def.desired === 'stopped' ? null : (status?.status ?? null),
        failureReason: status?.failureReason ?? null,
        pricePerHour: price,
        costPerHour: price === null || def.desired === 'stopped' ? null : Math.round(price * p.instanceCount * def.variants.length * 1000) / 1000,
        currency: prices.currency,
        createdAt: def.desired === 'stopped' ? null : (status?.createdAt ?? null)
      }
    }
  }

  // ---------- registry hooks ----------

  /** Refuses to delete a version (or a model, `version` null) that an endpoint serves. */
  guardDelete(model: string, version: number | null): void {
    for (const l of this.live.values()) {
      if (l.def.model !== model) continue
      const used = [...l.def.variants, ...l.active.map((a) => a.spec)].filter((v) => version === null || v.version === version)
      if (used.length > 0) {
        const what = version === null ? `Model '${model}'` : `Version ${version} of '${model}'`
        throw new AppError('IN_USE', `${what} is served by endpoint '${l.def.name}' (variant ${used[0].name}); stop or change that endpoint first`, {
          endpoint: l.def.name
        })
      }
    }
  }

  /** Redeploys the variants that follow `alias` of `model` when it now names another version. */
  private async followAlias(model: string, alias: string): Promise<void> {
    for (const live of this.live.values()) {
      if (live.def.model !== model || live.def.desired !== 'running') continue
      if (!live.def.variants.some((v) => v.alias === alias)) continue
      let target: number
      try {
        target = this.d.registry.versionByAlias(model, alias).version
      } catch {
        continue // the alias was removed: keep serving what is deployed
      }
      const next = live.def.variants.map((v) => (v.alias === alias && v.version !== target ? { ...v, version: target } : v))
      if (next.every((v, i) => v.version === live.def.variants[i].version)) continue
      try {
        await (live.def.placement ? this.switchManaged(live, next, live.def.variants) : this.switchTo(live, next, live.def.variants))
        this.d.log.info(`endpoint ${live.def.name}: ${model}@${alias} moved to version ${target}; redeployed`)
      } catch (err) {
        this.d.log.warn(`endpoint ${live.def.name}: could not follow ${model}@${alias} to version ${target}`, err)
      }
    }
  }

  /** Leaves the scoring servers running (a later app re-attaches) and closes the proxy. */
  async dispose(): Promise<void> {
    for (const u of this.unsubscribe) u()
    for (const l of this.live.values()) {
      for (const a of l.active) a.runtime.detach()
      l.managed?.dispose()
      l.monitor?.dispose()
      await l.capture.close()
    }
    await this.proxy.close()
  }

  /** Stops every scoring server (tests; an uninstall). */
  async stopAll(): Promise<void> {
    for (const l of this.live.values()) await Promise.all(l.active.map((a) => a.runtime.stop()))
  }
}

function checkVariants(variants: StoredVariant[]) {
  const names = new Set<string>()
  for (const v of variants) {
    if (names.has(v.name)) throw new AppError('INVALID_REQUEST', `Variant name '${v.name}' is used twice`)
    names.add(v.name)
  }
  const serving = variants.filter((v) => !v.shadow)
  if (serving.length === 0) throw new AppError('INVALID_REQUEST', 'At least one variant must take traffic (not shadow)')
  const total = serving.reduce((a, v) => a + v.weight, 0)
  if (Math.abs(total - 100) > 1e-6) throw new AppError('INVALID_REQUEST', `The traffic weights of the non-shadow variants must add up to 100 (they add up to ${total})`)
}
