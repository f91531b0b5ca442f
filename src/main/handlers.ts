import { estimateCost } from './services/jobs/SageMakerBackend'
import type { AppInfo, Method, QueryTab } from '../shared/api'
import { AppError } from '../shared/errors'
import type { CallContext } from '../shared/auth'
import type { Handlers } from './rpc/router'
import { authHandlers } from './services/auth/handlers'
import type { AuthService } from './services/auth/AuthService'
import type { JobService } from './services/jobs/JobService'
import type { KernelStack } from './services/kernels'
import type { LakeService } from './services/lake/LakeService'
import type { AuditLog } from './services/audit/AuditLog'
import { builderHandlers } from './services/builder/handlers'
import type { BuilderService } from './services/builder/BuilderService'
import { registryHandlers } from './services/registry/handlers'
import { SageMakerRegistry, sagemakerBackendOf } from './services/registry/sagemaker'
import { endpointHandlers } from './services/endpoints/handlers'
import type { EndpointService } from './services/endpoints/EndpointService'
import type { RegistryService } from './services/registry/RegistryService'
import { runningHandlers } from './services/running/handlers'
import type { RunningService } from './services/running/RunningService'
import type { SettingsService } from './services/settings/SettingsService'
import type { TrackingService } from './services/tracking/TrackingService'
import type { WorkspaceService } from './services/workspace/WorkspaceService'
import { pathAccess } from './services/workspace/access'

interface Deps {
  /** Kernels & notebooks. */
  kernelStack: KernelStack
  info: Pick<AppInfo, 'mode' | 'version' | 'dataDir' | 'duckdbVersion'>
  settings: SettingsService
  workspace: WorkspaceService
  lake: LakeService
  tracking: TrackingService
  /** Training jobs. */
  jobs: JobService
  auth: AuthService
  /** Model registry, reviews and the audit trail. */
  registry: RegistryService
  audit: AuditLog
  /** The Running panel: live servers, kernels, jobs, tunnels; stops and idle policies. */
  running: RunningService
  /** Model endpoints (scoring servers behind the proxy). */
  endpoints: EndpointService
  /** The no-code model builder. */
  builder: BuilderService
}

/** The handler table: one entry per contract method, each a thin call into a service. */
export function createHandlers({ info, settings, workspace, lake, tracking, kernelStack, jobs, auth, registry, audit, running, endpoints, builder }: Deps): Handlers {
  // query tabs are the caller's own: signed-in users each keep theirs (the desktop and the start-up token share one set)
  const tabsKey = ({ principal }: CallContext) =>
    principal.via === 'session' || principal.via === 'api-token' ? `tabs:${workspace.id ?? 'none'}:user:${principal.id}` : `tabs:${workspace.id ?? 'none'}`
  return {
    'app.info': () => ({ name: 'Atelier', ...info, workspace: workspace.path }),
    'workspace.open': async ({ path }, ctx) => {
      const r = await workspace.open(path, {}, pathAccess(ctx.principal))
      await lake.ready()
      return r
    },
    'workspace.recent': () => workspace.recent(),
    'fs.list': ({ path, showHidden }, ctx) => workspace.list(path, showHidden, pathAccess(ctx.principal)),
    'settings.get': ({ key }) => ({ value: settings.get(key) ?? null }),
    'settings.set': ({ key, value }) => {
      settings.setFromCaller(key, value)
      return { ok: true }
    },
    'tabs.load': (_p, ctx) => settings.get<{ tabs: QueryTab[]; activeId: string | null }>(tabsKey(ctx)) ?? { tabs: [], activeId: null },
    'tabs.save': ({ tabs, activeId }, ctx) => {
      settings.set(tabsKey(ctx), { tabs, activeId: activeId ?? null })
      return { ok: true }
    },
    'lake.sources.list': () => lake.listSources(),
    'lake.sources.add': (p, ctx) => lake.addSource(p, ctx.principal),
    'lake.sources.remove': async ({ id }) => {
      await lake.removeSource(id)
      return { ok: true }
    },
    'lake.sources.refresh': async ({ id }) => {
      await lake.refresh(id)
      return { ok: true }
    },
    'lake.catalog': () => lake.catalog(),
    'lake.query': ({ queryId, sql, pageSize, format }, ctx) =>
      lake.runQuery(queryId, sql, pageSize, ctx.principal, format === 'arrow' && ctx.binary ? 'arrow' : 'json'),
    'lake.page': ({ queryId, offset, limit, format }, ctx) => lake.page(queryId, offset, limit, format === 'arrow' && ctx.binary ? 'arrow' : 'json'),
    'lake.cancel': ({ queryId }) => ({ cancelled: lake.cancel(queryId) }),
    'lake.close': async ({ queryId }) => {
      await lake.close(queryId)
      return { ok: true }
    },
    'lake.complete': ({ sql, position }) => lake.complete(sql, position),
    'lake.profile': (p, ctx) => lake.profile(p, ctx.principal),
    'lake.chart': ({ queryId, ...req }) => lake.chart(queryId, req),
    'lake.export': (p, ctx) => lake.export(p, ctx.principal),
    'lake.history': ({ limit }) => lake.history(limit),
    'tracking.connection': () => tracking.connection(),
    'tracking.experiments.list': ({ viewType }) => tracking.listExperiments(viewType),
    'tracking.runs.search': ({ viewType, ...req }) => tracking.searchRuns({ ...req, runViewType: viewType }),
    'tracking.run.get': ({ runId }) => tracking.getRun(runId),
    'tracking.run.delete': ({ runId }) => tracking.setRunDeleted(runId, true),
    'tracking.run.restore': ({ runId }) => tracking.setRunDeleted(runId, false),
    'tracking.run.setNote': ({ runId, note }) => tracking.setRunNote(runId, note),
    'tracking.experiment.delete': ({ experimentId }) => tracking.setExperimentDeleted(experimentId, true),
    'tracking.experiment.restore': ({ experimentId }) => tracking.setExperimentDeleted(experimentId, false),
    'tracking.metrics.history': ({ format, ...p }, ctx) => tracking.metricHistory(p, format === 'arrow' && ctx.binary ? 'arrow' : 'json'),
    'tracking.groups.summary': ({ viewType, ...req }) => tracking.groupSummary({ ...req, runViewType: viewType }),
    'tracking.groups.series': (p) => tracking.groupSeries(p),
    'tracking.groups.compare': (p) => tracking.compareGroups(p),
    'tracking.artifacts.list': ({ runId, path }) => tracking.listArtifacts(runId, path),
    'tracking.artifacts.read': ({ runId, path, maxBytes }) => tracking.readArtifact(runId, path, maxBytes),
    ...kernelAndNotebookHandlers(kernelStack),
    ...jobHandlers(jobs, endpoints),
    ...authHandlers(auth),
    ...registryHandlers(registry, audit, new SageMakerRegistry({ registry, backend: sagemakerBackendOf(jobs) })),
    ...runningHandlers(running),
    ...endpointHandlers(endpoints),
    ...builderHandlers(builder)
  }
}

// ---------- training jobs ----------
type JobMethod = Extract<Method, `jobs.${string}`>

function jobHandlers(jobs: JobService, endpoints: Pick<EndpointService, 'onTarget'>): Pick<Handlers, JobMethod> {
  return {
    'jobs.validate': async ({ spec }) => ({ fieldErrors: [...jobs.validate(spec), ...(await jobs.targetProblems(spec))] }),
    'jobs.submit': ({ spec }) => jobs.submit(spec),
    'jobs.list': (filter) => jobs.list(filter),
    'jobs.get': ({ jobId }) => jobs.get(jobId),
    'jobs.cancel': ({ jobId }) => jobs.cancel(jobId),
    'jobs.logs': ({ jobId, fromLine, maxLines }) => jobs.logs(jobId, fromLine, maxLines),
    'jobs.targets.list': () => jobs.targets.list(),
    'jobs.targets.availability': async ({ refresh }) => ({ slurmHere: await jobs.slurmHere(refresh) }),
    'jobs.targets.save': ({ target }) => jobs.targets.save(target),
    'jobs.targets.remove': async ({ targetId }) => {
      const onIt = endpoints.onTarget(targetId)
      if (onIt.length) throw new AppError('INVALID_STATE', `Endpoints live on this target: ${onIt.join(', ')}. Delete them first (the Endpoints room), then remove the target.`)
      await jobs.targets.remove(targetId)
      return { ok: true as const }
    },
    'jobs.targets.test': ({ targetId }) => jobs.targets.test(targetId),
    'jobs.estimateCost': ({ spec }) => estimateCost(spec),
    'jobs.sweeps.submit': ({ spec, sweep }) => jobs.sweeps.submit(spec, sweep),
    'jobs.sweeps.list': () => jobs.sweeps.list(),
    'jobs.sweeps.get': ({ sweepId }) => jobs.sweeps.get(sweepId),
    'jobs.sweeps.stop': ({ sweepId }) => jobs.sweeps.stop(sweepId)
  }
}

// ---------- kernels & notebooks ----------
type KernelMethod = Extract<Method, `kernels.${string}` | `notebooks.${string}`>

function kernelAndNotebookHandlers({ interpreters, servers, kernels, notebooks }: KernelStack): Pick<Handlers, KernelMethod> {
  const ok = { ok: true } as const
  return {
    'kernels.interpreters': ({ refresh }) => interpreters.report(refresh),
    'kernels.selectInterpreter': ({ path }) => interpreters.select(path),
    'kernels.createVenv': ({ basePython, dir }) => interpreters.createVenv(basePython, dir),
    'kernels.servers': () => servers.list(),
    'kernels.startLocal': ({ python }) => servers.startLocal(python),
    'kernels.connect': (p) => servers.connect(p),
    'kernels.disconnect': async ({ serverId, forget }) => {
      kernels.serverLost(serverId, 'The server was disconnected.')
      await servers.disconnect(serverId, forget)
      return ok
    },
    'kernels.setLifetime': (p) => servers.setLifetime(p),
    'kernels.specs': ({ serverId }) => kernels.specs(serverId),
    'kernels.list': () => kernels.list(),
    'kernels.start': (p) => kernels.start(p),
    'kernels.interrupt': async ({ kernelId }) => (await kernels.interrupt(kernelId), ok),
    'kernels.restart': ({ kernelId }) => kernels.restart(kernelId),
    'kernels.shutdown': async ({ kernelId }) => (await kernels.shutdown(kernelId), ok),
    'kernels.execute': (p) => kernels.execute(p),
    'kernels.complete': ({ kernelId, code, cursorPos }) => kernels.complete(kernelId, code, cursorPos),
    'kernels.inspect': ({ kernelId, code, cursorPos, detailLevel }) => kernels.inspect(kernelId, code, cursorPos, detailLevel),
    'kernels.inputReply': ({ kernelId, value }) => (kernels.inputReply(kernelId, value), ok),
    'kernels.fullOutput': ({ kernelId, msgId, name, offset, limit }) => kernels.fullOutput(kernelId, msgId, name, offset, limit),
    'kernels.variables': ({ kernelId }) => kernels.variables(kernelId),
    'kernels.forNotebook': ({ path }) => kernels.forNotebook(path),
    'kernels.fullDisplay': ({ kernelId, msgId, index }) => kernels.fullDisplay(kernelId, msgId, index),
    'kernels.openFrame': ({ kernelId, name }) => kernels.openFrame(kernelId, name),
    'notebooks.open': ({ path }, ctx) => notebooks.open(path, pathAccess(ctx.principal)),
    'notebooks.save': ({ path, notebook, expectedHash, force }, ctx) =>
      notebooks.save(path, notebook, { expectedHash, force, access: pathAccess(ctx.principal) }),
    'notebooks.create': ({ path, kernelName, kernelDisplayName, language }, ctx) =>
      notebooks.create(path, { name: kernelName, displayName: kernelDisplayName, language }, pathAccess(ctx.principal)),
    'notebooks.list': ({ dir }, ctx) => notebooks.list(dir, undefined, pathAccess(ctx.principal))
  }
}
