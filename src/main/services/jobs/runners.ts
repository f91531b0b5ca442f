/** Runners: how the backends reach a target — this machine (child processes, fs) or a host over SSH (exec + SFTP). */
import { spawn } from 'node:child_process'
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises'
import type { Duplex } from 'node:stream'
import { homedir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import type { Client, SFTPWrapper } from 'ssh2'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { connectSsh, sshLabel, type SshConnectOptions } from '../ssh/connect'
import type { FileToWrite, Runner } from './types'

type ShResult = { code: number; stdout: string; stderr: string }

/** Runs `fn` on every item, `size` at a time. */
async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn))
}

async function readRange(path: string, fromByte: number, maxBytes: number): Promise<Buffer> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0)
    throw err
  }
  try {
    const buf = Buffer.alloc(maxBytes)
    const { bytesRead } = await fh.read(buf, 0, maxBytes, fromByte)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/** This machine. `env` is added to every command (e.g. SLURM_CONF). */
export class LocalRunner implements Runner {
  readonly label = 'this machine'
  readonly local = true
  /** How many processes `sh` started (the bench counts squeue calls with it). */
  calls = 0
  constructor(private readonly env: Record<string, string> = {}) {}

  sh(script: string, opts: { timeoutMs?: number } = {}): Promise<ShResult> {
    this.calls++
    return new Promise((resolve, reject) => {
      const p = spawn('bash', ['-c', script], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      p.stdout.on('data', (d) => (stdout += d))
      p.stderr.on('data', (d) => (stderr += d))
      const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
      p.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      p.once('close', (code, signal) => {
        clearTimeout(timer)
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })
      })
    })
  }

  async resolve(path: string): Promise<string> {
    return path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path
  }

  async writeFiles(files: FileToWrite[]): Promise<void> {
    for (const d of new Set(files.map((f) => dirname(f.path)))) await mkdir(d, { recursive: true })
    await Promise.all(files.map((f) => writeFile(f.path, f.content, { mode: f.mode ?? 0o644 })))
  }

  async upload(localDir: string, files: string[], remoteDir: string): Promise<void> {
    const dirs = new Set(files.map((f) => dirname(join(remoteDir, f))))
    for (const d of dirs) await mkdir(d, { recursive: true })
    await inBatches(files, 32, (f) => copyFile(join(localDir, f), join(remoteDir, f)))
  }

  read(path: string, fromByte: number, maxBytes: number): Promise<Buffer> {
    return readRange(path, fromByte, maxBytes)
  }

  async close(): Promise<void> {}
}

/** A host over SSH: one ssh2 connection (re-opened when it drops), commands through exec, files through SFTP. */
export class SshRunner implements Runner {
  readonly local = false
  calls = 0
  private client: Promise<Client> | null = null
  private sftpP: Promise<SFTPWrapper> | null = null
  private home: string | null = null
  private closed = false

  constructor(
    private readonly o: SshConnectOptions,
    private readonly log: Logger
  ) {}

  get label(): string {
    return sshLabel(this.o)
  }

  private conn(): Promise<Client> {
    if (this.closed) return Promise.reject(new AppError('JOB_ERROR', `The SSH connection to ${this.label} is closed.`))
    if (!this.client) {
      const p = connectSsh(this.o).then((c) => {
        c.on('error', (err: Error) => this.log.warn(`ssh ${this.label}: ${err.message}`))
        c.on('close', () => {
          if (this.client === p) {
            this.client = null
            this.sftpP = null
          }
        })
        return c
      })
      p.catch(() => {
        if (this.client === p) this.client = null
      })
      this.client = p
    }
    return this.client
  }

  /** Opens (or re-uses) the connection; errors name the host. */
  async connect(): Promise<void> {
    await this.conn()
  }

  async sh(script: string, opts: { timeoutMs?: number } = {}): Promise<ShResult> {
    this.calls++
    const c = await this.conn()
    return new Promise((resolve, reject) => {
      // a login shell, so PATH/modules of the cluster apply; the script goes in on stdin
      c.exec('bash -l -s', (err, stream) => {
        if (err) return reject(new AppError('SSH_ERROR', `Cannot run a command on ${this.label}: ${err.message}`, { host: this.o.host }))
        let stdout = ''
        let stderr = ''
        const timer = setTimeout(() => stream.close(), opts.timeoutMs ?? 60_000)
        stream.on('data', (d: Buffer) => (stdout += d))
        stream.stderr.on('data', (d: Buffer) => (stderr += d))
        stream.once('close', (code: number | null) => {
          clearTimeout(timer)
          resolve({ code: code ?? 255, stdout, stderr })
        })
        stream.end(script + '\n')
      })
    })
  }

  private sftp(): Promise<SFTPWrapper> {
    if (!this.sftpP) {
      const p = this.conn().then(
        (c) =>
          new Promise<SFTPWrapper>((resolve, reject) =>
            c.sftp((err, s) => (err ? reject(new AppError('SSH_ERROR', `SFTP to ${this.label} failed: ${err.message}`, { host: this.o.host })) : resolve(s)))
          )
      )
      p.catch(() => {
        if (this.sftpP === p) this.sftpP = null
      })
      this.sftpP = p
    }
    return this.sftpP
  }

  async resolve(path: string): Promise<string> {
    if (!path.startsWith('~')) return path
    if (!this.home) this.home = (await this.sh('printf %s "$HOME"')).stdout.trim()
    return path === '~' ? this.home : posix.join(this.home, path.slice(2))
  }

  /** One `mkdir -p` for every folder (each command costs a login shell, often seconds on a busy login node), then SFTP writes, 8 at a time. */
  async writeFiles(files: FileToWrite[]): Promise<void> {
    if (files.length === 0) return
    await this.mkdirs(files.map((f) => posix.dirname(f.path)))
    const s = await this.sftp()
    const put = (f: FileToWrite) =>
      new Promise<void>((resolve, reject) =>
        s.writeFile(f.path, f.content, { mode: f.mode ?? 0o644 }, (err) =>
          err ? reject(new AppError('JOB_ERROR', `Writing ${f.path} on ${this.label} failed: ${err.message}`)) : resolve()
        )
      )
    await inBatches(files, 8, put)
  }

  private async mkdirs(dirs: string[]): Promise<void> {
    const unique = [...new Set(dirs)]
    if (unique.length === 0) return
    const quoted = unique.map((d) => `'${d.replace(/'/g, `'\\''`)}'`).join(' ')
    const r = await this.sh(`mkdir -p ${quoted}`)
    if (r.code !== 0) throw new AppError('JOB_ERROR', `Cannot create folders on ${this.label}: ${r.stderr.trim()}`)
  }

  async upload(localDir: string, files: string[], remoteDir: string): Promise<void> {
    await this.mkdirs([remoteDir, ...files.map((f) => posix.dirname(posix.join(remoteDir, f)))])
    const s = await this.sftp()
    const put = (f: string) =>
      new Promise<void>((resolve, reject) =>
        s.fastPut(join(localDir, f), posix.join(remoteDir, f), (err) =>
          err ? reject(new AppError('JOB_ERROR', `Uploading ${f} to ${this.label} failed: ${err.message}`)) : resolve()
        )
      )
    await inBatches(files, 8, put)
  }

  async read(path: string, fromByte: number, maxBytes: number): Promise<Buffer> {
    const s = await this.sftp()
    return new Promise((resolve, reject) => {
      s.open(path, 'r', (err, handle) => {
        if (err) return (err as { code?: number }).code === 2 ? resolve(Buffer.alloc(0)) : reject(err)
        const buf = Buffer.alloc(maxBytes)
        const chunks: Buffer[] = []
        let total = 0
        const next = () =>
          s.read(handle, buf, 0, Math.min(buf.length, maxBytes - total), fromByte + total, (rerr, n) => {
            if (rerr || n === 0 || total + n >= maxBytes) {
              if (!rerr && n > 0) chunks.push(Buffer.from(buf.subarray(0, n)))
              return s.close(handle, () => (rerr && total === 0 && (rerr as { code?: number }).code !== 1 ? reject(rerr) : resolve(Buffer.concat(chunks))))
            }
            chunks.push(Buffer.from(buf.subarray(0, n)))
            total += n
            next()
          })
        next()
      })
    })
  }

  /**
   * A reverse tunnel (ssh -R): a port on the host's loopback whose connections are handed to
   * `onConnection` here (e.g. an HTTP proxy to this app's tracking server), while the SSH
   * connection is up. Resolves the remote port.
   */
  async reverseForward(onConnection: (stream: Duplex) => void): Promise<number> {
    const c = await this.conn()
    if (!this.forwarding.has(c)) {
      this.forwarding.add(c)
      c.on('tcp connection', (_info, accept) => onConnection(accept()))
    }
    return new Promise((resolve, reject) => c.forwardIn('127.0.0.1', 0, (err, port) => (err ? reject(err) : resolve(port))))
  }

  private readonly forwarding = new WeakSet<Client>()

  async close(): Promise<void> {
    this.closed = true
    const c = this.client
    this.client = null
    this.sftpP = null
    if (c) await c.then((cl) => cl.end()).catch(() => undefined)
  }
}
