import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { TrackingHttpServer } from '../tracking/TrackingHttpServer'
import { descendants, isAlive } from './processTree'
import { ServerRecordFile } from './serverRecord'
import { createKernelTestCore, findJupyterPython, streamText, type KernelTestCore } from './testing'

const python = await findJupyterPython()
if (!python) console.warn('quit tests skipped: no interpreter with jupyter_server (or notebook) and ipykernel was found')

/** Runs `code` until its stdout is `want` (an update sent in the background may land after a first try), or gives the last output. */
async function stdoutUntil(core: KernelTestCore, kernelId: string, code: string, want: string, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms
  let out = ''
  for (let i = 0; ; i++) {
    out = streamText((await core.run(kernelId, code, `probe-${i}`)).events).trim()
    if (out === want || Date.now() > deadline) return out
    await new Promise((r) => setTimeout(r, 300))
  }
}

const ENV = "import os\nprint(os.environ.get('MLFLOW_TRACKING_URI'), os.environ.get('MLFLOW_TRACKING_TOKEN'))"

describe.skipIf(!python)('quitting the desktop app with live kernels', () => {
  let root: string | null = null
  const cores: KernelTestCore[] = []
  const doors: TrackingHttpServer[] = []
  afterAll(async () => {
    for (const d of doors) await d.close().catch(() => {})
    for (const c of cores) await c.kernels.servers.disconnect('local').catch(() => {})
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('keep: the server and kernel outlive dispose, the next start adopts them (x still defined) and gives them its tracking address; stop: no Jupyter process is left', async () => {
    const first = await createKernelTestCore({ watchMs: 200 })
    cores.push(first)
    root = first.root
    const doorA = await TrackingHttpServer.start({ tracking: first.tracking, log: silentLogger })
    doors.push(doorA)
    const server = await first.call('kernels.startLocal', {})
    const notebook = join(first.workspaceDir, 'train.ipynb')
    const k = await first.call('kernels.start', { path: notebook })
    const r0 = await first.run(k.kernelId, `x = 41\n${ENV}`, 'c1')
    expect(streamText(r0.events).trim()).toBe(`${doorA.url} ${doorA.token}`)

    // the desktop default (stop with the app) with a live kernel: the user is asked
    const asked = first.kernels.quitDecision()
    expect(asked.action).toBe('ask')
    if (asked.action !== 'ask') return
    expect(asked.question.message).toBe('Keep 1 kernel running?')
    expect(asked.question.detail.split('\n')[0]).toBe('• train.ipynb (idle)')
    first.kernels.setExitChoice('keep')
    await doorA.close()
    await first.dispose()
    expect(isAlive(server.pid)).toBe(true)
    const recordFile = join(first.root, 'data', 'jupyter', 'server.json')
    expect(new ServerRecordFile(recordFile).read()).toMatchObject({ pid: server.pid, lifetime: 'keep-running' })

    // the next start: another tracking door (new port and token); the adopted kernel follows it
    const second = await createKernelTestCore({ watchMs: 200 }, first.root)
    cores.push(second)
    const doorB = await TrackingHttpServer.start({ tracking: second.tracking, log: silentLogger })
    doors.push(doorB)
    expect(doorB.token).not.toBe(doorA.token)
    expect(second.kernels.servers.localManager!.pid).toBe(server.pid)
    expect((await second.call('kernels.list', {})).map((x: any) => x.kernelId)).toEqual([k.kernelId])
    expect(await stdoutUntil(second, k.kernelId, ENV, `${doorB.url} ${doorB.token}`)).toBe(`${doorB.url} ${doorB.token}`)
    const r1 = await second.run(k.kernelId, 'x + 1', 'c2')
    expect(r1.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '42' })
    // the update is silent: no output reached any cell but the ones run here, and no history entry
    const hist = await second.run(k.kernelId, "needle = 'environ' + '.update'\nprint(any(needle in h for _, _, h in get_ipython().history_manager.get_range()))", 'c3')
    expect(streamText(hist.events).trim()).toBe('False')

    // the shipped tracking client logs from the kernel into this run's store
    const logged = await second.run(
      k.kernelId,
      "import atelier.tracking as at\nwith at.start_run(experiment_name='moved', run_name='after-restart') as run:\n    at.log_metric('loss', 0.25, step=3)\nprint(run.run_id)",
      'c4'
    )
    const runId = streamText(logged.events).trim()
    expect(runId).toMatch(/^\w+$/)
    const run = await second.tracking.getRun(runId)
    expect(run.runName).toBe('after-restart')
    expect(run.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 0.25, step: 3 })])

    // a new kernel on the adopted server (which has the old environment), and a restarted one, get it too
    const k2 = await second.call('kernels.start', { path: join(second.workspaceDir, 'eda.ipynb') })
    expect(streamText((await second.run(k2.kernelId, ENV, 'd1')).events).trim()).toBe(`${doorB.url} ${doorB.token}`)
    await second.call('kernels.restart', { kernelId: k.kernelId })
    expect(streamText((await second.run(k.kernelId, ENV, 'c5')).events).trim()).toBe(`${doorB.url} ${doorB.token}`)

    // quit again, still stop-with-app: asked about both kernels; stop, and remember it
    const again = second.kernels.quitDecision()
    expect(again.action === 'ask' && again.question.message).toBe('Keep 2 kernels running?')
    const tree = descendants(server.pid)
    expect(tree.length).toBeGreaterThanOrEqual(2)
    second.kernels.setExitChoice('stop', true)
    await doorB.close()
    await second.dispose()
    expect(isAlive(server.pid)).toBe(false)
    expect(tree.filter(isAlive)).toEqual([])
    expect(existsSync(recordFile)).toBe(false)

    // remembered: the next quit with a live kernel stops it without asking
    const third = await createKernelTestCore({ watchMs: 200 }, first.root)
    cores.push(third)
    expect(third.kernels.servers.lifetime().lifetime).toBe('stop-with-app')
    expect(third.kernels.servers.askOnQuit()).toBe(false)
    await third.call('kernels.start', { path: notebook })
    expect(third.kernels.quitDecision()).toEqual({ action: 'stop' })
    const pid = third.kernels.servers.localManager!.pid!
    await third.dispose()
    expect(isAlive(pid)).toBe(false)
  }, 180_000)
})
