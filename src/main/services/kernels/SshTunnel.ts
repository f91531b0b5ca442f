import { createHash } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { Client, type ConnectConfig } from 'ssh2'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'

export interface KnownHost {
  keyType: string
  fingerprint: string
  addedAt: string
}

/** Host keys the user accepted, by `host:port` (kept in the app database). */
export interface KnownHostsStore {
  get(hostPort: string): KnownHost | undefined
  set(hostPort: string, entry: KnownHost): void
}

export function fingerprintOf(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '')
}

function keyTypeOf(key: Buffer): string {
  try {
    const len = key.readUInt32BE(0)
    return key.subarray(4, 4 + len).toString('ascii')
  } catch {
    return 'unknown'
  }
}

export interface SshTunnelOptions {
  host: string
  port: number
  username: string
  privateKey?: Buffer
  passphrase?: string
  /** ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string
  /** Where the Jupyter server listens, as seen from the SSH host. */
  remoteHost: string
  remotePort: number
  knownHosts: KnownHostsStore
  /** A fingerprint the user accepted for a host not yet known. */
  acceptFingerprint?: string
  readyTimeoutMs?: number
  log: Logger
  /** The SSH connection dropped and could not be re-established. */
  onLost?: (message: string) => void
}

/**
 * A local loopback port forwarded through SSH (ssh2) to a remote Jupyter server. The host key is
 * checked against the known-hosts store: an unknown host is refused (SSH_HOST_KEY, with the
 * fingerprint to show) until the user accepts that fingerprint; a changed key is always refused.
 * A dropped connection is re-established behind the same local port, so kernel sockets reconnect.
 */
export class SshTunnel {
  localPort = 0
  private client: Client | null = null
  private server: Server | null = null
  private closing = false
  private readonly sockets = new Set<Socket>()

  constructor(private readonly o: SshTunnelOptions) {}

  get label(): string {
    return `${this.o.username}@${this.o.host}:${this.o.port}`
  }

  async open(): Promise<number> {
    this.client = await this.connect(this.o.acceptFingerprint)
    this.server = createServer((sock) => this.forward(sock))
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(0, '127.0.0.1', () => resolve())
    })
    this.localPort = (this.server.address() as { port: number }).port
    return this.localPort
  }

  private forward(sock: Socket) {
    const client = this.client
    if (!client) return sock.destroy()
    this.sockets.add(sock)
    sock.once('close', () => this.sockets.delete(sock))
    client.forwardOut('127.0.0.1', sock.remotePort ?? 0, this.o.remoteHost, this.o.remotePort, (err, stream) => {
      if (err) {
        this.o.log.warn(`ssh forward to ${this.o.remoteHost}:${this.o.remotePort} via ${this.label} failed: ${err.message}`)
        return sock.destroy()
      }
      sock.pipe(stream).pipe(sock)
      stream.once('close', () => sock.destroy())
      sock.once('error', () => stream.close())
    })
  }

  private connect(accept?: string): Promise<Client> {
    const hostPort = `${this.o.host}:${this.o.port}`
    let problem: AppError | null = null
    const config: ConnectConfig = {
      host: this.o.host,
      port: this.o.port,
      username: this.o.username,
      privateKey: this.o.privateKey,
      passphrase: this.o.passphrase,
      agent: this.o.agent,
      readyTimeout: this.o.readyTimeoutMs ?? 8000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        const fingerprint = fingerprintOf(key)
        const keyType = keyTypeOf(key)
        const known = this.o.knownHosts.get(hostPort)
        if (known) {
          if (known.fingerprint === fingerprint) return true
          problem = new AppError(
            'SSH_HOST_KEY',
            `The host key of ${hostPort} has CHANGED (was ${known.keyType} ${known.fingerprint}, now ${keyType} ${fingerprint}). ` +
              'Refusing to connect: this may be an attack. If the host was reinstalled, remove it from the known hosts first.',
            { host: this.o.host, port: this.o.port, reason: 'changed', fingerprint, keyType, knownFingerprint: known.fingerprint }
          )
          return false
        }
        if (accept && accept === fingerprint) {
          this.o.knownHosts.set(hostPort, { keyType, fingerprint, addedAt: new Date().toISOString() })
          return true
        }
        problem = new AppError(
          'SSH_HOST_KEY',
          accept
            ? `The host key of ${hostPort} is ${keyType} ${fingerprint}, not the accepted ${accept}; refusing to connect.`
            : `${hostPort} is not a known host. Its ${keyType} key fingerprint is ${fingerprint}; accept it to connect.`,
          { host: this.o.host, port: this.o.port, reason: accept ? 'mismatch' : 'unknown', fingerprint, keyType }
        )
        return false
      }
    }
    return new Promise((resolve, reject) => {
      const c = new Client()
      let settled = false
      c.once('ready', () => {
        settled = true
        c.on('close', () => this.onClose(c))
        resolve(c)
      })
      c.on('error', (err: Error & { level?: string }) => {
        if (settled) return this.o.log.warn(`ssh ${this.label}: ${err.message}`)
        settled = true
        c.end()
        if (problem) return reject(problem)
        const auth = err.level === 'client-authentication'
        reject(
          new AppError(
            'SSH_ERROR',
            auth
              ? `SSH authentication as ${this.o.username} on ${hostPort} failed (key, passphrase or agent): ${err.message}`
              : `Cannot connect to SSH host ${hostPort}: ${err.message}`,
            { host: this.o.host, port: this.o.port, reason: auth ? 'auth' : 'connect' }
          )
        )
      })
      try {
        c.connect(config)
      } catch (err) {
        settled = true
        reject(new AppError('SSH_ERROR', `Cannot connect to SSH host ${hostPort}: ${(err as Error).message}`, { host: this.o.host, port: this.o.port }))
      }
    })
  }

  private async onClose(c: Client) {
    if (this.closing || c !== this.client) return
    this.client = null
    for (let attempt = 0; attempt < 3 && !this.closing; attempt++) {
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt))
      if (this.closing) return
      try {
        this.client = await this.connect()
        this.o.log.info(`ssh ${this.label}: reconnected`)
        return
      } catch (err) {
        this.o.log.warn(`ssh ${this.label}: reconnect failed: ${(err as Error).message}`)
        if (err instanceof AppError && err.code === 'SSH_HOST_KEY') break
      }
    }
    if (!this.closing) this.o.onLost?.(`The SSH connection ${this.label} was lost and could not be re-established.`)
  }

  async close(): Promise<void> {
    this.closing = true
    for (const s of this.sockets) s.destroy()
    this.client?.end()
    this.client = null
    const server = this.server
    this.server = null
    if (server) await new Promise<void>((r) => server.close(() => r()))
  }
}
