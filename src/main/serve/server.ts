import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CallContext } from '../../shared/auth'
import type { Core } from '../core'
import type { Logger } from '../log'
import { createExportDownloads, EXPORT_DOWNLOAD_PREFIX } from '../services/lake/exportDownload'
import { createAuthenticator, type Authenticated } from './authn'
import { isDroppable, sendEvent, type SocketFlow } from './backpressure'
import { BodyTooLargeError, JsonTooDeepError, parseJson, readBody } from './http'
import { packReply } from '../../shared/binaryFrame'

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json'
}

/**
 * Extra HTTP routes behind the same Host and token checks (e.g. the MLflow REST API). A mount
 * answers every request whose path starts with one of its prefixes.
 */
export interface HttpMount {
  prefixes: readonly string[]
  /** `ctx` says who calls (the mount checks what its routes need, e.g. 'write' for MLflow writes). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx: CallContext): Promise<void> | void
  /** Told where the server listens (loopback origin) and the token kernels and jobs should use there. */
  onListening?(info: { origin: string; token: string | (() => string) }): void
  /** The body of a 401/403 refusal in the mount's own error format. */
  refusal?(status: 401 | 403, message: string): unknown
}

export interface ServeOptions {
  core: Core
  host: string
  port: number
  token: string
  rendererDir: string
  log: Logger
  /** How often open WebSockets' sign-ins are checked again (ms; default 5 s). */
  recheckMs?: number
  /** Host names besides the bound one and loopback that may reach the server (`--allowed-host`). */
  allowedHosts?: readonly string[]
  /** Default: the core's own mounts (`core.mounts`). */
  mounts?: readonly HttpMount[]
}

export interface RunningServer {
  url: string
  port: number
  close(): Promise<void>
}

export { requestToken } from './authn'

/** Largest `/api/rpc` body. */
export const RPC_BODY_LIMIT = 32 * 1024 * 1024

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** This machine's own interface addresses, as they appear in a Host header. */
function interfaceHosts(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(a.family === 'IPv6' ? `[${a.address.split('%')[0]}]` : a.address)
  }
  return out
}

/**
 * Guards against DNS rebinding: a Host header must name the bound address, loopback, or a name the
 * operator allowed. Bound to every interface (`0.0.0.0`/`::`), the machine's own addresses are also
 * accepted (an IP literal cannot be rebound), and any other name must be given with `--allowed-host`.
 */
export function hostChecker(boundHost: string, allowedHosts: readonly string[] = []) {
  const wildcard = boundHost === '0.0.0.0' || boundHost === '::'
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()))
  const bound = boundHost.includes(':') ? `[${boundHost}]` : boundHost
  let ifaces: Set<string> | null = null
  return (hostHeader: string | undefined, port: number): boolean => {
    if (!hostHeader) return false
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader)
    if (!m || (m[2] && Number(m[2]) !== port)) return false
    const name = m[1].toLowerCase()
    if (name === boundHost.toLowerCase() || name === bound.toLowerCase() || LOOPBACK_NAMES.has(name) || allowed.has(name)) return true
    if (!wildcard) return false
    ifaces ??= interfaceHosts()
    return ifaces.has(name)
  }
}

/**
 * Headless door: serves the built renderer over HTTP and the contract over a token-protected
 * WebSocket (`/api/ws`) and a plain JSON POST (`/api/rpc`) for scripts.
 */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const rendererRoot = resolve(o.rendererDir)
  const mounts = o.mounts ?? o.core.mounts ?? []
  const exportDownloads = createExportDownloads({ find: (id) => o.core.lake.downloadable(id), roots: () => o.core.lake.downloadRoots() })
  let origin = ''
  const hostAllowed = hostChecker(o.host, o.allowedHosts)
  const authn = createAuthenticator({ startupToken: o.token, auth: o.core.auth, port: () => (server.address() as AddressInfo).port })
  /** Browsers always send Origin on WebSocket upgrades and POSTs: when present it must be this server. */
  const originAllowed = (reqOrigin: string | undefined, port: number) => {
    if (reqOrigin === undefined) return true
    try {
      const u = new URL(reqOrigin)
      return (u.protocol === 'http:' || u.protocol === 'https:') && hostAllowed(u.host, port) && Number(u.port || 80) === port
    } catch {
      return false
    }
  }

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((err) => {
      o.log.error('http handler failed', err)
      if (!res.headersSent) sendJson(res, 500, { code: 'INTERNAL', message: 'Internal error' })
      else res.end()
    })
  })

  const securityHeaders = (res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', CSP)
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('X-Frame-Options', 'DENY')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse) {
    securityHeaders(res)
    const port = (server.address() as AddressInfo).port
    if (!hostAllowed(req.headers.host, port)) return sendJson(res, 403, { code: 'UNAUTHORIZED', message: 'Host not allowed' })
    const url = new URL(req.url ?? '/', 'http://localhost')
    const mount = mounts.find((m) => m.prefixes.some((p) => url.pathname.startsWith(p)))
    if (mount) {
      const a = authn.authenticate(req, url)
      if (!a.ok) return sendJson(res, a.status, mount.refusal?.(a.status, a.message) ?? { code: 'UNAUTHORIZED', message: a.message })
      return mount.handle(req, res, url, { principal: a.who.principal })
    }
    if (url.pathname.startsWith('/api/')) {
      if (url.pathname === '/api/login' && req.method === 'POST') {
        if (!originAllowed(req.headers.origin, port)) return sendJson(res, 403, { code: 'UNAUTHORIZED', message: 'Origin not allowed' })
        return authn.login(req, res)
      }
      const a = authn.authenticate(req, url)
      if (!a.ok) return sendJson(res, a.status, { code: 'UNAUTHORIZED', message: a.message })
      if (a.who.scope !== 'full') return sendJson(res, 403, { code: 'FORBIDDEN', message: 'This token works on the MLflow REST API only' })
      if (url.pathname === '/api/rpc' && req.method === 'POST') return handleRpc(req, res, a.who)
      if (url.pathname === '/api/health') return sendJson(res, 200, { ok: true })
      if (url.pathname.startsWith(EXPORT_DOWNLOAD_PREFIX)) return exportDownloads.handle(req, res, url, { principal: a.who.principal })
      if (url.pathname === '/api/session' && req.method === 'GET') return authn.session(a.who, res)
      if (url.pathname === '/api/logout' && req.method === 'POST') return authn.logout(a.who, res)
      return sendJson(res, 404, { code: 'NOT_FOUND', message: 'No such endpoint' })
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { code: 'INVALID_REQUEST', message: 'Method not allowed' })
    return serveStatic(url.pathname, res)
  }

  async function handleRpc(req: IncomingMessage, res: ServerResponse, who: Authenticated) {
    let body: { method?: unknown; params?: unknown }
    try {
      body = parseJson(await readBody(req, RPC_BODY_LIMIT)) as typeof body
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('Connection', 'close')
        return sendJson(res, 413, { error: { code: 'TOO_LARGE', message: err.message } })
      }
      const message = err instanceof JsonTooDeepError ? err.message : 'Body is not JSON'
      return sendJson(res, 400, { error: { code: 'INVALID_REQUEST', message } })
    }
    const out = await o.core.router.handle(String(body?.method ?? ''), body?.params, { principal: who.principal })
    if (out.ok) return sendJson(res, 200, { result: out.result })
    const status =
      out.error.code === 'INVALID_REQUEST' || out.error.code === 'UNKNOWN_METHOD' ? 400
      : out.error.code === 'NOT_FOUND' ? 404
      : out.error.code === 'TOO_LARGE' ? 413
      : out.error.code === 'FORBIDDEN' ? 403
      : 422
    return sendJson(res, out.error.code === 'INTERNAL' ? 500 : status, { error: out.error })
  }

  async function serveStatic(pathname: string, res: ServerResponse) {
    let rel: string
    try {
      rel = decodeURIComponent(pathname)
    } catch {
      return sendJson(res, 400, { code: 'INVALID_REQUEST', message: 'Bad path' })
    }
    if (rel === '/' || rel === '') rel = '/index.html'
    const file = normalize(join(rendererRoot, rel))
    if (file !== rendererRoot && !file.startsWith(rendererRoot + sep)) {
      return sendJson(res, 403, { code: 'UNAUTHORIZED', message: 'Path escapes the app' })
    }
    try {
      const s = await stat(file)
      if (!s.isFile()) throw new Error('not a file')
      const data = await readFile(file)
      res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream')
      res.setHeader('Cache-Control', rel === '/index.html' ? 'no-store' : 'public, max-age=3600')
      res.writeHead(200)
      res.end(data)
    } catch {
      sendJson(res, 404, { code: 'NOT_FOUND', message: 'Not found' })
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 })
  const clients = new Map<WebSocket, SocketFlow & { who: Authenticated }>()
  // sockets whose sign-in ended (sign-out, expiry, a disabled user, a revoked token) are closed, even idle ones
  const recheck = setInterval(() => {
    for (const [ws, c] of clients) {
      if (c.who.credential.kind !== 'startup' && !authn.resolveCredential(c.who.credential)) ws.close(4001, 'signed out')
    }
  }, o.recheckMs ?? 5000)
  recheck.unref()

  server.on('upgrade', (req, socket, head) => {
    const port = (server.address() as AddressInfo).port
    const url = new URL(req.url ?? '/', 'http://localhost')
    const reject = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      socket.destroy()
    }
    if (url.pathname !== '/api/ws') return reject(404, 'Not Found')
    if (!hostAllowed(req.headers.host, port)) return reject(403, 'Forbidden')
    // the upgrade is a GET: a session cookie needs no CSRF token here, the Origin check below guards it
    const a = authn.authenticate(req, url, { csrf: false })
    if (!a.ok) return reject(a.status, a.status === 401 ? 'Unauthorized' : 'Forbidden')
    if (a.who.scope !== 'full') return reject(403, 'Forbidden')
    // Browsers always send Origin: it must be this server. Non-browser clients send none.
    if (!originAllowed(req.headers.origin, port)) return reject(403, 'Forbidden')
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, a.who))
  })

  function onSocket(ws: WebSocket, who: Authenticated) {
    clients.set(ws, { dropped: 0, who })
    ws.on('close', () => {
      const flow = clients.get(ws)
      if (flow?.dropped) o.log.info(`a slow WebSocket client missed ${flow.dropped} re-fetchable events`)
      clients.delete(ws)
    })
    ws.on('error', () => clients.delete(ws))
    ws.on('message', (data) => {
      let msg: { id?: unknown; method?: unknown; params?: unknown }
      try {
        msg = parseJson(String(data)) as typeof msg
      } catch (err) {
        const message = err instanceof JsonTooDeepError ? err.message : 'Message is not JSON'
        return ws.send(JSON.stringify({ id: null, error: { code: 'INVALID_REQUEST', message } }))
      }
      if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number' || typeof msg.method !== 'string') {
        return ws.send(JSON.stringify({ id: null, error: { code: 'INVALID_REQUEST', message: 'Expected {id, method, params}' } }))
      }
      const id = msg.id
      // sign-out, expiry, revocation, disabling and role changes apply to an open socket at its next call
      const now = authn.resolveCredential(who.credential)
      if (!now) {
        ws.send(JSON.stringify({ id, error: { code: 'UNAUTHORIZED', message: 'Signed out or credential revoked' } }))
        return ws.close(4001, 'signed out')
      }
      void o.core.router.handle(msg.method, msg.params, { principal: now.principal, binary: true }).then((out) => {
        if (ws.readyState !== ws.OPEN) return
        // a result holding bytes (an Arrow page the client asked for) goes as one binary frame
        const frame = out.ok ? packReply(id, out.result) : null
        ws.send(frame ?? JSON.stringify(out.ok ? { id, result: out.result } : { id, error: out.error }))
      })
    })
  }

  const offEvents = o.core.events.onAny((event, payload) => {
    const text = JSON.stringify({ event, payload })
    const droppable = isDroppable(event, payload)
    for (const [ws, flow] of clients) {
      if (sendEvent(ws, text, droppable, flow) === 'closed') clients.delete(ws)
    }
  })

  await new Promise<void>((res, rej) => {
    server.once('error', rej)
    server.listen(o.port, o.host, () => res())
  })
  const port = (server.address() as AddressInfo).port
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  origin = `http://${hostForUrl}:${port}`
  // What a local script should call: the loopback name when bound to every interface.
  const local = o.host === '0.0.0.0' ? '127.0.0.1' : o.host === '::' ? '[::1]' : hostForUrl
  // kernels and jobs get the tracking-only token, never the start-up token
  for (const m of mounts) m.onListening?.({ origin: `http://${local}:${port}`, token: o.core.trackingToken })
  return {
    url: `${origin}/?token=${encodeURIComponent(o.token)}`,
    port,
    async close() {
      offEvents()
      clearInterval(recheck)
      for (const ws of clients.keys()) ws.close(1001, 'server shutting down')
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

