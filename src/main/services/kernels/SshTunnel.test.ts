import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { startSshd, sshdUnavailable, type TestSshd } from '../../testing/sshd'
import { JupyterServerManager } from './JupyterServerManager'
import { createKernelTestCore, findJupyterPython, type KernelTestCore } from './testing'

const python = await findJupyterPython()
const why = sshdUnavailable() ?? (!python ? 'no interpreter with jupyter_server and ipykernel' : null)
if (why) console.warn(`SSH tunnel tests skipped: ${why}`)

describe.skipIf(why !== null)('kernels through an SSH tunnel (real sshd on loopback)', () => {
  let sshd: TestSshd
  let dir: string
  let sshPort: number
  let remote: JupyterServerManager
  let core: KernelTestCore
  let hostFingerprint: string
  let key: string
  let otherKey: string

  beforeAll(async () => {
    sshd = await startSshd()
    ;({ dir, port: sshPort, hostFingerprint, key, otherKey } = sshd)
    mkdirSync(join(dir, 'remote-root'))
    remote = new JupyterServerManager({ python: python!, hasJupyterServer: true, rootDir: join(dir, 'remote-root'), env: {}, log: silentLogger })
    await remote.start()
    core = await createKernelTestCore()
  }, 120_000)

  afterAll(async () => {
    await core?.cleanup()
    await remote?.stop()
    await sshd?.stop()
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
