import { EventEmitter } from 'node:events'
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { EventName, Events } from '../shared/api'
import { openDatabase, type AppDatabase } from './db'
import { atelierPythonEnv } from './pythonPath'
import { DomainEventBus } from './domainEvents'
import { createHandlers } from './handlers'
import { createLogger, type Logger } from './log'
import { createRouter, type Router } from './rpc/router'
import { AuthService, type AuthChange } from './services/auth/AuthService'
import { trackingTokenSource } from './services/auth/trackingToken'
import { detectGpus } from './services/jobs/HostBackend'
import { JobService, type JobServiceDeps } from './services/jobs/JobService'
import { createKernelStack, type KernelStack, type KernelStackOptions } from './services/kernels'
import { DuckEngine } from './services/lake/engine'
import { LakeService } from './services/lake/LakeService'
import { jobProvider, kernelProvider, serverProvider, tunnelProvider } from './services/running/providers'
import { RunningService, type RunningServiceDeps } from './services/running/RunningService'
import { SecretStore, type SecretCipher } from './services/secrets/SecretStore'
import { SettingsService } from './services/settings/SettingsService'
import { knownHostsIn } from './services/ssh/connect'
import { createTrackingRest } from './services/tracking/rest'
import { TrackingService } from './services/tracking/TrackingService'
import type { HttpMount } from './serve/server'
import { WorkspaceService } from './services/workspace/WorkspaceService'
import { AuditLog } from './services/audit/AuditLog'
import { auditAuthChanges } from './services/audit/authEvents'
import { RegistryService } from './services/registry/RegistryService'
import { createRegistryRest } from './services/registry/rest'
import { EndpointService } from './services/endpoints/EndpointService'
import { LocalBackend, type LocalBackendOptions } from './services/endpoints/LocalBackend'
import { endpointProvider } from './services/endpoints/running'
import { hostingPrices, sagemakerEndpointTargets } from './services/endpoints/SageMakerBackend'
import { BuilderService } from './services/builder/BuilderService'

export interface CoreOptions {
  dataDir: string
  /** Folder to open; else the most recently opened one. */
  workspace?: string
  mode: 'electron' | 'serve' | 'test'
  version?: string
  secretCipher?: SecretCipher
  log?: Logger
  /** DuckDB extension repository (tests: a closed loopback port, so nothing leaves the machine). */
  extensionRepository?: string
  memoryLimit?: string
  /** Kernels & notebooks: discovery environment, relay limits, timeouts (tests). */
  kernels?: KernelStackOptions
  /** Training jobs: Slurm CLI environment, poll intervals, local concurrency/GPUs (tests, bench). */
  jobs?: Partial<Pick<JobServiceDeps, 'slurmEnv' | 'pollMs' | 'fastPollMs' | 'localConcurrency' | 'localGpus' | 'graceSeconds' | 'cloud' | 'outputRetryMs'>>
  /** Every user and API-token change (for the audit trail). */
  onAuthChange?: (change: AuthChange) => void
  /** Running panel: how often idle policies are checked (tests). */
  running?: Pick<RunningServiceDeps, 'tickMs'>
  /** Endpoints: the proxy's first port (0: any), scoring-server supervision (tests). */
  endpoints?: { port?: number; captureFlushMs?: number; backend?: Partial<LocalBackendOptions> }
}

export interface Core {
  db: AppDatabase
  settings: SettingsService
  workspace: WorkspaceService
  secrets: SecretStore
  lake: LakeService
  tracking: TrackingService
  /** Kernels & notebooks; `kernels.envProviders` is the one place that injects env vars into kernels. */
  kernels: KernelStack
  /** Training jobs (local, SSH, Slurm) and sweeps; unfinished jobs are re-attached at start. */
  jobs: JobService
  /** Model registry, reviews and the audit trail. */
  registry: RegistryService
  audit: AuditLog
  /** Model endpoints: scoring servers behind one loopback proxy, re-attached at start. */
  endpoints: EndpointService
  /** The no-code model builder. */
  builder: BuilderService
  /** Typed domain events (`model_version.approved`, `alias.moved`) that services subscribe to. */
  domain: DomainEventBus
  /** Everything live (servers, kernels, jobs, tunnels; services register providers) and idle policies. */
  running: RunningService
  router: Router
  /** Users, sessions and API tokens (`serve`'s doors resolve every request to a principal here). */
  auth: AuthService
  /** The tracking-only token a door hands kernels and jobs (MLflow REST routes only, revocable). */
  trackingToken: () => string
  /** HTTP routes a door serves beside the contract (the MLflow REST API), behind its token. */
  mounts: HttpMount[]
  events: {
    on<E extends EventName>(event: E, l: (payload: Events[E]) => void): () => void
    onAny(l: (event: EventName, payload: unknown) => void): () => void
    emit<E extends EventName>(event: E, payload: Events[E]): void
  }
  dispose(): Promise<void>
}

/** The composition root: every service built once and handed its dependencies. No Electron here. */
export async function createCore(opts: CoreOptions): Promise<Core> {
  const log = opts.log ?? createLogger('core')
  // the data dir holds the database, secrets and artifacts: its owner's alone
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 })
  chmodSync(opts.dataDir, 0o700)
  const db = openDatabase(join(opts.dataDir, 'atelier.db'))
  const emitter = new EventEmitter()
  emitter.setMaxListeners(100)
  const emit = <E extends EventName>(event: E, payload: Events[E]) => {
    emitter.emit(event, payload)
    emitter.emit('*', event, payload)
  }
  const settings = new SettingsService(db)
  // users and tokens are in the audit trail with the registry's changes
  const audit = new AuditLog(db)
  const auditAuth = auditAuthChanges(audit)
  const auth = new AuthService({
    db,
    onChange: (c) => {
      auditAuth(c)
      opts.onAuthChange?.(c)
    }
  })
  const workspace = new WorkspaceService(db)
  const secrets = new SecretStore(join(opts.dataDir, 'secrets.json'), opts.secretCipher)
  const trackingToken = trackingTokenSource(auth, secrets)
  const engine = await DuckEngine.create({
    scratchDir: join(opts.dataDir, 'scratch'),
    extensionRepository: opts.extensionRepository ?? process.env.ATELIER_DUCKDB_EXTENSION_REPOSITORY,
    memoryLimit: opts.memoryLimit
  })
  const lake = new LakeService({ db, engine, workspace, secrets, emit, log, dataDir: opts.dataDir })
  const tracking = new TrackingService({ db, dataDir: opts.dataDir, emit, log })
  // ---------- kernels & notebooks ----------
  // Later issues add kernel environment (e.g. MLFLOW_TRACKING_URI/TOKEN) with kernels.envProviders.push(() => ({...})).
  const kernels = createKernelStack({
    store: settings,
    secrets,
    workspace,
    emit,
    log,
    options: opts.kernels,
    dataDir: opts.dataDir,
    defaultLifetime: opts.mode === 'serve' ? 'keep-running' : 'stop-with-app'
  })
  // local kernels log to this app's tracking store (the URI is known once an HTTP door listens)
  kernels.envProviders.push(() => tracking.trackingEnv())
  // and import the shipped `atelier` package (saving models in MLflow's format)
  kernels.envProviders.push(() => atelierPythonEnv())
  // kernels of a Jupyter server adopted from an earlier run get the tracking address of this one
  tracking.onEndpoint(() => void kernels.kernels.refreshEnv())
  const start = opts.workspace ?? workspace.lastOpened()
  if (start) {
    try {
      await workspace.open(start, { create: opts.workspace !== undefined })
    } catch (err) {
      log.warn(`could not open workspace ${start}`, err)
    }
  }
  await lake.ready()
  await kernels.resume()
  // ---------- training jobs ----------
  // GPUs are found in the background (nvidia-smi can take seconds, or hang on a sick driver): start-up
  // does not wait; the list the job backends read is filled in place when the answer comes.
  const localGpus: number[] = opts.jobs?.localGpus ?? []
  if (!opts.jobs?.localGpus) void detectGpus().then((found) => localGpus.push(...found.map((g) => g.index)))
  const jobs = new JobService({
    db,
    dataDir: opts.dataDir,
    tracking,
    secrets,
    knownHosts: knownHostsIn(settings),
    emit,
    log,
    workspacePath: () => workspace.path,
    ...opts.jobs,
    localGpus
  })
  jobs.start()
  // ---------- model registry, reviews, audit trail ----------
  const domain = new DomainEventBus(log)
  const registry = new RegistryService({
    db,
    audit,
    tracking,
    domain,
    emit,
    log,
    policyDirs: () => RegistryService.policyDirs(workspace.path, opts.dataDir)
  })
  const running = new RunningService({ settings, emit, log, ...opts.running })
  running.register(serverProvider(kernels))
  running.register(kernelProvider(kernels))
  running.register(jobProvider(jobs))
  running.register(tunnelProvider(kernels))
  // ---------- endpoints ----------
  const endpoints = new EndpointService({
    dataDir: opts.dataDir,
    registry,
    domain,
    secrets,
    lake,
    backend: new LocalBackend({ runDir: join(opts.dataDir, 'endpoints', 'run'), ...opts.endpoints?.backend }),
    emit,
    log,
    port: opts.endpoints?.port ?? Number(process.env.ATELIER_ENDPOINTS_PORT ?? 0),
    captureFlushMs: opts.endpoints?.captureFlushMs,
    sql: () => engine.connect(),
    managed: sagemakerEndpointTargets(jobs, Number(process.env.ATELIER_SAGEMAKER_POLL_MS ?? 0) || undefined),
    hostingPrices: () => hostingPrices(),
    ...(process.env.ATELIER_SAGEMAKER_POLL_MS ? { managedPollMs: { busy: Number(process.env.ATELIER_SAGEMAKER_POLL_MS), idle: 10 * Number(process.env.ATELIER_SAGEMAKER_POLL_MS) } } : {}),
    defaultInterpreter: () =>
      kernels.interpreters
        .selected()
        .then((i) => i.path)
        .catch(() => '/usr/bin/python3')
  })
  await endpoints.init()
  running.register(endpointProvider(endpoints))
  // ---------- model builder ----------
  const builder = new BuilderService({
    dataDir: opts.dataDir,
    engine,
    lake,
    tracking,
    jobs,
    registry,
    interpreters: kernels.interpreters,
    workspacePath: () => workspace.path,
    emit,
    onJob: (status, jobLog) => {
      emitter.on('job.status', status)
      emitter.on('job.log', jobLog)
    },
    log
  })
  const handlers = createHandlers({
    info: { mode: opts.mode, version: opts.version ?? '0.1.0', dataDir: opts.dataDir, duckdbVersion: engine.version },
    settings,
    workspace,
    lake,
    tracking,
    kernelStack: kernels,
    jobs,
    auth,
    registry,
    audit,
    running,
    endpoints,
    builder
  })
  const router = createRouter(handlers, log)
  return {
    db,
    settings,
    workspace,
    secrets,
    lake,
    tracking,
    kernels,
    jobs,
    registry,
    audit,
    endpoints,
    builder,
    domain,
    running,
    router,
    auth,
    trackingToken,
    // the registry's routes first: its prefixes are inside the tracking API's
    mounts: [createRegistryRest(registry, log), createTrackingRest(tracking, log)],
    events: {
      on(event, l) {
        emitter.on(event, l)
        return () => emitter.off(event, l)
      },
      onAny(l) {
        emitter.on('*', l)
        return () => emitter.off('*', l)
      },
      emit
    },
    async dispose() {
      running.dispose()
      await endpoints.dispose()
      builder.dispose()
      await jobs.dispose()
      await kernels.dispose()
      tracking.dispose()
      await lake.dispose()
      engine.close()
      db.close()
    }
  }
}
