import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ServerConnection } from '@jupyterlab/services'
import type { JupyterServerEvent, JupyterServerInfo, JupyterServerState, SshTarget } from '../../../shared/api'
import { AppError, toErrorPayload } from '../../../shared/errors'
import type { Logger } from '../../log'
import type { InterpreterService } from './interpreters'
import { JupyterServerManager } from './JupyterServerManager'
import { checkServer, makeSettings, normalizeBaseUrl, type Endpoint } from './jupyterRest'
import { knownHostsIn } from '../ssh/connect'
import { SshTunnel } from './SshTunnel'
import { descendants, isAlive, killAll, killGroup, waitGone } from './processTree'
import { procStartTime, sameProcess, ServerRecordFile, type LifetimeSetting, type ServerLifetime } from './serverRecord'

/** Adds environment variables to the local Jupyter server, so every kernel inherits them (tracking adds MLFLOW_*). */
export type KernelEnvProvider = () => Record<string, string> | Promise<Record<string, string>>

export interface KeyValueStore {
  get<T>(key: string): T | undefined
  set(key: string, value: unknown): void
}

export interface Secrets {
  get(key: string): string | undefined
  set(key: string, value: string): void
  delete(key: string): void
}

interface RemoteDef {
  id: string
  name: string
  baseUrl: string
  ssh?: { host: string; port: number; username: string; privateKeyPath?: string; useAgent?: boolean }
}

interface Connected {
  endpoint: Endpoint
  settings: ServerConnection.ISettings
  tunnel?: SshTunnel
}

export interface ServerRegistryDeps {
  interpreters: InterpreterService
  workspace: { readonly path: string | null }
  store: KeyValueStore
  secrets: Secrets
  envProviders: KernelEnvProvider[]
  log: Logger
  /** A server changed state; `lost` means its kernels are gone. */
  onServer: (e: Omit<JupyterServerEvent, 'lostKernelIds'>) => void
  local?: { startTimeoutMs?: number; restartBaseDelayMs?: number; watchMs?: number }
  connectTimeoutMs?: number
  /** Where the local server's record and log live; without it nothing is recorded (no adoption). */
  dataDir?: string
  /** The lifetime when the user has not chosen one (serve: keep-running; desktop and tests: stop-with-app). */
  defaultLifetime?: ServerLifetime
  /** Whether kernels live on a server (an exit without kernels is not a loss). */
  hasKernels?: (serverId: string) => boolean
}

export const LOCAL_SERVER_ID = 'local'
const REMOTES = 'kernels.remoteServers'
const LIFETIME = 'kernels.localServer.lifetime'
const LOCAL_TOKEN = 'kernels.local.token'
const ASK_ON_QUIT = 'kernels.localServer.askOnQuit'
export const DEFAULT_IDLE_HOURS = 12

/** The Jupyter servers kernels run on: the local one the app starts, and remote ones (URL + token, or through SSH). */
export class ServerRegistry {
  private local: JupyterServerManager | null = null
  private localPython: string | null = null
  /** The providers' environment the local server was started with (JSON); null for an adopted one (unknown). */
  private localEnv: string | null = null
  private readonly connected = new Map<string, Connected>()
  private readonly states = new Map<string, { state: JupyterServerState; error?: AppError }>()

  private readonly record: ServerRecordFile | null

  constructor(private readonly d: ServerRegistryDeps) {
    this.record = d.dataDir ? new ServerRecordFile(join(d.dataDir, 'jupyter', 'server.json')) : null
  }

  lifetime(): LifetimeSetting {
    const saved = this.d.store.get<Partial<LifetimeSetting>>(LIFETIME) ?? {}
    return {
      lifetime: saved.lifetime ?? this.d.defaultLifetime ?? 'stop-with-app',
      idleHours: typeof saved.idleHours === 'number' ? saved.idleHours : DEFAULT_IDLE_HOURS
    }
  }

  /** Applies from the next start of the local server (the idle timeout is set at spawn) and at quit. */
  setLifetime(l: Partial<LifetimeSetting>): LifetimeSetting {
    const next = { ...this.lifetime(), ...l }
    this.d.store.set(LIFETIME, next)
    // a lifetime chosen again is asked about again at quit, until a choice there is remembered
    if (l.lifetime) this.d.store.set(ASK_ON_QUIT, true)
    return next
  }

  /** Whether the desktop app asks at quit what to do with live kernels (false once "Remember my choice" was ticked). */
  askOnQuit(): boolean {
    return this.d.store.get<boolean>(ASK_ON_QUIT) !== false
  }

  /** The answer at quit, remembered: keep → keep-running, stop → stop-with-app, not asked again. */
  rememberQuitChoice(choice: 'keep' | 'stop'): void {
    this.setLifetime({ lifetime: choice === 'keep' ? 'keep-running' : 'stop-with-app' })
    this.d.store.set(ASK_ON_QUIT, false)
  }

  private manager(python: string, hasJupyterServer: boolean, root: string, env: Record<string, string>, token?: string, running?: ServerLifetime): JupyterServerManager {
    const lifetime = running ? { ...this.lifetime(), lifetime: running } : this.lifetime()
    const m: JupyterServerManager = new JupyterServerManager({
      python,
      hasJupyterServer,
      rootDir: root,
      env,
      log: this.d.log,
      token,
      lifetime,
      logFile: this.d.dataDir ? join(this.d.dataDir, 'jupyter', 'server.log') : undefined,
      startTimeoutMs: this.d.local?.startTimeoutMs,
      restartBaseDelayMs: this.d.local?.restartBaseDelayMs,
      watchMs: this.d.local?.watchMs,
      hasKernels: this.d.hasKernels ? () => this.d.hasKernels!(LOCAL_SERVER_ID) : undefined,
      onLaunched: (pid, ep) => {
        if (!this.record) return
        this.d.secrets.set(LOCAL_TOKEN, ep.token)
        this.record.write({
          pid,
          procStart: procStartTime(pid),
          port: Number(new URL(ep.baseUrl).port),
          baseUrl: ep.baseUrl,
          python,
          rootDir: root,
          lifetime: lifetime.lifetime,
          startedAt: new Date().toISOString()
        })
      },
      onGone: () => this.forgetRecord(),
      onState: (state, message) => {
        if (this.local !== m) return
        if (state === 'ready' && m.endpoint) this.setConnected(LOCAL_SERVER_ID, m.endpoint)
        if (state !== 'ready') this.connected.delete(LOCAL_SERVER_ID)
        this.setState(LOCAL_SERVER_ID, state, message)
      }
    })
    return m
  }

  private forgetRecord() {
    if (!this.record) return
    this.record.remove()
    this.d.secrets.delete(LOCAL_TOKEN)
  }

  /**
   * Finds the local server an earlier run recorded: adopts it when it still answers with its token
   * (its kernels keep running), forgets it when it is dead, and kills it (process group and tree)
   * when it lives but does not answer. Returns what happened.
   */
  async adoptLocal(): Promise<'none' | 'adopted' | 'dead' | 'killed'> {
    const r = this.record?.read()
    if (!r) return 'none'
    if (!isAlive(r.pid) || !sameProcess(r)) {
      this.d.log.info(`the recorded Jupyter server (pid ${r.pid}) is gone; forgetting it`)
      this.forgetRecord()
      return 'dead'
    }
    const token = this.d.secrets.get(LOCAL_TOKEN)
    const ep: Endpoint = { baseUrl: r.baseUrl, token: token ?? '' }
    try {
      if (!token) throw new Error('no token recorded')
      await checkServer(ep, this.d.connectTimeoutMs ?? 4000)
    } catch (err) {
      this.d.log.warn(`the recorded Jupyter server (pid ${r.pid}) does not answer (${(err as Error).message}); stopping it`)
      const tree = [...descendants(r.pid), r.pid]
      killGroup(r.pid, 'SIGTERM')
      killAll(tree, 'SIGTERM')
      if (!(await waitGone(tree, 3000))) {
        killGroup(r.pid, 'SIGKILL')
        killAll(tree.filter(isAlive), 'SIGKILL')
        await waitGone(tree, 3000)
      }
      this.forgetRecord()
      return 'killed'
    }
    // jupyter_server is tried first on a restart, `notebook` when it is missing
    this.local = this.manager(r.python, true, r.rootDir, {}, token, r.lifetime)
    this.localPython = r.python
    this.localEnv = null
    this.local.adopt(r.pid, ep)
    this.d.log.info(`adopted the Jupyter server at ${r.baseUrl} (pid ${r.pid})`)
    return 'adopted'
  }

  private remotes(): RemoteDef[] {
    return this.d.store.get<RemoteDef[]>(REMOTES) ?? []
  }

  private setState(serverId: string, state: JupyterServerState, message?: string) {
    const error = state === 'failed' && message ? new AppError('JUPYTER_UNAVAILABLE', message) : undefined
    this.states.set(serverId, { state, error })
    this.d.onServer({ serverId, state, ...(message ? { message } : {}) })
  }

  list(): JupyterServerInfo[] {
    const out: JupyterServerInfo[] = []
    const local = this.states.get(LOCAL_SERVER_ID)
    out.push({
      id: LOCAL_SERVER_ID,
      kind: 'local',
      name: 'Local Jupyter',
      baseUrl: this.local?.endpoint?.baseUrl ?? '',
      state: this.local?.state ?? 'stopped',
      ...(this.localPython ? { python: this.localPython } : {}),
      ...(this.local?.pid ? { pid: this.local.pid } : {}),
      lifetime: this.lifetime(),
      ...(this.local?.state === 'ready' && this.local.stopsWithApp !== (this.lifetime().lifetime === 'stop-with-app') ? { lifetimePending: true } : {}),
      ...(local?.error ? { error: toErrorPayload(local.error) } : {})
    })
    for (const r of this.remotes()) out.push(this.remoteInfo(r))
    return out
  }

  private remoteInfo(r: RemoteDef): JupyterServerInfo {
    const s = this.states.get(r.id)
    return {
      id: r.id,
      kind: r.ssh ? 'ssh' : 'remote',
      name: r.name,
      baseUrl: r.baseUrl,
      state: this.connected.has(r.id) ? (s?.state ?? 'ready') : s?.state === 'failed' || s?.state === 'lost' ? s.state : 'stopped',
      ...(r.ssh ? { ssh: { host: r.ssh.host, port: r.ssh.port, username: r.ssh.username } } : {}),
      ...(s?.error ? { error: toErrorPayload(s.error) } : {})
    }
  }

  /** Starts (or returns) the local server, from `python` or the selected interpreter. */
  async startLocal(python?: string): Promise<JupyterServerInfo> {
    if (this.local && python && python !== this.localPython) {
      await this.local.stop()
      this.local = null
    }
    if (!this.local || this.local.state === 'failed' || this.local.state === 'stopped') {
      const interp = await this.d.interpreters.selected(python)
      const root = this.d.workspace.path ?? process.cwd()
      const env = await this.providedEnv()
      this.local = this.manager(interp.path, interp.jupyterServer, root, env)
      this.localPython = interp.path
      this.localEnv = JSON.stringify(env)
    }
    await this.local.start()
    return this.list()[0]
  }

  private async providedEnv(): Promise<Record<string, string>> {
    const env: Record<string, string> = {}
    for (const p of this.d.envProviders) Object.assign(env, await p())
    return env
  }

  /**
   * The environment a kernel on `serverId` must be given in place, or null when it has it already:
   * kernels inherit the local server's environment, which is the providers' current one unless the
   * server was adopted from an earlier run (the tracking address or token may have changed since) or
   * a provider changed since it started. Remote servers get nothing from the providers.
   */
  async envUpdate(serverId: string): Promise<Record<string, string> | null> {
    if (serverId !== LOCAL_SERVER_ID) return null
    const env = await this.providedEnv()
    if (!Object.keys(env).length || JSON.stringify(env) === this.localEnv) return null
    return env
  }

  get localManager(): JupyterServerManager | null {
    return this.local
  }

  private setConnected(id: string, endpoint: Endpoint, tunnel?: SshTunnel) {
    this.connected.set(id, { endpoint, settings: makeSettings(endpoint), tunnel })
  }

  /** Settings for a connected server (the local one is started on demand). */
  async settingsFor(serverId: string = LOCAL_SERVER_ID): Promise<ServerConnection.ISettings> {
    if (serverId === LOCAL_SERVER_ID && !this.connected.has(serverId)) await this.startLocal()
    const c = this.connected.get(serverId)
    if (!c) {
      const known = this.remotes().some((r) => r.id === serverId)
      throw new AppError(known ? 'JUPYTER_UNAVAILABLE' : 'NOT_FOUND', known ? 'Connect to this server first (kernels.connect).' : `No Jupyter server ${serverId}`, {
        serverId
      })
    }
    return c.settings
  }

  /** Servers connected now (the local one once started or adopted). */
  connectedIds(): string[] {
    return [...this.connected.keys()]
  }

  endpointOf(serverId: string): Endpoint | null {
    return this.connected.get(serverId)?.endpoint ?? null
  }

  /** Connects a remote server (URL + token, optionally through SSH); remembered, secrets in the secret store. */
  async connect(p: { serverId?: string; name?: string; baseUrl?: string; token?: string; ssh?: SshTarget }): Promise<JupyterServerInfo> {
    let def: RemoteDef
    if (p.serverId) {
      const found = this.remotes().find((r) => r.id === p.serverId)
      if (!found) throw new AppError('NOT_FOUND', `No remembered Jupyter server ${p.serverId}`, { serverId: p.serverId })
      def = found
    } else {
      const baseUrl = normalizeBaseUrl(p.baseUrl!)
      def = {
        id: randomUUID(),
        name: p.name ?? (p.ssh ? `${p.ssh.username}@${p.ssh.host}` : new URL(baseUrl).host),
        baseUrl,
        ...(p.ssh
          ? { ssh: { host: p.ssh.host, port: p.ssh.port ?? 22, username: p.ssh.username, privateKeyPath: p.ssh.privateKeyPath, useAgent: p.ssh.useAgent } }
          : {})
      }
    }
    const token = p.token ?? this.d.secrets.get(`kernels.server.${def.id}.token`) ?? ''
    const passphrase = p.ssh?.passphrase ?? this.d.secrets.get(`kernels.server.${def.id}.passphrase`)
    await this.disconnect(def.id).catch(() => {})
    let endpoint: Endpoint = { baseUrl: def.baseUrl, token }
    let tunnel: SshTunnel | undefined
    try {
      if (def.ssh) {
        const remote = new URL(def.baseUrl)
        const privateKey = def.ssh.privateKeyPath
          ? await readFile(def.ssh.privateKeyPath).catch((err: Error) => {
              throw new AppError('SSH_ERROR', `Cannot read the SSH key ${def.ssh!.privateKeyPath}: ${err.message}`)
            })
          : undefined
        tunnel = new SshTunnel({
          host: def.ssh.host,
          port: def.ssh.port,
          username: def.ssh.username,
          privateKey,
          passphrase,
          agent: def.ssh.useAgent || !privateKey ? process.env.SSH_AUTH_SOCK : undefined,
          remoteHost: remote.hostname === 'localhost' ? '127.0.0.1' : remote.hostname.replace(/^\[|\]$/g, ''),
          remotePort: Number(remote.port || (remote.protocol === 'https:' ? 443 : 80)),
          knownHosts: knownHostsIn(this.d.store),
          acceptFingerprint: p.ssh?.acceptHostKey,
          log: this.d.log,
          onLost: (message) => {
            this.connected.delete(def.id)
            this.setState(def.id, 'lost', message)
          }
        })
        const port = await tunnel.open()
        endpoint = { baseUrl: `http://127.0.0.1:${port}${remote.pathname}`, token }
      }
      await checkServer(endpoint, this.d.connectTimeoutMs ?? 4000, def.baseUrl + (def.ssh ? ` (through SSH ${def.ssh.username}@${def.ssh.host})` : ''))
    } catch (err) {
      await tunnel?.close()
      throw err
    }
    this.setConnected(def.id, endpoint, tunnel)
    const remotes = this.remotes().filter((r) => r.id !== def.id)
    this.d.store.set(REMOTES, [...remotes, def])
    if (p.token !== undefined) this.d.secrets.set(`kernels.server.${def.id}.token`, p.token)
    if (p.ssh?.passphrase !== undefined) this.d.secrets.set(`kernels.server.${def.id}.passphrase`, p.ssh.passphrase)
    this.setState(def.id, 'ready')
    return this.remoteInfo(def)
  }

  async disconnect(serverId: string, forget = false): Promise<void> {
    if (serverId === LOCAL_SERVER_ID) {
      await this.local?.stop()
      this.connected.delete(serverId)
      return
    }
    const c = this.connected.get(serverId)
    this.connected.delete(serverId)
    await c?.tunnel?.close()
    if (c) this.setState(serverId, 'stopped')
    if (forget) {
      this.d.store.set(REMOTES, this.remotes().filter((r) => r.id !== serverId))
      this.d.secrets.delete(`kernels.server.${serverId}.token`)
      this.d.secrets.delete(`kernels.server.${serverId}.passphrase`)
    }
  }

  /** Whether the local server will be left running by `dispose(choice)`. */
  keepsLocal(choice?: 'keep' | 'stop'): boolean {
    if (!this.local || this.local.state !== 'ready') return false
    return choice ? choice === 'keep' : !this.local.stopsWithApp
  }

  /**
   * Leaves the app. The local server is kept running (with its record, to be adopted at the next
   * start) when `choice` is keep, or without a choice when it was started to keep running; else stopped.
   */
  async dispose(choice?: 'keep' | 'stop'): Promise<void> {
    for (const [id, c] of this.connected) if (id !== LOCAL_SERVER_ID) await c.tunnel?.close()
    this.connected.clear()
    if (this.local && this.keepsLocal(choice)) {
      const r = this.record?.read()
      // the next run adopts it as a server that keeps running
      if (r && r.pid === this.local.pid && r.lifetime !== 'keep-running') this.record!.write({ ...r, lifetime: 'keep-running' })
      this.local.release()
    } else await this.local?.stop()
  }
}
