import { dirname, isAbsolute, relative } from 'node:path'
import { KernelSpecAPI, ServerConnection, type Kernel, type KernelMessage } from '@jupyterlab/services'
import type {
  CompleteResult,
  EventName,
  Events,
  FullOutputPage,
  InspectResult,
  KernelConnectionState,
  KernelInfo,
  KernelSpecInfo,
  KernelStatus,
  VariableInfo
} from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { NodeKernelConnection, withTimeout } from './kernelConnection'
import { OutputRelay, type IopubLike, type RelayOptions } from './OutputRelay'
import { LOCAL_SERVER_ID, ServerRegistry } from './ServerRegistry'
import { parseVariables, variablesExpression } from './variables'

type KernelEvent = 'kernel.status' | 'kernel.iopub' | 'kernel.input' | 'kernel.server'

interface KernelEntry {
  id: string
  serverId: string
  specName: string
  language: string | null
  path: string | null
  conn: Kernel.IKernelConnection
  relay: OutputRelay
  input: { header: KernelMessage.IHeader<'input_request'>; cellId: string } | null
  recentLost: { lost: { msgId: string; cellId: string }[]; at: number } | null
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
}

/**
 * Kernels on any Jupyter server, driven through `@jupyterlab/services` and relayed over the
 * contract: requests in (`kernels.execute`, `complete`, `inspect`, `inputReply`…), IOPub out as
 * `kernel.iopub` events routed to the cell that ran them, status as `kernel.status`.
 */
export class KernelService {
  private readonly kernels = new Map<string, KernelEntry>()

  constructor(private readonly d: KernelServiceDeps) {}

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
    this.kernels.delete(k.id)
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
    return {
      kernelId: k.id,
      serverId: k.serverId,
      specName: k.specName,
      language: k.language,
      status: k.conn.status as KernelStatus,
      connection: k.conn.connectionStatus as KernelConnectionState,
      path: k.path
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

  /** Starts a kernel (on the local server unless `serverId`), in the folder of `path` when given. */
  async start(p: { serverId?: string; specName?: string; path?: string }): Promise<KernelInfo> {
    const serverId = p.serverId ?? LOCAL_SERVER_ID
    const settings = await this.d.servers.settingsFor(serverId)
    let cwd: string | undefined
    if (p.path) {
      const root = serverId === LOCAL_SERVER_ID ? this.d.workspace.path : null
      const dir = dirname(p.path)
      if (!isAbsolute(p.path)) cwd = dir === '.' ? '' : dir
      else if (root && !relative(root, dir).startsWith('..')) cwd = relative(root, dir)
    }
    const body: Record<string, unknown> = {}
    if (p.specName) body.name = p.specName
    if (cwd !== undefined) body.path = cwd
    const res = await ServerConnection.makeRequest(new URL('api/kernels', settings.baseUrl).toString(), { method: 'POST', body: JSON.stringify(body) }, settings).catch(
      (err) => {
        throw this.restError(err, 'start a kernel')
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
      throw new AppError(res.status === 401 || res.status === 403 ? 'JUPYTER_AUTH' : 'JUPYTER_UNAVAILABLE', `Jupyter could not start the kernel: HTTP ${res.status} ${message}`.trim(), {
        status: res.status,
        specName: p.specName
      })
    }
    const model = (await res.json()) as Kernel.IModel
    const conn = new NodeKernelConnection({ model, serverSettings: settings, handleComms: false })
    const k: KernelEntry = {
      id: model.id,
      serverId,
      specName: model.name,
      language: null,
      path: p.path ?? null,
      conn,
      relay: new OutputRelay(model.id, (e) => this.d.emit('kernel.iopub', e), this.d.relay),
      input: null,
      recentLost: null
    }
    this.kernels.set(k.id, k)
    this.wire(k)
    try {
      const info = await withTimeout(conn.info, this.d.startTimeoutMs ?? 60_000, () => new AppError('KERNEL_DEAD', 'The kernel did not answer after starting.'))
      k.language = info.language_info?.name ?? null
      await this.idle(k, 'The kernel did not become idle after starting.')
    } catch (err) {
      this.kernels.delete(k.id)
      await conn.shutdown().catch(() => {})
      conn.dispose()
      throw err
    }
    return this.info(k)
  }

  private wire(k: KernelEntry) {
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
    if (this.kernels.get(k.id) === k && k.conn.connectionStatus !== 'connected') this.drop(k, 'The connection to the kernel was lost.')
  }

  execute(p: { kernelId: string; cellId: string; code: string; storeHistory?: boolean; stopOnError?: boolean }): { msgId: string } {
    const k = this.alive(p.kernelId)
    const future = k.conn.requestExecute(
      { code: p.code, silent: false, store_history: p.storeHistory ?? true, allow_stdin: true, stop_on_error: p.stopOnError ?? true },
      false
    )
    const msgId = future.msg.header.msg_id
    k.relay.register(msgId, p.cellId)
    future.onStdin = (msg) => {
      if (msg.header.msg_type !== 'input_request') return
      const m = msg as KernelMessage.IInputRequestMsg
      k.input = { header: m.header, cellId: p.cellId }
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
    await k.conn.shutdown().catch((err) => this.d.log.warn(`kernel ${kernelId}: shutdown failed`, err))
    k.conn.dispose()
    k.relay.dispose()
    this.d.emit('kernel.status', { kernelId, serverId: k.serverId, status: 'dead', connection: 'disconnected', reason: 'shut down', ...(lost.length ? { lost } : {}) })
  }

  /** Shuts down the kernels this app started on remote servers (the local server's go with it). */
  async dispose(): Promise<void> {
    await Promise.all(
      [...this.kernels.values()].map(async (k) => {
        if (k.serverId !== LOCAL_SERVER_ID) await withTimeout(k.conn.shutdown(), 2000, () => new Error('timeout')).catch(() => {})
        k.conn.dispose()
        k.relay.dispose()
      })
    )
    this.kernels.clear()
  }
}
