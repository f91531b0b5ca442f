/**
 * Test harness: a real OpenSSH server on loopback with its own host key, an authorised client key
 * and a second key it does not accept. Shared by the kernels' tunnel tests and the jobs' SSH tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './slurm'

export const SSHD = '/usr/sbin/sshd'

/** Why the sshd fixture cannot run here, or null. */
export function sshdUnavailable(): string | null {
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt install openssh-server)`
  if (process.getuid?.() !== 0) return 'the sshd fixture runs as root'
  return null
}

export function waitPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve()))
      s.once('error', () => {
        s.destroy()
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`))
        else setTimeout(attempt, 100)
      })
    }
    attempt()
  })
}

export interface TestSshd {
  dir: string
  port: number
  /** An authorised client key (no passphrase). */
  key: string
  /** A key the server does not accept. */
  otherKey: string
  hostFingerprint: string
  stop(): Promise<void>
}

/** Starts sshd on a free loopback port; `extraConfig` lines are appended (e.g. `SetEnv SLURM_CONF=…`). */
export async function startSshd(extraConfig: string[] = []): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-sshd-'))
  const key = join(dir, 'client_ed25519')
  const otherKey = join(dir, 'other_ed25519')
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file])
  keygen(join(dir, 'host_ed25519'))
  keygen(key)
  keygen(otherKey)
  const hostFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]
  execFileSync('cp', [`${key}.pub`, join(dir, 'authorized_keys')])
  const port = await freePort()
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin yes',
      'AllowTcpForwarding yes',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      ...extraConfig
    ].join('\n') + '\n'
  )
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const sshd: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  sshd.stderr!.on('data', (d) => (err += d))
  await waitPort(port, 10_000).catch((e) => {
    sshd.kill('SIGTERM')
    throw new Error(`sshd did not start: ${e.message}\n${err}`)
  })
  return {
    dir,
    port,
    key,
    otherKey,
    hostFingerprint,
    async stop() {
      if (sshd.exitCode === null) {
        const gone = new Promise((r) => sshd.once('exit', r))
        sshd.kill('SIGTERM')
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))])
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
