import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKernelTestCore, findJupyterPython, type KernelTestCore } from '../kernels/testing'
import { isAlive } from '../kernels/processTree'
import type { RunningItem } from '../../../shared/running'

const python = await findJupyterPython()
if (!python) console.warn('running-panel kernel tests skipped: no interpreter with jupyter_server and ipykernel was found')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!python)('Running: a real local Jupyter kernel under an idle policy', () => {
  let core: KernelTestCore
  let kernelId: string

  const kernelItem = async (): Promise<RunningItem | undefined> =>
    ((await core.call('running.list')) as RunningItem[]).find((i) => i.kind === 'kernel' && i.id === kernelId)

  /** Ticks the policy check until `pred` holds. */
  async function tickUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      await core.running.tick()
      if (await pred()) return
      await sleep(250)
    }
    throw new Error(`timed out waiting for ${what}`)
  }

  const stateOf = async (id: string) => ((await core.call('running.list')) as RunningItem[]).find((i) => i.id === id)?.state
  async function waitState(id: string, state: string) {
    const deadline = Date.now() + 20_000
    while ((await stateOf(id)) !== state && Date.now() < deadline) await sleep(200)
    expect(await stateOf(id)).toBe(state)
  }

  beforeAll(async () => {
    core = await createKernelTestCore()
    await core.call('kernels.startLocal', {})
    kernelId = (await core.call('kernels.start', {})).kernelId
    await waitState(kernelId, 'idle')
  }, 120_000)
  afterAll(async () => core?.cleanup())

  it('lists the server and the kernel, with memory measured from their process trees', async () => {
    const items = (await core.call('running.list')) as RunningItem[]
    const server = items.find((i) => i.kind === 'server' && i.id === 'local')!
    const kernel = items.find((i) => i.kind === 'kernel' && i.id === kernelId)!
    expect(server).toBeDefined()
    expect(kernel).toMatchObject({ state: 'idle', stopAt: null })
    const pid = Number(/pid (\d+)/.exec(kernel.detail ?? '')?.[1])
    expect(isAlive(pid)).toBe(true)
    // an IPython kernel holds tens of MiB; the server's own figure leaves its kernels out
    expect(kernel.memoryBytes).toBeGreaterThan(20 * 2 ** 20)
    expect(server.memoryBytes).toBeGreaterThan(20 * 2 ** 20)
    const status = await import('node:fs').then((fs) => fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
    expect(Math.abs(kernel.memoryBytes! - rss)).toBeLessThan(rss * 0.5)
  })

  it('warns before stopping an idle kernel, activity cancels the stop, and later idleness stops it', async () => {
    await core.call('running.policies.set', { policies: [{ kind: 'kernel', idleSeconds: 6, warnSeconds: 3 }] })
    expect((await core.call('running.policies.get')).find((p: any) => p.kind === 'kernel')).toEqual({ kind: 'kernel', idleSeconds: 6, warnSeconds: 3 })
    const pid = Number(/pid (\d+)/.exec((await kernelItem())!.detail ?? '')?.[1])

    // idle past 3 s: a warning with the stop time
    await tickUntil(async () => (await kernelItem())?.stopAt != null, 20_000, 'the idle warning')
    const warning = core.seen.find((e) => e.name === 'running.warning' && e.payload.id === kernelId && e.payload.stopAt)
    expect(warning).toBeDefined()

    // activity before the stop: the warning is withdrawn and the kernel lives on
    await core.run(kernelId, 'x = 41 + 1')
    await tickUntil(async () => (await kernelItem())?.stopAt === null, 5_000, 'the cancelled stop')
    expect(core.seen.some((e) => e.name === 'running.warning' && e.payload.id === kernelId && e.payload.stopAt === null)).toBe(true)
    expect(core.seen.some((e) => e.name === 'running.stopped')).toBe(false)
    const { events } = await core.run(kernelId, 'print(x)')
    expect(events.some((e) => e.msgType === 'stream' && e.content.text === '42\n')).toBe(true)

    // left alone, it is stopped by the policy: gone from Atelier and from the machine
    await tickUntil(async () => (await kernelItem()) === undefined, 30_000, 'the policy stop')
    expect(core.seen.find((e) => e.name === 'running.stopped')?.payload).toMatchObject({ kind: 'kernel', id: kernelId })
    expect((await core.call('kernels.list')).map((k: any) => k.kernelId)).not.toContain(kernelId)
    const deadline = Date.now() + 10_000
    while (isAlive(pid) && Date.now() < deadline) await sleep(100)
    expect(isAlive(pid)).toBe(false)
  }, 90_000)

  it('"stop all idle" stops an idle kernel, and leaves a busy kernel and the server it runs on', async () => {
    await core.call('running.policies.set', { policies: [{ kind: 'kernel', idleSeconds: null, warnSeconds: 0 }] })
    const busy = (await core.call('kernels.start', {})).kernelId
    const idle = (await core.call('kernels.start', {})).kernelId
    await core.call('kernels.execute', { kernelId: busy, cellId: 'c', code: 'import time; time.sleep(30)' })
    // Jupyter says busy once the kernel has taken the request
    await waitState(busy, 'busy')
    await waitState(idle, 'idle')
    const { stopped } = await core.call('running.stopIdle')
    expect(stopped).toContainEqual({ kind: 'kernel', id: idle })
    expect(stopped).not.toContainEqual({ kind: 'kernel', id: busy })
    expect(stopped).not.toContainEqual({ kind: 'server', id: 'local' })
    const left = ((await core.call('running.list')) as RunningItem[]).map((i) => `${i.kind}:${i.id}`)
    expect(left).toContain(`kernel:${busy}`)
    expect(left).not.toContain(`kernel:${idle}`)
    await core.call('running.stop', { kind: 'kernel', id: busy })
    expect(((await core.call('running.list')) as RunningItem[]).some((i) => i.id === busy)).toBe(false)
  }, 60_000)
})
