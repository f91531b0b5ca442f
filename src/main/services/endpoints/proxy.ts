/**
 * The endpoints' front door: one HTTP listener on loopback for every endpoint, at
 * `/endpoints/<name>/invocations` (and `/ping`, `/health`, `/version`). One listener rather than a
 * port per endpoint: a single stable port survives endpoints coming and going, there is one thing
 * to allow through a firewall or tunnel, and the name in the path is what MLflow clients already
 * put in a URL. It checks the Bearer token (against a SHA-256 hash), picks a variant by weight,
 * forwards over keep-alive connections, copies the request to shadow variants after answering,
 * records per-variant metrics and hands sampled traffic to capture. A variant that is not serving
 * (crashed and restarting) answers 503 at once; an upstream that does not answer in time, 504.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CaptureRow } from './capture'
import type { ManagedAnswer, VariantTarget } from './backend'

export interface RouteVariant {
  name: string
  weight: number
  shadow: boolean
  target: () => VariantTarget | null
  record: (latencyMs: number, error: boolean) => void
}

export interface Route {
  tokenHash: string
  variants: RouteVariant[]
  /** 0–100; 0 when capture is off. */
  samplingPercent: number
  capture: (row: CaptureRow) => void
  /**
   * An endpoint the provider runs whole (SageMaker): requests go to `invoke`, the provider picks
   * the variant, and the answer names it; `unavailable` says why it cannot serve now, else null.
   */
  managed?: { unavailable: () => string | null; invoke: (body: Buffer, contentType: string) => Promise<ManagedAnswer> }
}

export interface ProxyOptions {
  resolve: (name: string) => Route | null
  maxBodyBytes?: number
  upstreamTimeoutMs?: number
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

function mlflowError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}) {
  const body = JSON.stringify({ error_code: code, message })
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra })
  res.end(body)
}

function authorized(req: IncomingMessage, hash: string): boolean {
  const h = req.headers.authorization ?? ''
  const m = /^Bearer\s+(.+)$/i.exec(h)
  if (!m) return false
  const got = Buffer.from(hashToken(m[1].trim()), 'hex')
  const want = Buffer.from(hash, 'hex')
  return got.length === want.length && timingSafeEqual(got, want)
}

export function pickVariant(variants: RouteVariant[], rand = Math.random()): RouteVariant | null {
  const live = variants.filter((v) => !v.shadow && v.weight > 0)
  const total = live.reduce((a, v) => a + v.weight, 0)
  if (total <= 0) return null
  let x = rand * total
  for (const v of live) {
    if ((x -= v.weight) < 0) return v
  }
  return live[live.length - 1]
}

interface Upstream {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export class EndpointProxy {
  private server: Server | null = null
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 })
  port = 0

  constructor(private readonly o: ProxyOptions) {}

  /** Listens on `port` if free (the previous one, so URLs stay the same), else on any free port. */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res))
    server.keepAliveTimeout = 30_000
    const bind = (p: number) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(p, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    try {
      await bind(port)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err
      await bind(0)
    }
    this.server = server
    this.port = (server.address() as AddressInfo).port
    return this.port
  }

  async close(): Promise<void> {
    this.agent.destroy()
    const s = this.server
    this.server = null
    if (!s) return
    s.closeAllConnections?.()
    await new Promise<void>((r) => s.close(() => r()))
  }

  private forward(target: VariantTarget, path: string, method: string, contentType: string, body: Buffer): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.host,
          port: target.port,
          path,
          method,
          agent: this.agent,
          timeout: this.o.upstreamTimeoutMs ?? 60_000,
          headers: { 'content-type': contentType, 'content-length': body.length }
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') }, body: Buffer.concat(chunks) })
          )
          res.on('error', reject)
        }
      )
      req.on('timeout', () => req.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })))
      req.on('error', reject)
      req.end(method === 'GET' ? undefined : body)
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/endpoints\/([a-z0-9-]+)\/(invocations|ping|health|version)\/?(?:\?.*)?$/.exec(req.url ?? '')
    if (!m) return mlflowError(res, 404, 'ENDPOINT_NOT_FOUND', `No route ${req.url}; use /endpoints/<name>/invocations`)
    const route = this.o.resolve(m[1])
    if (!route) return mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', `No endpoint named '${m[1]}'`)
    if (!authorized(req, route.tokenHash)) {
      req.resume()
      return mlflowError(res, 401, 'UNAUTHENTICATED', 'A valid Bearer token is required (Authorization: Bearer <token>)', { 'www-authenticate': 'Bearer' })
    }
    const op = m[2]
    const max = this.o.maxBodyBytes ?? 50 * 1024 * 1024
    if (Number(req.headers['content-length'] ?? 0) > max) {
      req.resume()
      return mlflowError(res, 413, 'BAD_REQUEST', `The request body is larger than ${max} bytes.`, { connection: 'close' })
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length
      if (size > max) return mlflowError(res, 413, 'BAD_REQUEST', `The request body is larger than ${max} bytes.`, { connection: 'close' })
      chunks.push(c)
    }
    const body = Buffer.concat(chunks)
    const contentType = String(req.headers['content-type'] ?? 'application/json')
    if (route.managed) return this.handleManaged(route, route.managed, op, req.method ?? 'GET', contentType, body, res)
    if (op !== 'invocations') {
      const any = route.variants.map((v) => v.target()).find((t) => t !== null)
      if (!any) return mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', 'No variant of this endpoint is serving right now', { 'retry-after': '1' })
      try {
        const up = await this.forward(any, `/${op}`, 'GET', contentType, body)
        res.writeHead(up.status, { 'content-type': up.headers['content-type'], 'content-length': up.body.length })
        return void res.end(up.body)
      } catch {
        return mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', 'The scoring server is not answering', { 'retry-after': '1' })
      }
    }
    if (req.method !== 'POST') return mlflowError(res, 405, 'BAD_REQUEST', 'Use POST for /invocations')
    let chosen = pickVariant(route.variants)
    // a canary that is down does not take its share: the others answer
    if (chosen && !chosen.target()) chosen = pickVariant(route.variants.filter((v) => v.target() !== null)) ?? chosen
    if (!chosen) return mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', 'This endpoint has no variant taking traffic')
    const t0 = performance.now()
    const target = chosen.target()
    if (!target) {
      chosen.record(performance.now() - t0, true)
      return mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', `Variant '${chosen.name}' is not serving right now (restarting); try again shortly`, { 'retry-after': '1' })
    }
    let up: Upstream
    try {
      up = await this.forward(target, '/invocations', 'POST', contentType, body)
    } catch (err) {
      chosen.record(performance.now() - t0, true)
      const timeout = (err as NodeJS.ErrnoException).code === 'ETIMEDOUT'
      return timeout
        ? mlflowError(res, 504, 'TEMPORARILY_UNAVAILABLE', `Variant '${chosen.name}' did not answer in time`)
        : mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', `Variant '${chosen.name}' is not serving right now; try again shortly`, { 'retry-after': '1' })
    }
    const latency = performance.now() - t0
    chosen.record(latency, up.status >= 400)
    res.writeHead(up.status, { 'content-type': up.headers['content-type'], 'content-length': up.body.length, 'x-atelier-variant': chosen.name })
    res.end(up.body)
    const sample = route.samplingPercent > 0 && Math.random() * 100 < route.samplingPercent
    if (sample && up.status < 400) route.capture(captureRow(chosen.name, false, up.status, latency, contentType, body, up.body))
    for (const s of route.variants.filter((v) => v.shadow)) {
      const st = s.target()
      if (!st) continue
      const s0 = performance.now()
      this.forward(st, '/invocations', 'POST', contentType, body).then(
        (r) => {
          const l = performance.now() - s0
          s.record(l, r.status >= 400)
          if (sample && r.status < 400) route.capture(captureRow(s.name, true, r.status, l, contentType, body, r.body))
        },
        () => s.record(performance.now() - s0, true)
      )
    }
  }

  /** A request to an endpoint its provider runs: latency measured around the provider's call. */
  private async handleManaged(route: Route, m: NonNullable<Route['managed']>, op: string, method: string, contentType: string, body: Buffer, res: ServerResponse): Promise<void> {
    const why = m.unavailable()
    if (op !== 'invocations') {
      if (why) return mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', why, { 'retry-after': '5' })
      const text = op === 'ping' ? '' : JSON.stringify({ status: 'InService' })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      return void res.end(text)
    }
    if (method !== 'POST') return mlflowError(res, 405, 'BAD_REQUEST', 'Use POST for /invocations')
    if (why) return mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', why, { 'retry-after': '5' })
    const t0 = performance.now()
    let up: ManagedAnswer
    try {
      up = await m.invoke(body, contentType)
    } catch (err) {
      const e = err as { message?: string; details?: { httpStatus?: number | null; code?: string } }
      route.variants.find((v) => !v.shadow)?.record(performance.now() - t0, true)
      const status = e.details?.httpStatus && e.details.httpStatus >= 400 ? e.details.httpStatus : 502
      return mlflowError(res, status, e.details?.code ?? 'ENDPOINT_ERROR', e.message ?? String(err))
    }
    const latency = performance.now() - t0
    const chosen = route.variants.find((v) => v.name === up.variant) ?? route.variants.find((v) => !v.shadow)
    chosen?.record(latency, false)
    const name = chosen?.name ?? up.variant ?? ''
    res.writeHead(up.status, { 'content-type': up.contentType, 'content-length': up.body.length, 'x-atelier-variant': name })
    res.end(up.body)
    if (route.samplingPercent > 0 && Math.random() * 100 < route.samplingPercent) route.capture(captureRow(name, false, up.status, latency, contentType, body, up.body))
  }
}

function captureRow(variant: string, shadow: boolean, status: number, latency: number, contentType: string, req: Buffer, resp: Buffer): CaptureRow {
  return { ts: Date.now(), variant, shadow, status, latency_ms: latency, content_type: contentType, inputs: null, request: req.toString('utf8'), response: resp.toString('utf8') }
}
