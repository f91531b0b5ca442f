import { createServer, type Server, type Socket } from 'node:net'
import type { Client } from 'ssh2'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { connectSsh, sshLabel, type SshConnectOptions } from '../ssh/connect'

export { fingerprintOf, type KnownHost, type KnownHostsStore } from '../ssh/connect'

export interface SshTunnelOptions extends SshConnectOptions {
  /** Where the Jupyter server listens, as seen from the SSH host. */
  remoteHost: string
  remotePort: number
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
    return sshLabel(this.o)
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

  private async connect(accept?: string): Promise<Client> {
    const c = await connectSsh({ ...this.o, acceptFingerprint: accept })
    c.on('error', (err: Error) => this.o.log.warn(`ssh ${this.label}: ${err.message}`))
    c.on('close', () => this.onClose(c))
    return c
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
