/**
 * MLFLOW_TRACKING_URI/TOKEN for a job's environment, wherever it runs. Jobs on this machine (local,
 * and Slurm with the local CLI) get a relay at a stable address: a loopback proxy whose port is kept
 * in the data dir (its token in the secret store) and bound again when the app restarts, so a job that outlives the
 * app (whose own tracking door gets a new port or token) keeps logging into its run. SSH targets get
 * a reverse tunnel into a small HTTP proxy here (see envFor).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import type { Logger } from '../../log'
import type { SecretStore } from '../secrets/SecretStore'
import type { TrackingService } from '../tracking/TrackingService'
import { SshRunner } from './runners'
import type { JobBackend } from './types'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])
const RELAY_TOKEN_SECRET = 'jobs.trackingRelay.token'

export class TrackingBridge {
  private proxy: Server | null = null
  private relayServer: Server | null = null
  private relaying: Promise<{ uri: string; token: string }> | null = null

  /**
   * relayFile: where the relay's port is kept ({ port }); its token lives in the secret store.
   * Without a relay file, jobs here get the app's door as is.
   */
  constructor(
    private readonly tracking: Pick<TrackingService, 'trackingEnv'>,
    private readonly log: Logger,
    private readonly secrets: Pick<SecretStore, 'get' | 'set'>,
    readonly relayFile?: string
  ) {}

  /** Forwards a request to the app's tracking door as it is now (its current port, Host and token). */
  private forward(req: IncomingMessage, res: ServerResponse, authorization?: string): void {
    const now = this.tracking.trackingEnv()
    if (!now.MLFLOW_TRACKING_URI) return void res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'The tracking server is not up yet' }))
    const target = new URL(now.MLFLOW_TRACKING_URI)
    const headers = { ...req.headers, host: target.host, ...(authorization ? { authorization } : {}) }
    const up = httpRequest({ host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()))
    req.pipe(up)
  }

  /** The relay for jobs on this machine: started once, on the port it had before where that is free. */
  relay(): Promise<{ uri: string; token: string }> {
    if (!this.relayFile) return Promise.reject(new Error('no relay file'))
    this.relaying ??= this.startRelay(this.relayFile).catch((err) => {
      this.relaying = null
      throw err
    })
    return this.relaying
  }

  private async startRelay(file: string): Promise<{ uri: string; token: string }> {
    let saved: { port?: number } = {}
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      /* first use */
    }
    const kept = this.secrets.get(RELAY_TOKEN_SECRET)
    const token = kept && kept.length >= 32 ? kept : randomBytes(24).toString('hex')
    if (token !== kept) this.secrets.set(RELAY_TOKEN_SECRET, token)
    const expected = Buffer.from(token)
    const server = createServer((req, res) => {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? '')
      const given = Buffer.from(req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7).trim() : '')
      const deny = (status: number, message: string) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message }))
      if (!m || !LOOPBACK.has(m[1])) return deny(403, 'Host not allowed')
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return deny(403, 'Wrong token')
      const t = this.tracking.trackingEnv().MLFLOW_TRACKING_TOKEN
      this.forward(req, res, t ? `Bearer ${t}` : undefined)
    })
    const listen = (port: number) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
    try {
      await listen(Number.isInteger(saved.port) ? saved.port! : 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !saved.port) throw err
      this.log.warn(`the job tracking relay's port ${saved.port} is taken; running jobs that log to it cannot reach their runs`)
      await listen(0)
    }
    server.unref()
    this.relayServer = server
    const port = (server.address() as AddressInfo).port
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify({ port }), { mode: 0o600 })
    return { uri: `http://127.0.0.1:${port}`, token }
  }

  /**
   * MLFLOW_TRACKING_URI/TOKEN for a job. A loopback tracking server is reached from an SSH host
   * through a reverse tunnel (while the app is connected) into a small proxy that sets the Host
   * header our server expects; where that fails, metrics come from the log regexes only.
   */
  async envFor(backend: JobBackend): Promise<Record<string, string>> {
    const env = this.tracking.trackingEnv()
    const runner = (backend as { runner?: unknown }).runner
    if (!env.MLFLOW_TRACKING_URI) return env
    if (!(runner instanceof SshRunner)) {
      if (!this.relayFile) return env
      try {
        const r = await this.relay()
        const path = new URL(env.MLFLOW_TRACKING_URI).pathname.replace(/\/+$/, '')
        return { MLFLOW_TRACKING_URI: r.uri + path, MLFLOW_TRACKING_TOKEN: r.token }
      } catch (err) {
        this.log.warn('no job tracking relay; jobs get the tracking server as is (they cannot log across an app restart)', err)
        return env
      }
    }
    const u = new URL(env.MLFLOW_TRACKING_URI)
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return env
    if (!this.proxy) {
      this.proxy = createServer((req, res) => this.forward(req, res))
    }
    try {
      const proxy = this.proxy
      const port = await runner.reverseForward((stream) => proxy.emit('connection', stream))
      return { ...env, MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}${u.pathname === '/' ? '' : u.pathname}` }
    } catch (err) {
      this.log.warn(`no reverse tunnel to the tracking server through ${runner.label}; metrics come from log regexes only`, err)
      return {}
    }
  }

  close(): void {
    this.proxy?.close()
    this.proxy?.closeAllConnections()
    this.proxy = null
    this.relayServer?.close()
    this.relayServer?.closeAllConnections()
    this.relayServer = null
    this.relaying = null
  }
}
