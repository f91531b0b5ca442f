/**
 * One SSH connection (ssh2) with the app's host-key policy, shared by the kernels' tunnels and the
 * jobs' SSH and Slurm targets. The host key is checked against the known-hosts store: an unknown
 * host is refused (SSH_HOST_KEY, with the fingerprint to show) until the user accepts that
 * fingerprint; a changed key is always refused. Errors name the host.
 */
import { createHash } from 'node:crypto'
import { Client, type ConnectConfig } from 'ssh2'
import { AppError } from '../../../shared/errors'

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

/** The settings key under which accepted host keys live (shared by kernels and jobs). */
export const KNOWN_HOSTS_KEY = 'ssh.knownHosts'

/** A KnownHostsStore over a settings-like key/value store. */
export function knownHostsIn(store: { get<T>(key: string): T | undefined; set(key: string, value: unknown): void }): KnownHostsStore {
  return {
    get: (hp) => store.get<Record<string, KnownHost>>(KNOWN_HOSTS_KEY)?.[hp],
    set: (hp, entry) => store.set(KNOWN_HOSTS_KEY, { ...(store.get<Record<string, KnownHost>>(KNOWN_HOSTS_KEY) ?? {}), [hp]: entry })
  }
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

export interface SshConnectOptions {
  host: string
  port: number
  username: string
  privateKey?: Buffer
  passphrase?: string
  /** ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string
  knownHosts: KnownHostsStore
  /** A fingerprint the user accepted for a host not yet known. */
  acceptFingerprint?: string
  readyTimeoutMs?: number
}

export const sshLabel = (o: Pick<SshConnectOptions, 'username' | 'host' | 'port'>) => `${o.username}@${o.host}:${o.port}`

/** Connects and authenticates; rejects with SSH_HOST_KEY or SSH_ERROR (details.reason 'auth' | 'connect'). */
export function connectSsh(o: SshConnectOptions): Promise<Client> {
  const hostPort = `${o.host}:${o.port}`
  let problem: AppError | null = null
  const config: ConnectConfig = {
    host: o.host,
    port: o.port,
    username: o.username,
    privateKey: o.privateKey,
    passphrase: o.passphrase,
    agent: o.agent,
    readyTimeout: o.readyTimeoutMs ?? 8000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    hostVerifier: (key: Buffer) => {
      const fingerprint = fingerprintOf(key)
      const keyType = keyTypeOf(key)
      const known = o.knownHosts.get(hostPort)
      if (known) {
        if (known.fingerprint === fingerprint) return true
        problem = new AppError(
          'SSH_HOST_KEY',
          `The host key of ${hostPort} has CHANGED (was ${known.keyType} ${known.fingerprint}, now ${keyType} ${fingerprint}). ` +
            'Refusing to connect: this may be an attack. If the host was reinstalled, remove it from the known hosts first.',
          { host: o.host, port: o.port, reason: 'changed', fingerprint, keyType, knownFingerprint: known.fingerprint }
        )
        return false
      }
      if (o.acceptFingerprint && o.acceptFingerprint === fingerprint) {
        o.knownHosts.set(hostPort, { keyType, fingerprint, addedAt: new Date().toISOString() })
        return true
      }
      problem = new AppError(
        'SSH_HOST_KEY',
        o.acceptFingerprint
          ? `The host key of ${hostPort} is ${keyType} ${fingerprint}, not the accepted ${o.acceptFingerprint}; refusing to connect.`
          : `${hostPort} is not a known host. Its ${keyType} key fingerprint is ${fingerprint}; accept it to connect.`,
        { host: o.host, port: o.port, reason: o.acceptFingerprint ? 'mismatch' : 'unknown', fingerprint, keyType }
      )
      return false
    }
  }
  return new Promise((resolve, reject) => {
    const c = new Client()
    let settled = false
    c.once('ready', () => {
      settled = true
      resolve(c)
    })
    c.on('error', (err: Error & { level?: string }) => {
      if (settled) return
      settled = true
      c.end()
      if (problem) return reject(problem)
      const auth = err.level === 'client-authentication'
      reject(
        new AppError(
          'SSH_ERROR',
          auth
            ? `SSH authentication as ${o.username} on ${hostPort} failed (key, passphrase or agent): ${err.message}`
            : `Cannot connect to SSH host ${hostPort}: ${err.message}`,
          { host: o.host, port: o.port, reason: auth ? 'auth' : 'connect' }
        )
      )
    })
    try {
      c.connect(config)
    } catch (err) {
      settled = true
      reject(new AppError('SSH_ERROR', `Cannot connect to SSH host ${hostPort}: ${(err as Error).message}`, { host: o.host, port: o.port }))
    }
  })
}
