import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { freePort, JupyterServerManager } from './JupyterServerManager'
import { createKernelTestCore, findJupyterPython, type KernelTestCore } from './testing'

const SSHD = '/usr/sbin/sshd'
const python = await findJupyterPython()
const isRoot = process.getuid?.() === 0
const why = !existsSync(SSHD)
  ? `${SSHD} is missing (apt install openssh-server)`
  : !isRoot
    ? 'the sshd fixture runs as root'
    : !python
      ? 'no interpreter with jupyter_server and ipykernel'
      : null
if (why) console.warn(`SSH tunnel tests skipped: ${why}`)

function waitPort(port: number, timeoutMs: number): Promise<void> {
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

describe.skipIf(why !== null)('kernels through an SSH tunnel (real sshd on loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-sshd-'))
  let sshd: ChildProcess
  let sshPort: number
  let remote: JupyterServerManager
  let core: KernelTestCore
  let hostFingerprint: string
  const key = join(dir, 'client_ed25519')
  const otherKey = join(dir, 'other_ed25519')

  beforeAll(async () => {
    const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file])
    keygen(join(dir, 'host_ed25519'))
    keygen(key)
    keygen(otherKey)
    hostFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]
    execFileSync('cp', [`${key}.pub`, join(dir, 'authorized_keys')])
    sshPort = await freePort()
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${sshPort}`,
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
        'LogLevel ERROR'
      ].join('\n') + '\n'
    )
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    sshd.stderr!.on('data', (d) => (err += d))
    await waitPort(sshPort, 10_000).catch((e) => {
      throw new Error(`sshd did not start: ${e.message}\n${err}`)
    })
    mkdirSync(join(dir, 'remote-root'))
    remote = new JupyterServerManager({ python: python!, hasJupyterServer: true, rootDir: join(dir, 'remote-root'), env: {}, log: silentLogger })
    await remote.start()
    core = await createKernelTestCore()
  }, 120_000)

  afterAll(async () => {
    await core?.cleanup()
    await remote?.stop()
    sshd?.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  })

  const ssh = (extra: Record<string, unknown> = {}) => ({
    baseUrl: remote.endpoint!.baseUrl,
    token: remote.endpoint!.token,
    ssh: { host: '127.0.0.1', port: sshPort, username: userInfo().username, privateKeyPath: key, ...extra }
  })

  it('refuses an unknown host key until its fingerprint is accepted, then runs a cell through the tunnel', async () => {
    const first = await core.call('kernels.connect', ssh()).catch((e) => e)
    expect(first.code).toBe('SSH_HOST_KEY')
    expect(first.details).toMatchObject({ reason: 'unknown', host: '127.0.0.1', port: sshPort, fingerprint: hostFingerprint, keyType: 'ssh-ed25519' })
    expect(first.message).toContain(`127.0.0.1:${sshPort}`)
    const server = await core.call('kernels.connect', ssh({ acceptHostKey: first.details.fingerprint }))
    expect(server).toMatchObject({ kind: 'ssh', state: 'ready', ssh: { host: '127.0.0.1', port: sshPort } })
    const k = await core.call('kernels.start', { serverId: server.id })
    const r = await core.run(k.kernelId, 'import os\nprint(os.getcwd())\n1+1')
    expect(r.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '2' })
    expect(r.events.filter((e) => e.msgType === 'stream').map((e) => e.content.text).join('')).toContain('remote-root')
    await core.call('kernels.shutdown', { kernelId: k.kernelId })
    // Remembered: reconnecting by id needs no token or acceptance again (the token is in the secret store).
    await core.call('kernels.disconnect', { serverId: server.id })
    expect(await core.call('kernels.connect', { serverId: server.id })).toMatchObject({ state: 'ready' })
    await core.call('kernels.disconnect', { serverId: server.id })
  })

  it('refuses a changed host key, naming the host', async () => {
    const known = core.settings.get<Record<string, any>>('ssh.knownHosts')!
    core.settings.set('ssh.knownHosts', { ...known, [`127.0.0.1:${sshPort}`]: { ...known[`127.0.0.1:${sshPort}`], fingerprint: 'SHA256:AAAAnotTheRealKeyAAAAAAAAAAAAAAAAAAAAAAAAAA' } })
    const t = Date.now()
    const err = await core.call('kernels.connect', ssh()).catch((e) => e)
    expect(err.code).toBe('SSH_HOST_KEY')
    expect(err.details.reason).toBe('changed')
    expect(err.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${sshPort}.*CHANGED`))
    expect(Date.now() - t).toBeLessThan(5000)
    core.settings.set('ssh.knownHosts', known)
  })

  it('reports a key the server does not accept as an SSH authentication error, quickly', async () => {
    const t = Date.now()
    const err = await core.call('kernels.connect', { ...ssh(), ssh: { ...ssh().ssh, privateKeyPath: otherKey } }).catch((e) => e)
    expect(err.code).toBe('SSH_ERROR')
    expect(err.message).toMatch(/authentication/)
    expect(Date.now() - t).toBeLessThan(5000)
  })
})
