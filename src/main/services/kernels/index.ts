import type { EventName, Events } from '../../../shared/api'
import type { Logger } from '../../log'
import { NotebookService } from '../notebooks/NotebookService'
import { InterpreterService } from './interpreters'
import { KernelService } from './KernelService'
import type { RelayOptions } from './OutputRelay'
import { ServerRegistry, type KernelEnvProvider, type KeyValueStore, type Secrets } from './ServerRegistry'

export type { KernelEnvProvider } from './ServerRegistry'
export { LOCAL_SERVER_ID } from './ServerRegistry'

export interface KernelStackOptions {
  /** Environment for interpreter discovery and pip (PATH, PYENV_ROOT…); default process.env. */
  env?: NodeJS.ProcessEnv
  home?: string
  relay?: RelayOptions
  localStartTimeoutMs?: number
  restartBaseDelayMs?: number
  connectTimeoutMs?: number
  replyTimeoutMs?: number
}

export interface KernelStack {
  interpreters: InterpreterService
  servers: ServerRegistry
  kernels: KernelService
  notebooks: NotebookService
  /**
   * The one place that injects environment variables into kernels: each provider is read when the
   * local Jupyter server starts, and every kernel inherits the server's environment.
   */
  envProviders: KernelEnvProvider[]
  dispose(): Promise<void>
}

/** Interpreters, Jupyter servers, kernels and notebooks, wired together (used by core). */
export function createKernelStack(d: {
  store: KeyValueStore
  secrets: Secrets
  workspace: { readonly path: string | null }
  emit: <E extends EventName>(event: E, payload: Events[E]) => void
  log: Logger
  options?: KernelStackOptions
}): KernelStack {
  const o = d.options ?? {}
  const envProviders: KernelEnvProvider[] = []
  const interpreters = new InterpreterService({
    workspace: d.workspace,
    log: d.log,
    env: o.env,
    home: o.home,
    cache: {
      get: (k) => d.store.get(k),
      set: (k, v) => d.store.set(k, v)
    },
    selection: {
      get: () => d.store.get<string>('kernels.python'),
      set: (p) => d.store.set('kernels.python', p)
    }
  })
  let kernels: KernelService | null = null
  const servers = new ServerRegistry({
    interpreters,
    workspace: d.workspace,
    store: d.store,
    secrets: d.secrets,
    envProviders,
    log: d.log,
    local: { startTimeoutMs: o.localStartTimeoutMs, restartBaseDelayMs: o.restartBaseDelayMs },
    connectTimeoutMs: o.connectTimeoutMs,
    onServer: (e) => {
      const lost = e.state === 'lost' || e.state === 'failed' || e.state === 'stopped' ? (kernels?.serverLost(e.serverId, e.message ?? `The Jupyter server is ${e.state}.`) ?? []) : []
      d.emit('kernel.server', { ...e, lostKernelIds: lost })
    }
  })
  kernels = new KernelService({ servers, workspace: d.workspace, emit: d.emit, log: d.log, relay: o.relay, replyTimeoutMs: o.replyTimeoutMs })
  const notebooks = new NotebookService({ workspace: d.workspace, log: d.log })
  return {
    interpreters,
    servers,
    kernels,
    notebooks,
    envProviders,
    async dispose() {
      await kernels!.dispose()
      await servers.dispose()
    }
  }
}
