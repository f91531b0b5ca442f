/**
 * Desktop door for the MLflow REST API: a loopback HTTP server on a free port with a random token
 * (`Authorization: Bearer`, i.e. MLFLOW_TRACKING_TOKEN). The Electron entry starts it after the core;
 * `serve` does not need it (it mounts the same routes behind its own token).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../../log'
import { createTrackingRest, type HttpMountLike } from './rest'
import type { TrackingService } from './TrackingService'

export interface TrackingHttpOptions {
  tracking: TrackingService
  log: Logger
  /** Loopback only by default. */
  host?: string
  /** 0 (default): a free port. */
  port?: number
  /** Default: 24 random bytes, hex. */
  token?: string
  /** More routes behind the same checks, tried before the tracking API (e.g. the model registry's). */
  mounts?: readonly HttpMountLike[]
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

function bearer(req: IncomingMessage): string | null {
  const auth = req.headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null
}

export class TrackingHttpServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly port: number,
    readonly token: string
  ) {}

  static async start(o: TrackingHttpOptions): Promise<TrackingHttpServer> {
    const host = o.host ?? '127.0.0.1'
    const token = o.token ?? randomBytes(24).toString('hex')
    const expected = Buffer.from(token)
    const mount = createTrackingRest(o.tracking, o.log)
    const json = (res: ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const server = createServer((req, res) => {
      const port = (server.address() as AddressInfo).port
      const url = new URL(req.url ?? '/', 'http://localhost')
      // DNS rebinding: the Host must be a loopback name on our port
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? '')
      if (!m || !(LOOPBACK.has(m[1]) || m[1] === host) || (m[2] !== undefined && Number(m[2]) !== port)) {
        return json(res, 403, mount.refusal!(403, 'Host not allowed'))
      }
      const target = [...(o.mounts ?? []), mount].find((m) => m.prefixes.some((p) => url.pathname.startsWith(p)))
      if (!target) {
        return json(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No API endpoint found for ${url.pathname}` })
      }
      const given = bearer(req)
      if (!given) return json(res, 401, mount.refusal!(401, 'Missing token: set MLFLOW_TRACKING_TOKEN'))
      const g = Buffer.from(given)
      if (g.length !== expected.length || !timingSafeEqual(g, expected)) return json(res, 403, mount.refusal!(403, 'Wrong token'))
      void target.handle(req, res, url)
    })
    server.keepAliveTimeout = 30_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port ?? 0, host, () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    mount.onListening?.({ origin: url, token })
    return new TrackingHttpServer(server, url, port, token)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }
}
