import type { EventName, Events } from '../../../shared/api'
import type { Logger } from '../../log'
import { NotebookService } from '../notebooks/NotebookService'
import { join } from 'node:path'
import { InterpreterService } from './interpreters'
import { KernelStateFile } from './kernelState'
import type { ServerLifetime } from './serverRecord'
import { KernelService } from './KernelService'
import { quitPolicy, type QuitChoice, type QuitDecision } from './quitPolicy'
import type { RelayOptions } from './OutputRelay'
import { LOCAL_SERVER_ID, ServerRegistry, type KernelEnvProvider, type KeyValueStore, type Secrets } from './ServerRegistry'

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
  /** How often an adopted local server is checked for life (tests). */
  watchMs?: number
  /** Frames brought back from remote kernels: size limit and chunk size (tests). */
  frameLimitBytes?: number
  frameChunkBytes?: number
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
  /**
   * Finds the local Jupyter server an earlier run left (adopted when it answers, else cleaned up) and
   * re-attaches to its kernels. Called once at start.
   */
  resume(): Promise<void>
  /** What the desktop app does with the local server and its kernels when it quits (keep, stop, or ask). */
  quitDecision(): QuitDecision
  /** The user's answer at quit: dispose keeps or stops the local server accordingly; `remember` writes the lifetime setting. */
  setExitChoice(choice: QuitChoice, remember?: boolean): void
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
  /** Where the local server's record and the kernels' state live (absent: nothing is kept). */
  dataDir?: string
  /** serve keeps the local server running by default; the desktop app and tests stop it with the app. */
  defaultLifetime?: ServerLifetime
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
    local: { startTimeoutMs: o.localStartTimeoutMs, restartBaseDelayMs: o.restartBaseDelayMs, watchMs: o.watchMs },
    connectTimeoutMs: o.connectTimeoutMs,
    dataDir: d.dataDir,
    defaultLifetime: d.defaultLifetime,
    hasKernels: (serverId) => kernels?.hasKernels(serverId) ?? false,
    onServer: (e) => {
      const lost = e.state === 'lost' || e.state === 'failed' || e.state === 'stopped' ? (kernels?.serverLost(e.serverId, e.message ?? `The Jupyter server is ${e.state}.`) ?? []) : []
      d.emit('kernel.server', { ...e, lostKernelIds: lost })
    }
  })
  const state = new KernelStateFile(d.dataDir ? join(d.dataDir, 'jupyter', 'kernels.json') : null)
  kernels = new KernelService({
    servers,
    workspace: d.workspace,
    emit: d.emit,
    log: d.log,
    relay: o.relay,
    replyTimeoutMs: o.replyTimeoutMs,
    state,
    framesDir: d.dataDir ? join(d.dataDir, 'frames') : undefined,
    frameLimitBytes: o.frameLimitBytes,
    frameChunkBytes: o.frameChunkBytes
  })
  const notebooks = new NotebookService({ workspace: d.workspace, log: d.log })
  let exitChoice: QuitChoice | undefined
  return {
    interpreters,
    servers,
    kernels,
    notebooks,
    envProviders,
    async resume() {
      const found = await servers.adoptLocal().catch((err) => {
        d.log.warn(`could not check the recorded Jupyter server: ${(err as Error).message}`)
        return 'none' as const
      })
      if (found === 'adopted') await kernels!.attachServer(LOCAL_SERVER_ID).catch(() => {})
      else kernels!.forgetServer(LOCAL_SERVER_ID, 'The kernel of this notebook was gone when Atelier started again (its Jupyter server had stopped); its state and any output produced while Atelier was away were lost.')
      kernels!.sweepFrames()
    },
    quitDecision() {
      const local = servers.localManager
      return quitPolicy({
        lifetime: servers.lifetime(),
        askOnQuit: servers.askOnQuit(),
        serverRunning: !!local && local.state === 'ready',
        kernels: kernels!.list().filter((k) => k.serverId === LOCAL_SERVER_ID),
        workspace: d.workspace.path
      })
    },
    setExitChoice(choice, remember = false) {
      exitChoice = choice
      if (remember) servers.rememberQuitChoice(choice)
    },
    async dispose() {
      await kernels!.dispose({ keepLocal: servers.keepsLocal(exitChoice) })
      await servers.dispose(exitChoice)
    }
  }
}
