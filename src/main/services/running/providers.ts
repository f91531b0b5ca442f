import { KernelAPI } from '@jupyterlab/services'
import type { KernelStack } from '../kernels'
import { LOCAL_SERVER_ID } from '../kernels'
import type { CostEstimate, JobInfo, JobSpec } from '../../../shared/jobs'
import type { JobService } from '../jobs/JobService'
import { estimateCost } from '../jobs/SageMakerBackend'
import { toJobInfo, type JobRow } from '../jobs/store'
import type { ProcSnapshot } from './procMem'
import type { ProvidedItem, RunningProvider } from './RunningService'

/** The pids of the local Jupyter server's kernels, by kernel id (jupyter_client passes `kernel-<id>.json`). */
function localKernelPids(stack: KernelStack, proc: ProcSnapshot): Map<string, number> {
  const out = new Map<string, number>()
  const serverPid = stack.servers.localManager?.pid
  if (!serverPid) return out
  for (const pid of proc.descendants(serverPid)) {
    const m = /kernel-([0-9a-f-]{36})\.json/.exec(proc.cmdline(pid))
    if (m && !out.has(m[1])) out.set(m[1], pid)
  }
  return out
}

/** Kernels Atelier opened: state and idle time from their Jupyter server, memory from /proc (local server only). */
export function kernelProvider(stack: KernelStack): RunningProvider {
  return {
    kind: 'kernel',
    async list(proc) {
      const kernels = stack.kernels.list()
      const servers = new Map(stack.servers.list().map((s) => [s.id, s]))
      const models = new Map<string, KernelAPI.IModel>()
      for (const serverId of new Set(kernels.map((k) => k.serverId))) {
        try {
          const settings = await stack.servers.settingsFor(serverId)
          for (const m of await KernelAPI.listRunning(settings)) models.set(m.id, m)
        } catch {
          // the server does not answer now: its kernels are listed without Jupyter's view
        }
      }
      const pids = localKernelPids(stack, proc)
      return kernels.map((k): ProvidedItem => {
        const model = models.get(k.kernelId)
        // Jupyter says 'starting' until it relays the kernel's first status; our own connection knows by then
        const state = !model?.execution_state || model.execution_state === 'starting' ? k.status : model.execution_state
        const pid = k.serverId === LOCAL_SERVER_ID ? pids.get(k.kernelId) : undefined
        const lastActivity = model?.last_activity ? Date.parse(model.last_activity) : NaN
        return {
          id: k.kernelId,
          name: k.path ?? k.specName,
          state,
          detail: `${k.specName} on ${servers.get(k.serverId)?.name ?? k.serverId}${pid ? ` · pid ${pid}` : ''}`,
          idle: state === 'idle',
          idleSince: Number.isFinite(lastActivity) ? lastActivity : null,
          memoryBytes: pid ? proc.treeRss(pid) : null
        }
      })
    },
    stop: (id) => stack.kernels.shutdown(id)
  }
}

/** Jupyter servers: the local one (its own memory, kernels not counted) and connected remote ones. */
export function serverProvider(stack: KernelStack): RunningProvider {
  return {
    kind: 'server',
    async list(proc) {
      const kernels = stack.kernels.list()
      const kernelTrees = new Set<number>()
      for (const pid of localKernelPids(stack, proc).values()) for (const p of proc.tree(pid)) kernelTrees.add(p)
      return stack.servers
        .list()
        .filter((s) => s.state === 'ready' || s.state === 'starting' || s.state === 'restarting')
        .map((s) => {
          const n = kernels.filter((k) => k.serverId === s.id).length
          return {
            id: s.id,
            name: s.name,
            state: s.state,
            detail: `${s.baseUrl}${s.pid ? ` · pid ${s.pid}` : ''} · ${n} kernel${n === 1 ? '' : 's'}`,
            idle: s.state === 'ready' && n === 0,
            memoryBytes: s.kind === 'local' && s.pid ? proc.treeRss(s.pid, kernelTrees) : null
          }
        })
    },
    async stop(id) {
      stack.kernels.serverLost(id, 'The server was stopped from the Running panel.')
      await stack.servers.disconnect(id)
    }
  }
}

/** SSH tunnels to remote Jupyter servers (closing one disconnects that server). */
export function tunnelProvider(stack: KernelStack): RunningProvider {
  return {
    kind: 'tunnel',
    async list() {
      return stack.servers
        .list()
        .filter((s) => s.kind === 'ssh' && s.ssh && (s.state === 'ready' || s.state === 'starting'))
        .map((s) => ({
          id: s.id,
          name: `${s.ssh!.username}@${s.ssh!.host}:${s.ssh!.port}`,
          state: 'open',
          detail: `to ${s.name} (${s.baseUrl})`,
          idle: false,
          memoryBytes: null
        }))
    },
    async stop(id) {
      stack.kernels.serverLost(id, 'Its SSH tunnel was closed from the Running panel.')
      await stack.servers.disconnect(id)
    }
  }
}

/** Jobs queued or running; local ones' memory from their process tree; SageMaker ones' instances and cost. */
export function jobProvider(jobs: JobService, opts: { now?: () => number; tablesDir?: string } = {}): RunningProvider {
  return {
    kind: 'job',
    async list(proc) {
      const now = opts.now?.() ?? Date.now()
      return jobs.store.list({ states: ['queued', 'starting', 'running'] }).map((r): ProvidedItem => {
        const j = toJobInfo(r)
        const m = j.backend === 'local' ? /^(\d+)@localhost$/.exec(j.remoteId ?? '') : null
        const item: ProvidedItem = {
          id: j.id,
          name: j.name,
          state: j.state,
          detail: `${j.backend} · ${j.targetName}${j.remoteId ? ` · ${j.remoteId}` : ''}`,
          idle: false,
          memoryBytes: m ? proc.treeRss(Number(m[1])) : null
        }
        if (j.backend === 'sagemaker') Object.assign(item, sagemakerCost(jobs, r, j, now, opts.tablesDir))
        return item
      })
    },
    async stop(id) {
      await jobs.cancel(id)
    }
  }
}

/**
 * A SageMaker training job's instances (type × count), its price per hour from the shipped table and
 * what it has cost since it started running; a trial of a tuning job names its tuning job.
 */
function sagemakerCost(jobs: JobService, r: JobRow, j: JobInfo, now: number, tablesDir?: string): Pick<ProvidedItem, 'detail' | 'costPerHour' | 'costSoFar'> {
  let est: CostEstimate
  try {
    est = estimateCost(JSON.parse(r.spec) as JobSpec, tablesDir)
  } catch {
    return {}
  }
  const perHour = est.pricePerHour === null ? null : est.pricePerHour * est.instanceCount
  const started = j.state === 'running' && j.startedAt ? Date.parse(j.startedAt) : NaN
  const soFar = perHour === null ? null : Number.isFinite(started) ? (perHour * Math.max(0, now - started)) / 3_600_000 : 0
  const tuning = r.sweep_id ? jobs.store.sweep(r.sweep_id)?.remote_id : null
  const where = tuning ? ` · trial #${j.trialIndex ?? 0} of tuning job ${tuning}` : ''
  return {
    detail: `sagemaker · ${est.instanceType} × ${est.instanceCount}${perHour === null ? ' (no price in sagemaker-prices.json)' : ''} · ${j.targetName}${j.remoteId ? ` · ${j.remoteId}` : ''}${where}`,
    costPerHour: perHour,
    costSoFar: soFar
  }
}
