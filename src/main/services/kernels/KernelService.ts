import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, isAbsolute, join, relative, sep } from 'node:path'
import { KernelSpecAPI, ServerConnection, type Kernel, type KernelMessage } from '@jupyterlab/services'
import type {
  CompleteResult,
  EventName,
  Events,
  CellOutputRecord,
  FrameFile,
  FullOutputPage,
  InspectResult,
  KernelConnectionState,
  KernelInfo,
  KernelSpecInfo,
  KernelStatus,
  NotebookKernelState,
  VariableInfo
} from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { chunkExpression, describeFormat, exportExpression, frameSql, removeExpression, type ExportedFrame } from './frames'
import { KernelStateFile } from './kernelState'
import { NodeKernelConnection, withTimeout } from './kernelConnection'
import { OutputRelay, type IopubLike, type RelayOptions } from './OutputRelay'
import { LOCAL_SERVER_ID, ServerRegistry } from './ServerRegistry'

import { parseVariables, variablesExpression } from './variables'

type KernelEvent = 'kernel.status' | 'kernel.iopub' | 'kernel.input' | 'kernel.server' | 'kernel.frameProgress'

interface KernelEntry {
  id: string
  serverId: string
  specName: string
  language: string | null
  path: string | null
  /** The Jupyter session (notebook path → kernel) this kernel belongs to. */
  sessionId: string | null
  /** Working folder relative to the server's root, when started for a notebook. */
  folder: string | null
  /** The state Jupyter's REST API reported when we attached, until the socket says otherwise. */
  restStatus: KernelStatus | null
  conn: Kernel.IKernelConnection
  relay: OutputRelay
  input: { header: KernelMessage.IHeader<'input_request'>; cellId: string; parentMsgId: string; prompt: string; password: boolean } | null
  recentLost: { lost: { msgId: string; cellId: string }[]; at: number } | null
  /** The provided environment set in this kernel process in place (JSON), and the queue of such updates. */
  envApplied: string | null
  envSync: Promise<void>
  /** Restarted (its process has its server's environment again): updated once idle. */
  envAfterRestart: boolean
}

export interface KernelServiceDeps {
  servers: ServerRegistry
  workspace: { readonly path: string | null }
  emit: <E extends KernelEvent & EventName>(event: E, payload: Events[E]) => void
  log: Logger
  relay?: RelayOptions
  /** complete / inspect / variables give KERNEL_BUSY after this long. */
  replyTimeoutMs?: number
  startTimeoutMs?: number
  /** The kernels' state kept between runs (client id, notebook paths, cells' latest outputs). */
  state?: KernelStateFile
  /** Per-kernel folders for frames opened in the Data room (under the user's data dir); removed with the kernel. */
  framesDir?: string
  /** Largest frame brought back from a remote kernel (bytes). */
  frameLimitBytes?: number
  frameChunkBytes?: number
}

interface SessionModel {
  id: string
  path: string
  kernel: Kernel.IModel | null
}

/**
 * Kernels on any Jupyter server, driven through `@jupyterlab/services` and relayed over the
 * contract: requests in (`kernels.execute`, `complete`, `inspect`, `inputReply`…), IOPub out as
 * `kernel.iopub` events routed to the cell that ran them, status as `kernel.status`.
 */
export class KernelService {
  private readonly kernels = new Map<string, KernelEntry>()
  private readonly state: KernelStateFile
  private attaching: Promise<void> = Promise.resolve()

  constructor(private readonly d: KernelServiceDeps) {
    this.state = d.state ?? new KernelStateFile(null)
  }

  /** Whether kernels of ours live on this server. */
  hasKernels(serverId: string): boolean {
    return [...this.kernels.values()].some((k) => k.serverId === serverId)
  }

  /**
   * Re-attaches to the kernels a server still runs (after the app restarted and adopted it): each
   * gets a connection with the stable client id, so Jupyter replays what it buffered, and the cells'
   * outputs recorded earlier. Kernels recorded for this server that it no longer has are reported lost.
   */
  attachServer(serverId: string): Promise<void> {
    const run = this.attaching.then(async () => {
      const settings = await this.d.servers.settingsFor(serverId)
      const [kernels, sessions] = await Promise.all([this.rest<Kernel.IModel[]>(settings, 'api/kernels'), this.rest<SessionModel[]>(settings, 'api/sessions')])
      const records = this.state.kernels()
      for (const model of kernels) {
        if (this.kernels.has(model.id)) continue
        const rec = records[model.id]
        const session = sessions.find((x) => x.kernel?.id === model.id)
        const path = rec?.path ?? (session ? this.absolutePath(serverId, session.path) : null)
        const k = this.connectEntry(model, serverId, settings, {
          path,
          sessionId: session?.id ?? rec?.sessionId ?? null,
          folder: session ? folderOf(session.path) : null,
          seed: rec?.cells
        })
        k.restStatus = ((model as { execution_state?: string }).execution_state as KernelStatus | undefined) ?? null
        this.persist(k)
        if (k.restStatus === 'idle' && k.relay.running().length) void this.settleStale(k)
        await this.syncEnv(k)
      }
      for (const [id, rec] of Object.entries(records)) {
        if (rec.serverId !== serverId || kernels.some((m) => m.id === id)) continue
        if (rec.path) this.state.markLost(rec.path, 'The kernel of this notebook was gone when Atelier started again (its Jupyter server stopped); its state and any output produced while Atelier was away were lost.', rec.cells.map((c) => ({ ...c, done: true })))
        this.state.remove(id)
      }
    })
    this.attaching = run.catch((err) => this.d.log.warn(`could not re-attach kernels on ${serverId}: ${(err as Error).message}`))
    return run
  }

  /** Kernels recorded by an earlier run for a server that is not there any more: lost. */
  forgetServer(serverId: string, reason: string): void {
    for (const [id, rec] of Object.entries(this.state.kernels())) {
      if (rec.serverId !== serverId || this.kernels.has(id)) continue
      if (rec.path) this.state.markLost(rec.path, reason, rec.cells.map((c) => ({ ...c, done: true })))
      this.state.remove(id)
    }
  }

  private async rest<T>(settings: ServerConnection.ISettings, url: string): Promise<T> {
    const res = await ServerConnection.makeRequest(new URL(url, settings.baseUrl).toString(), {}, settings).catch((err) => {
      throw this.restError(err, `read ${url}`)
    })
    if (!res.ok) throw new AppError('JUPYTER_UNAVAILABLE', `Jupyter answered HTTP ${res.status} to ${url}`, { status: res.status })
    return (await res.json()) as T
  }

  /** The notebook's path as a Jupyter session path: relative to the workspace (the local server's root). */
  private sessionPath(path: string): string | null {
    const root = this.d.workspace.path
    if (!isAbsolute(path)) return path.split(sep).join('/')
    if (!root) return null
    const rel = relative(root, path)
    if (rel.startsWith('..') || isAbsolute(rel)) return null
    return rel.split(sep).join('/')
  }

  private absolutePath(serverId: string, sessionPath: string): string {
    const root = this.d.workspace.path
    return serverId === LOCAL_SERVER_ID && root ? `${root}${sep}${sessionPath.split('/').join(sep)}` : sessionPath
  }

  /**
   * The kernel a notebook runs on, found again after a page reload or an app restart: ours, or a
   * Jupyter session on a connected server for the notebook's path. With its cells' latest outputs.
   */
  async forNotebook(path: string): Promise<NotebookKernelState> {
    await this.attaching
    let k = [...this.kernels.values()].find((x) => x.path === path)
    if (!k) {
      const sp = this.sessionPath(path)
      for (const serverId of this.d.servers.connectedIds()) {
        if (k || sp === null) break
        const settings = await this.d.servers.settingsFor(serverId).catch(() => null)
        if (!settings) continue
        const sessions = await this.rest<SessionModel[]>(settings, 'api/sessions').catch(() => [] as SessionModel[])
        const session = sessions.find((x) => x.path === sp && x.kernel)
        if (!session?.kernel) continue
        const existing = this.kernels.get(session.kernel.id)
        k = existing ?? this.connectEntry(session.kernel, serverId, settings, { path, sessionId: session.id, folder: folderOf(session.path) })
        if (!existing) {
          k.restStatus = ((session.kernel as { execution_state?: string }).execution_state as KernelStatus | undefined) ?? null
          this.persist(k)
          await this.syncEnv(k)
        }
      }
    }
    const lost = this.state.takeLost(path)
    if (!k) return { kernel: null, cells: lost?.cells ?? [], seq: 0, lostNotice: lost?.reason ?? null }
    return {
      kernel: this.info(k),
      cells: k.relay.records(),
      seq: k.relay.lastSeq,
      input: k.input ? { cellId: k.input.cellId, prompt: k.input.prompt, password: k.input.password } : null,
      lostNotice: lost?.reason ?? null,
      remoteFolder: k.serverId !== LOCAL_SERVER_ID ? k.folder : null
    }
  }

  private persist(k: KernelEntry, soon = false) {
    if (!this.kernels.has(k.id)) return
    this.state.put(k.id, () => ({ serverId: k.serverId, path: k.path, sessionId: k.sessionId, specName: k.specName, cells: k.relay.records() }), soon)
  }

  /**
   * Executions recorded as running whose kernel is idle now and whose end Jupyter did not replay:
   * they finished while this app was connected but had not yet written their last outputs (a kill
   * within the write delay). Their cells stop showing as running and the notebook says so.
   */
  private async settleStale(k: KernelEntry, graceMs = 2500) {
    const deadline = Date.now() + 15_000
    while (k.conn.connectionStatus !== 'connected' && Date.now() < deadline && this.kernels.get(k.id) === k) await new Promise((r) => setTimeout(r, 100))
    await new Promise((r) => setTimeout(r, graceMs))
    if (this.kernels.get(k.id) !== k || k.conn.status === 'busy') return
    const stale = k.relay.inFlight()
    if (!stale.length) return
    k.relay.markLost(stale.map((s) => s.msgId))
    if (k.path) this.state.markLost(k.path, `The end of the output of ${stale.length === 1 ? 'a cell' : `${stale.length} cells`} was lost: it finished while Atelier was stopping.`, [])
    this.d.emit('kernel.status', { kernelId: k.id, serverId: k.serverId, status: k.conn.status as KernelStatus, connection: k.conn.connectionStatus as KernelConnectionState, lost: stale })
    this.persist(k, true)
  }

  /** Called by the registry's server events (wired in core): a lost server takes its kernels with it. */
  serverLost(serverId: string, reason: string): string[] {
    const lost: string[] = []
    for (const k of [...this.kernels.values()]) {
      if (k.serverId !== serverId) continue
      lost.push(k.id)
      this.drop(k, reason)
    }
    return lost
  }

  private drop(k: KernelEntry, reason: string) {
    const inFlight = k.relay.abandon()
    if (k.path) this.state.markLost(k.path, `${reason} Outputs produced after that were lost.`, k.relay.records())
    this.state.remove(k.id)
    this.kernels.delete(k.id)
    this.removeFrames(k.id)
    k.conn.dispose()
    k.relay.dispose()
    this.d.emit('kernel.status', { kernelId: k.id, serverId: k.serverId, status: 'dead', connection: 'disconnected', reason, lost: inFlight })
  }

  private get(kernelId: string): KernelEntry {
    const k = this.kernels.get(kernelId)
    if (!k) throw new AppError('NOT_FOUND', `No kernel ${kernelId} (it was shut down, or its server was lost).`, { kernelId })
    return k
  }

  private alive(kernelId: string): KernelEntry {
    const k = this.get(kernelId)
    if (k.conn.isDisposed || k.conn.status === 'dead') {
      throw new AppError('KERNEL_DEAD', 'The kernel is dead; restart it.', { kernelId })
    }
    return k
  }

  async specs(serverId?: string): Promise<KernelSpecInfo[]> {
    const settings = await this.d.servers.settingsFor(serverId)
    const r = await KernelSpecAPI.getSpecs(settings).catch((err) => {
      throw this.restError(err, 'list the kernel specs')
    })
    return Object.values(r.kernelspecs)
      .filter((s): s is NonNullable<typeof s> => Boolean(s))
      .map((s) => ({ name: s.name, displayName: s.display_name, language: s.language, isDefault: s.name === r.default }))
  }

  list(): KernelInfo[] {
    return [...this.kernels.values()].map((k) => this.info(k))
  }

  private info(k: KernelEntry): KernelInfo {
    const status = k.conn.status as KernelStatus
    return {
      kernelId: k.id,
      serverId: k.serverId,
      specName: k.specName,
      language: k.language,
      // right after attaching, the socket knows nothing yet: the REST state (or a running cell) says more
      status: (status === 'unknown' || status === 'starting') && k.restStatus ? (k.relay.running().length ? 'busy' : k.restStatus) : status,
      connection: k.conn.connectionStatus as KernelConnectionState,
      path: k.path,
      folder: k.folder
    }
  }

  private restError(err: unknown, what: string): AppError {
    if (err instanceof AppError) return err
    if (err instanceof ServerConnection.ResponseError) {
      const code = err.response.status === 401 || err.response.status === 403 ? 'JUPYTER_AUTH' : 'JUPYTER_UNAVAILABLE'
      return new AppError(code, `Jupyter could not ${what}: HTTP ${err.response.status} ${err.message}`, { status: err.response.status })
    }
    return new AppError('JUPYTER_UNAVAILABLE', `Jupyter could not ${what}: ${(err as Error).message}`)
  }

  /**
   * Starts a kernel (on the local server unless `serverId`). For a notebook (`path`) it is a Jupyter
   * session for the notebook's workspace-relative path, so the kernel starts in the notebook's folder
   * (on a remote server too) and is found again by path; a notebook that has a kernel gets that one.
   */
  async start(p: { serverId?: string; specName?: string; path?: string }): Promise<KernelInfo> {
    const serverId = p.serverId ?? LOCAL_SERVER_ID
    const settings = await this.d.servers.settingsFor(serverId)
    await this.attaching
    if (p.path) {
      const mine = [...this.kernels.values()].find((k) => k.path === p.path && k.serverId === serverId && !k.conn.isDisposed && k.conn.status !== 'dead')
      if (mine) return this.info(mine)
    }
    const sp = p.path ? this.sessionPath(p.path) : null
    let model: Kernel.IModel
    let sessionId: string | null = null
    if (sp !== null) {
      const body = { path: sp, name: basename(sp), type: 'notebook', kernel: p.specName ? { name: p.specName } : {} }
      const session = (await this.post(settings, 'api/sessions', body, 'start a kernel', p.specName)) as SessionModel
      if (!session.kernel) throw new AppError('JUPYTER_UNAVAILABLE', 'Jupyter created a session without a kernel.')
      const existing = this.kernels.get(session.kernel.id)
      if (existing) return this.info(existing)
      model = session.kernel
      sessionId = session.id
    } else {
      const body: Record<string, unknown> = {}
      if (p.specName) body.name = p.specName
      model = (await this.post(settings, 'api/kernels', body, 'start a kernel', p.specName)) as Kernel.IModel
    }
    const k = this.connectEntry(model, serverId, settings, { path: p.path ?? null, sessionId, folder: sp !== null ? folderOf(sp) : null })
    try {
      const info = await withTimeout(k.conn.info, this.d.startTimeoutMs ?? 60_000, () => new AppError('KERNEL_DEAD', 'The kernel did not answer after starting.'))
      k.language = info.language_info?.name ?? null
      await this.idle(k, 'The kernel did not become idle after starting.')
      await this.syncEnv(k)
    } catch (err) {
      this.kernels.delete(k.id)
      this.state.remove(k.id)
      await k.conn.shutdown().catch(() => {})
      k.conn.dispose()
      throw err
    }
    this.persist(k)
    return this.info(k)
  }

  private async post(settings: ServerConnection.ISettings, url: string, body: unknown, what: string, specName?: string): Promise<unknown> {
    const res = await ServerConnection.makeRequest(new URL(url, settings.baseUrl).toString(), { method: 'POST', body: JSON.stringify(body) }, settings).catch(
      (err) => {
        throw this.restError(err, what)
      }
    )
    if (res.status !== 201 && res.status !== 200) {
      const text = await res.text().catch(() => '')
      const message = (() => {
        try {
          return (JSON.parse(text) as { message?: string }).message ?? text
        } catch {
          return text
        }
      })()
      throw new AppError(res.status === 401 || res.status === 403 ? 'JUPYTER_AUTH' : 'JUPYTER_UNAVAILABLE', `Jupyter could not ${what}: HTTP ${res.status} ${message}`.trim(), {
        status: res.status,
        specName
      })
    }
    return res.json()
  }

  private connectEntry(
    model: Kernel.IModel,
    serverId: string,
    settings: ServerConnection.ISettings,
    o: { path: string | null; sessionId: string | null; folder: string | null; seed?: CellOutputRecord[] }
  ): KernelEntry {
    // one client id for every connection from this data dir: Jupyter replays a kernel's buffered
    // messages to the client session that reconnects with the id it had
    const conn = new NodeKernelConnection({ model, serverSettings: settings, handleComms: false, clientId: this.state.clientId, username: 'atelier' })
    const k: KernelEntry = {
      id: model.id,
      serverId,
      specName: model.name,
      language: null,
      path: o.path,
      sessionId: o.sessionId,
      folder: o.folder,
      restStatus: null,
      conn,
      relay: new OutputRelay(model.id, (e) => this.d.emit('kernel.iopub', e), this.d.relay),
      input: null,
      recentLost: null,
      envApplied: null,
      envSync: Promise.resolve(),
      envAfterRestart: false
    }
    if (o.seed) k.relay.seed(o.seed)
    k.relay.onRecord = (finished) => this.persist(k, finished)
    this.kernels.set(k.id, k)
    this.wire(k)
    // replies to requests an earlier run sent (replayed by Jupyter) have no future here
    conn.unhandledMessage.connect((_, msg) => {
      const parent = (msg.parent_header as { msg_id?: string }).msg_id
      if (!parent) return
      if (msg.header.msg_type === 'execute_reply') k.relay.finish(parent, msg.content as unknown as Record<string, unknown>)
      const cellId = k.relay.cellOf(parent)
      if (msg.header.msg_type === 'input_request' && cellId) {
        const m = msg as KernelMessage.IInputRequestMsg
        k.input = { header: m.header, cellId, parentMsgId: parent, prompt: m.content.prompt, password: m.content.password }
        this.d.emit('kernel.input', { kernelId: k.id, cellId, parentMsgId: parent, prompt: m.content.prompt, password: m.content.password })
      }
    })
    if (o.seed) void conn.info.then((i) => (k.language = i.language_info?.name ?? null)).catch(() => {})
    return k
  }

  private wire(k: KernelEntry) {
    k.conn.statusChanged.connect((_, st) => {
      if (st === 'idle' || st === 'busy' || st === 'dead') k.restStatus = null
      if (st === 'restarting' || st === 'autorestarting') {
        k.envApplied = null
        k.envAfterRestart = true
      } else if (st === 'idle' && k.envAfterRestart) {
        k.envAfterRestart = false
        void this.syncEnv(k)
      }
    })
    const status = (status: KernelStatus, extra: Partial<Events['kernel.status']> = {}) =>
      this.d.emit('kernel.status', {
        kernelId: k.id,
        serverId: k.serverId,
        status,
        connection: k.conn.connectionStatus as KernelConnectionState,
        ...extra
      })
    k.conn.statusChanged.connect((_, s) => {
      if (s === 'autorestarting' || s === 'dead') {
        // Jupyter's auto-restart arrives as 'restarting' then 'autorestarting': the executions
        // abandoned at 'restarting' were lost to the death.
        const recent = k.recentLost && Date.now() - k.recentLost.at < 2000 ? k.recentLost.lost : []
        k.recentLost = null
        const lost = [...recent, ...k.relay.abandon()]
        k.input = null
        status('dead', { reason: s === 'autorestarting' ? 'The kernel died; Jupyter is restarting it (its state is lost).' : 'The kernel died.', lost })
        if (s === 'autorestarting') status('autorestarting')
        return
      }
      if (s === 'restarting') {
        const lost = k.relay.abandon()
        k.recentLost = { lost, at: Date.now() }
        k.input = null
        return status('restarting', lost.length ? { lost } : {})
      }
      status(s as KernelStatus)
    })
    k.conn.connectionStatusChanged.connect((_, c) => {
      status(k.conn.status as KernelStatus)
      if (c === 'disconnected' && !k.conn.isDisposed && this.kernels.has(k.id)) void this.recover(k)
    })
    k.conn.iopubMessage.connect((_, msg) => k.relay.handle(msg as unknown as IopubLike))
  }

  /** Gives every kernel that needs it the providers' current environment (a provider changed, e.g. the tracking address). */
  refreshEnv(): Promise<void> {
    return Promise.all([...this.kernels.values()].map((k) => this.syncEnv(k))).then(() => {})
  }

  /**
   * Sets the providers' environment (only their keys) in a Python kernel's process when it lacks it
   * (see ServerRegistry.envUpdate): a silent execution, without history, queued before anything run
   * after it. Resolves once the request is sent; the reply is awaited in the background.
   */
  private syncEnv(k: KernelEntry): Promise<void> {
    const next = k.envSync.then(async () => {
      if (this.kernels.get(k.id) !== k || k.conn.isDisposed) return
      const env = await this.d.servers.envUpdate(k.serverId).catch(() => null)
      if (!env) return
      const json = JSON.stringify(env)
      if (k.envApplied === json || (await this.languageOf(k)) !== 'python') return
      if (this.kernels.get(k.id) !== k || k.conn.isDisposed) return
      k.envApplied = json
      const code = `__import__('os').environ.update(__import__('json').loads(${JSON.stringify(json)}))`
      const future = k.conn.requestExecute({ code, silent: true, store_history: false, allow_stdin: false, stop_on_error: false }, true)
      void future.done
        .then((reply) => {
          if (reply.content.status !== 'ok') throw new Error(String((reply.content as { evalue?: string }).evalue ?? reply.content.status))
        })
        .catch((err) => {
          if (k.envApplied === json) k.envApplied = null
          this.d.log.warn(`kernel ${k.id}: could not update its environment: ${(err as Error)?.message ?? err}`)
        })
    })
    k.envSync = next.catch((err) => this.d.log.warn(`kernel ${k.id}: could not update its environment: ${(err as Error).message}`))
    return k.envSync
  }

  /** The kernel's language: known once it answered kernel_info, else its kernel spec's. */
  private async languageOf(k: KernelEntry): Promise<string | null> {
    if (k.language) return k.language
    const settings = await this.d.servers.settingsFor(k.serverId)
    const specs = await KernelSpecAPI.getSpecs(settings)
    return specs.kernelspecs[k.specName]?.language ?? null
  }

  /** The socket gave up reconnecting: try again while the server still has the kernel, else it is dead. */
  private async recover(k: KernelEntry) {
    for (let attempt = 0; attempt < 5 && this.kernels.get(k.id) === k; attempt++) {
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt))
      if (this.kernels.get(k.id) !== k || k.conn.connectionStatus === 'connected') return
      try {
        const settings = await this.d.servers.settingsFor(k.serverId)
        const res = await ServerConnection.makeRequest(new URL(`api/kernels/${k.id}`, settings.baseUrl).toString(), {}, settings)
        if (res.status === 404) break
        await k.conn.reconnect()
        if ((k.conn.connectionStatus as KernelConnectionState) === 'connected') return
      } catch (err) {
        this.d.log.warn(`kernel ${k.id}: reconnect failed: ${(err as Error).message}`)
      }
    }
    if (this.kernels.get(k.id) === k && k.conn.connectionStatus !== 'connected') this.drop(k, 'The connection to the kernel was lost (it was stopped on its server, or its server is unreachable).')
  }

  execute(p: { kernelId: string; cellId: string; code: string; storeHistory?: boolean; stopOnError?: boolean }): { msgId: string } {
    const k = this.alive(p.kernelId)
    const future = k.conn.requestExecute(
      { code: p.code, silent: false, store_history: p.storeHistory ?? true, allow_stdin: true, stop_on_error: p.stopOnError ?? true },
      false
    )
    const msgId = future.msg.header.msg_id
    k.relay.register(msgId, p.cellId, { record: p.storeHistory !== false })
    future.onStdin = (msg) => {
      if (msg.header.msg_type !== 'input_request') return
      const m = msg as KernelMessage.IInputRequestMsg
      k.input = { header: m.header, cellId: p.cellId, parentMsgId: msgId, prompt: m.content.prompt, password: m.content.password }
      this.d.emit('kernel.input', {
        kernelId: k.id,
        cellId: p.cellId,
        parentMsgId: msgId,
        prompt: m.content.prompt,
        password: m.content.password
      })
    }
    future.done.then(
      (reply) => {
        k.relay.finish(msgId, reply.content as unknown as Record<string, unknown>)
        future.dispose()
      },
      () => future.dispose() // cancelled by a restart or death: reported through kernel.status `lost`
    )
    return { msgId }
  }

  inputReply(kernelId: string, value: string): void {
    const k = this.alive(kernelId)
    if (!k.input) throw new AppError('INVALID_REQUEST', 'The kernel is not waiting for input.', { kernelId })
    const header = k.input.header
    k.input = null
    k.conn.sendInputReply({ status: 'ok', value }, header)
  }

  async complete(kernelId: string, code: string, cursorPos: number): Promise<CompleteResult> {
    const k = this.alive(kernelId)
    const reply = await this.timed(k, k.conn.requestComplete({ code, cursor_pos: cursorPos }), 'complete')
    const c = reply.content
    if (c.status !== 'ok') return { matches: [], cursorStart: cursorPos, cursorEnd: cursorPos, metadata: {} }
    return { matches: c.matches, cursorStart: c.cursor_start, cursorEnd: c.cursor_end, metadata: c.metadata ?? {} }
  }

  async inspect(kernelId: string, code: string, cursorPos: number, detailLevel: 0 | 1 = 0): Promise<InspectResult> {
    const k = this.alive(kernelId)
    const reply = await this.timed(k, k.conn.requestInspect({ code, cursor_pos: cursorPos, detail_level: detailLevel }), 'inspect')
    const c = reply.content
    return c.status === 'ok' ? { found: c.found, data: c.data as Record<string, unknown> } : { found: false, data: {} }
  }

  /** Names, types, shapes and sizes of the user's variables; silent and store_history=False. */
  async variables(kernelId: string): Promise<VariableInfo[]> {
    const k = this.alive(kernelId)
    if (k.language && k.language !== 'python') throw new AppError('UNSUPPORTED', `Variables are shown for Python kernels, not ${k.language}.`)
    const future = k.conn.requestExecute(
      { code: '', silent: true, store_history: false, allow_stdin: false, user_expressions: { vars: variablesExpression() } },
      true
    )
    const reply = await this.timed(k, future.done, 'list variables')
    const content = reply.content as KernelMessage.IExecuteReply & { user_expressions?: Record<string, unknown> }
    try {
      return parseVariables(content.user_expressions?.vars)
    } catch (err) {
      throw new AppError('INTERNAL', `Could not read the kernel's variables: ${(err as Error).message}`)
    }
  }

  private timed<T>(k: KernelEntry, p: Promise<T>, what: string): Promise<T> {
    return withTimeout(
      p,
      this.d.replyTimeoutMs ?? 10_000,
      () => new AppError('KERNEL_BUSY', `The kernel did not ${what} within ${Math.round((this.d.replyTimeoutMs ?? 10_000) / 1000)} s; it may be busy.`, { kernelId: k.id })
    )
  }

  fullOutput(kernelId: string, msgId: string, name: 'stdout' | 'stderr', offset?: number, limit?: number): FullOutputPage {
    return this.get(kernelId).relay.fullOutput(msgId, name, offset, limit)
  }

  private removeFrames(kernelId: string) {
    if (this.d.framesDir) rmSync(join(this.d.framesDir, kernelId), { recursive: true, force: true })
  }

  /** Frame folders of kernels that are not running any more (left by a crash): removed. */
  sweepFrames(): void {
    if (!this.d.framesDir) return
    let dirs: string[] = []
    try {
      dirs = readdirSync(this.d.framesDir)
    } catch {
      return
    }
    for (const d of dirs) if (!this.kernels.has(d)) rmSync(join(this.d.framesDir, d), { recursive: true, force: true })
  }

  /** Evaluates a Python expression in the kernel (silently, no history) and returns its text/plain repr. */
  private async expression(k: KernelEntry, expr: string, what: string, timeoutMs: number): Promise<string> {
    const future = k.conn.requestExecute({ code: '', silent: true, store_history: false, allow_stdin: false, user_expressions: { out: expr } }, true)
    const reply = await withTimeout(
      future.done,
      timeoutMs,
      () => new AppError('KERNEL_BUSY', `The kernel did not ${what} within ${Math.round(timeoutMs / 1000)} s; it may be busy.`, { kernelId: k.id })
    )
    const r = (reply.content as { user_expressions?: Record<string, { status?: string; data?: Record<string, unknown>; ename?: string; evalue?: string }> }).user_expressions?.out
    if (!r || r.status !== 'ok' || typeof r.data?.['text/plain'] !== 'string') {
      throw new AppError('INVALID_REQUEST', `Could not ${what}: ${r?.ename ? `${r.ename}: ${r.evalue}` : 'the kernel gave no answer'}`, { kernelId: k.id })
    }
    return r.data['text/plain'] as string
  }

  /**
   * Writes a DataFrame of the kernel to a file here for the Data room, in this kernel's own folder
   * under the data dir. A local kernel writes it there itself; a remote one writes it on its machine
   * (a per-user, per-kernel temp folder) and the bytes come back through the kernel connection in
   * base64 chunks, with progress events and a size limit; the remote copy is removed.
   */
  async openFrame(kernelId: string, name: string): Promise<FrameFile> {
    const k = this.alive(kernelId)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new AppError('INVALID_REQUEST', `${name} is not a variable name.`)
    if (!this.d.framesDir) throw new AppError('UNSUPPORTED', 'Frames need a data dir.')
    const dir = join(this.d.framesDir, k.id)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const local = k.serverId === LOCAL_SERVER_ID
    const f = JSON.parse(await this.expression(k, exportExpression(name, local ? dir : null, k.id), `write ${name}`, 300_000)) as ExportedFrame
    if (!local) {
      const limit = this.d.frameLimitBytes ?? 1024 ** 3
      if (f.bytes > limit) {
        await this.expression(k, removeExpression(f.path), 'remove the file', 30_000).catch(() => {})
        throw new AppError('INVALID_REQUEST', `${name} is ${(f.bytes / 1024 ** 2).toFixed(0)} MB as ${f.format === 'csv' ? 'CSV' : 'Parquet'}, over the ${(limit / 1024 ** 2).toFixed(0)} MB limit for bringing a frame from a remote kernel; select fewer rows or columns.`, { bytes: f.bytes, limit })
      }
      const dest = join(dir, basename(f.path.replace(/\\/g, '/')))
      const part = `${dest}.part`
      const fd = openSync(part, 'w', 0o600)
      try {
        const chunk = this.d.frameChunkBytes ?? 4 * 1024 * 1024
        let offset = 0
        this.d.emit('kernel.frameProgress', { kernelId: k.id, name, bytes: 0, total: f.bytes })
        while (offset < f.bytes) {
          const text = await this.expression(k, chunkExpression(f.path, offset, chunk), `send ${name}`, 120_000)
          const buf = Buffer.from(text.slice(1, -1), 'base64')
          if (!buf.length) throw new AppError('INTERNAL', `The kernel sent no bytes for ${name} at ${offset} of ${f.bytes}.`)
          writeSync(fd, buf)
          offset += buf.length
          this.d.emit('kernel.frameProgress', { kernelId: k.id, name, bytes: offset, total: f.bytes })
        }
      } catch (err) {
        closeSync(fd)
        rmSync(part, { force: true })
        throw err
      } finally {
        await this.expression(k, removeExpression(f.path), 'remove the file', 30_000).catch(() => {})
      }
      closeSync(fd)
      renameSync(part, dest)
      f.path = dest
    }
    return { path: f.path, format: f.format, bytes: f.bytes, rows: f.rows, sql: frameSql(f), description: describeFormat(f) }
  }

  fullDisplay(kernelId: string, msgId: string, index: number): Record<string, unknown> {
    return this.get(kernelId).relay.fullDisplay(msgId, index)
  }

  async interrupt(kernelId: string): Promise<void> {
    const k = this.alive(kernelId)
    await k.conn.interrupt().catch((err) => {
      throw this.restError(err, 'interrupt the kernel')
    })
  }

  async restart(kernelId: string): Promise<KernelInfo> {
    const k = this.get(kernelId)
    // Let a pending kernel_info (sent on every reconnect) finish first: restarting cancels it, and
    // @jupyterlab/services leaves that cancellation as an unhandled rejection.
    // Jupyter may be auto-restarting a dead kernel: a restart request now fails (HTTP 500).
    if (k.conn.status !== 'idle' && k.conn.status !== 'busy') await this.idle(k, '').catch(() => {})
    const futures = (k.conn as unknown as { _futures?: Map<string, { msg: { header: { msg_type: string } }; done: Promise<unknown> }> })._futures
    const infos = [...(futures?.values() ?? [])].filter((f) => f.msg.header.msg_type === 'kernel_info_request').map((f) => f.done.catch(() => {}))
    await withTimeout(Promise.all([k.conn.info, ...infos]), 5000, () => new Error('timeout')).catch(() => {})
    await k.conn.restart().catch((err) => {
      throw this.restError(err, 'restart the kernel')
    })
    await this.idle(k, 'The kernel did not come back after the restart.')
    await this.syncEnv(k)
    return this.info(k)
  }

  /** Resolves when the kernel is connected and idle (after a start or restart). */
  private idle(k: KernelEntry, message: string): Promise<void> {
    const ready = () => k.conn.status === 'idle' && k.conn.connectionStatus === 'connected'
    if (ready()) return Promise.resolve()
    const wait = new Promise<void>((resolve, reject) => {
      const check = () => {
        if (k.conn.status === 'dead' || k.conn.isDisposed) {
          off()
          reject(new AppError('KERNEL_DEAD', message, { kernelId: k.id }))
        } else if (ready()) {
          off()
          resolve()
        }
      }
      let off = () => {
        k.conn.statusChanged.disconnect(check)
        k.conn.connectionStatusChanged.disconnect(check)
      }
      k.conn.statusChanged.connect(check)
      k.conn.connectionStatusChanged.connect(check)
      // After a restart the socket may reconnect before the kernel has said anything, leaving the
      // status 'unknown' until some message arrives: ask it (kernel_info) and take a reply as alive.
      let asking = false
      const nudge = setInterval(() => {
        if (k.conn.isDisposed || k.conn.connectionStatus !== 'connected' || asking) return
        if (k.conn.status === 'idle' || k.conn.status === 'busy' || k.conn.status === 'dead') return
        asking = true
        void withTimeout(k.conn.requestKernelInfo(), 3000, () => new Error('no reply'))
          .then((reply) => {
            if (reply && k.conn.connectionStatus === 'connected') {
              clearInterval(nudge)
              off()
              resolve()
            }
          })
          .catch(() => {})
          .finally(() => (asking = false))
      }, 1000)
      const offBase = off
      off = () => {
        clearInterval(nudge)
        offBase()
      }
    })
    return withTimeout(wait, this.d.startTimeoutMs ?? 60_000, () => new AppError('KERNEL_DEAD', message, { kernelId: k.id }))
  }

  async shutdown(kernelId: string): Promise<void> {
    const k = this.get(kernelId)
    const lost = k.relay.abandon()
    this.kernels.delete(kernelId)
    this.state.remove(kernelId)
    this.removeFrames(kernelId)
    if (k.sessionId) {
      const settings = await this.d.servers.settingsFor(k.serverId).catch(() => null)
      if (settings) await ServerConnection.makeRequest(new URL(`api/sessions/${k.sessionId}`, settings.baseUrl).toString(), { method: 'DELETE' }, settings).catch(() => {})
    }
    await k.conn.shutdown().catch((err) => this.d.log.warn(`kernel ${kernelId}: shutdown failed`, err))
    k.conn.dispose()
    k.relay.dispose()
    this.d.emit('kernel.status', { kernelId, serverId: k.serverId, status: 'dead', connection: 'disconnected', reason: 'shut down', ...(lost.length ? { lost } : {}) })
  }

  /**
   * Leaves the app: kernels on a local server that keeps running stay (recorded, to be re-attached
   * next time); kernels this app started on remote servers are shut down, as are the local
   * server's when it stops with the app.
   */
  async dispose(opts: { keepLocal?: boolean } = {}): Promise<void> {
    await Promise.all(
      [...this.kernels.values()].map(async (k) => {
        if (k.serverId !== LOCAL_SERVER_ID) {
          this.state.remove(k.id)
          this.removeFrames(k.id)
          await withTimeout(k.conn.shutdown(), 2000, () => new Error('timeout')).catch(() => {})
        } else if (!opts.keepLocal) {
          this.state.remove(k.id)
          this.removeFrames(k.id)
        } else this.persist(k)
        k.relay.onRecord = null
        k.conn.dispose()
        k.relay.dispose()
      })
    )
    this.kernels.clear()
    this.state.flush()
  }
}

/** The folder of a session path ('' for the server's root). */
function folderOf(sessionPath: string): string {
  const i = sessionPath.lastIndexOf('/')
  return i < 0 ? '' : sessionPath.slice(0, i)
}
