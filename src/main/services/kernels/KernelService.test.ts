import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:net'
import { readFileSync } from 'node:fs'
import { createKernelTestCore, findJupyterPython, streamText, type KernelTestCore } from './testing'
import { isAlive } from './processTree'

const python = await findJupyterPython()
if (!python) console.warn('kernel integration tests skipped: no interpreter with jupyter_server (or notebook) and ipykernel was found')

describe.skipIf(!python)('kernels on a real local Jupyter server', () => {
  let core: KernelTestCore
  let kernelId: string
  let disposed = false

  beforeAll(async () => {
    core = await createKernelTestCore({ relay: { capChars: 100_000 }, restartBaseDelayMs: 200 })
    core.kernels.envProviders.push(() => ({ ATELIER_KERNEL_ENV_TEST: 'from-provider' }))
    const server = await core.call('kernels.startLocal', {})
    expect(server).toMatchObject({ id: 'local', kind: 'local', state: 'ready' })
    const k = await core.call('kernels.start', {})
    kernelId = k.kernelId
    expect(k.status).toBe('idle')
    expect(k.language).toBe('python')
  }, 120_000)
  afterAll(async () => {
    if (!disposed) await core?.cleanup()
  })

  it('lists kernelspecs and kernels', async () => {
    const specs = await core.call('kernels.specs', {})
    expect(specs.find((s: any) => s.name === 'python3')).toMatchObject({ language: 'python', isDefault: true })
    expect((await core.call('kernels.list')).map((k: any) => k.kernelId)).toEqual([kernelId])
  })

  it('executes 1+1 → execute_result 2, relayed with the cell id', async () => {
    const { reply, events } = await core.run(kernelId, '1+1', 'cell-a')
    const result = events.find((e) => e.msgType === 'execute_result')!
    expect(result.cellId).toBe('cell-a')
    expect(result.content.data).toMatchObject({ 'text/plain': '2' })
    expect(events.find((e) => e.msgType === 'execute_input')?.content.code).toBe('1+1')
    expect(reply.content.status).toBe('ok')
    expect(events.map((e) => e.msgType)).toContain('status')
  })

  it('relays stream output, display_data image/png (matplotlib Agg) and errors with tracebacks', async () => {
    const s = await core.run(kernelId, "import sys\nprint('hello')\nfor i in range(3): print(i)\nprint('oops', file=sys.stderr)")
    expect(streamText(s.events)).toBe('hello\n0\n1\n2\n')
    expect(streamText(s.events, 'stderr')).toBe('oops\n')
    const png = await core.run(
      kernelId,
      // The inline backend (matplotlib_inline) renders with Agg and sends the figure as display_data.
      "%matplotlib inline\nimport matplotlib.pyplot as plt\nfig = plt.figure(figsize=(2, 1))\nplt.plot([1, 3, 2])\nplt.show()"
    )
    const shown = png.events.find((e) => e.msgType === 'display_data')
    expect(shown, JSON.stringify(png.events.map((e) => [e.msgType, e.content]))).toBeDefined()
    const data = shown!.content.data as Record<string, string>
    expect(Buffer.from(data['image/png'], 'base64').subarray(1, 4).toString()).toBe('PNG')
    const err = await core.run(kernelId, 'def f():\n    return 1/0\nf()')
    const e = err.events.find((x) => x.msgType === 'error')!
    expect(e.content).toMatchObject({ ename: 'ZeroDivisionError', evalue: 'division by zero' })
    expect((e.content.traceback as string[]).join('\n').replace(/\x1b\[[0-9;]*m/g, '')).toContain('f()')
    expect(err.reply.content.status).toBe('error')
  })

  it('coalesces and caps a 200,000-line print; the full text stays available', async () => {
    // right after the error above, ipykernel aborts requests that arrive while it clears its queue
    for (let i = 0; i < 5 && (await core.run(kernelId, 'pass')).reply.content.status !== 'ok'; i++);
    const { msgId, reply, events } = await core.run(kernelId, 'for i in range(200000): print(i)', 'big', 60_000)
    expect(reply.content.status).toBe('ok')
    const streams = events.filter((e) => e.msgType === 'stream')
    const relayed = streamText(events)
    expect(relayed.length).toBeLessThanOrEqual(100_000)
    expect(streams.length).toBeLessThan(400)
    expect(streams.at(-1)?.truncated).toBe(true)
    const total = Array.from({ length: 200_000 }, (_, i) => `${i}\n`).join('')
    expect(reply.stream).toEqual({ totalChars: total.length, relayedChars: relayed.length })
    expect(relayed).toBe(total.slice(0, relayed.length))
    const full = await core.call('kernels.fullOutput', { kernelId, msgId, name: 'stdout', offset: 0, limit: 8_000_000 })
    expect(full).toMatchObject({ totalChars: total.length, done: true })
    expect(full.text).toBe(total)
    const page = await core.call('kernels.fullOutput', { kernelId, msgId, name: 'stdout', offset: total.length - 7, limit: 100 })
    expect(page.text).toBe('199999\n')
  })

  it('answers input() through kernel.input and kernels.inputReply', async () => {
    const { msgId } = await core.call('kernels.execute', { kernelId, cellId: 'ask', code: "name = input('name? ')\nprint('hi', name)" })
    const req = await core.waitFor((e) => e.name === 'kernel.input' && e.payload.parentMsgId === msgId, 20_000, 'input_request')
    expect(req).toMatchObject({ prompt: 'name? ', password: false, cellId: 'ask', kernelId })
    await core.call('kernels.inputReply', { kernelId, value: 'Ada' })
    await core.waitFor((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId && e.payload.msgType === 'execute_reply')
    expect(core.seen.filter((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId && e.payload.msgType === 'stream').map((e) => e.payload.content.text).join('')).toContain('hi Ada')
    await expect(core.call('kernels.inputReply', { kernelId, value: 'x' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('completes and inspects', async () => {
    const c = await core.call('kernels.complete', { kernelId, code: 'import os\nos.pa', cursorPos: 15 })
    expect(c.matches.some((m: string) => m.endsWith('path'))).toBe(true)
    const i = await core.call('kernels.inspect', { kernelId, code: 'len', cursorPos: 3 })
    expect(i.found).toBe(true)
    expect(String(i.data['text/plain'])).toMatch(/len/)
  })

  it('lists variables (df with shape 2×1, marked dataframe) without bumping the execution count', async () => {
    const before = await core.run(kernelId, "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\nn = 3\ns = 'text'")
    const count = before.reply.content.execution_count as number
    const vars = await core.call('kernels.variables', { kernelId })
    const df = vars.find((v: any) => v.name === 'df')
    expect(df).toMatchObject({ kind: 'dataframe', shape: [2, 1], type: 'pandas.core.frame.DataFrame', columns: [{ name: 'a', dtype: 'int64' }] })
    expect(vars.find((v: any) => v.name === 'n')).toMatchObject({ type: 'int', kind: 'other', preview: '3' })
    expect(vars.find((v: any) => v.name === 's')).toMatchObject({ type: 'str', size: 4 })
    expect(vars.some((v: any) => v.name === 'pd' || v.name.startsWith('_'))).toBe(false)
    const after = await core.run(kernelId, '1')
    expect(after.reply.content.execution_count).toBe(count + 1)
    const again = await core.run(kernelId, "'AtelierVars' in dir() or 'out' in dir()")
    expect(again.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': 'False' })
  })

  it('interrupts time.sleep(100) with KeyboardInterrupt within seconds', async () => {
    const { msgId } = await core.call('kernels.execute', { kernelId, cellId: 'sleep', code: 'import time\ntime.sleep(100)' })
    await core.waitFor((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId && e.payload.msgType === 'execute_input')
    await new Promise((r) => setTimeout(r, 300))
    const t = Date.now()
    await core.call('kernels.interrupt', { kernelId })
    const err = await core.waitFor((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId && e.payload.msgType === 'error', 10_000, 'KeyboardInterrupt')
    expect(err.content.ename).toBe('KeyboardInterrupt')
    expect(Date.now() - t).toBeLessThan(5000)
  })

  it('restarts: state is gone, the kernel id stays', async () => {
    await core.run(kernelId, 'zz = 41')
    const t0 = Date.now()
    const info = await core.call('kernels.restart', { kernelId })
    // back and connected; Jupyter's server keeps nudging a new kernel with kernel_info requests for a
    // moment, and their busy/idle reach every client, so either may be the status at this instant
    expect(info).toMatchObject({ kernelId, connection: 'connected' })
    expect(['idle', 'busy']).toContain(info.status)
    const r = await core.run(kernelId, 'zz')
    expect(r.events.find((e) => e.msgType === 'error')?.content.ename).toBe('NameError')
    const statuses = core.seen.filter((e) => e.at >= t0 && e.name === 'kernel.status' && e.payload.kernelId === kernelId).map((e) => e.payload.status)
    expect(statuses).not.toContain('dead')
    expect(statuses).toContain('restarting')
  })

  it('reports a kernel that dies (os._exit) as dead with the lost execution, and restart works', async () => {
    const t0 = Date.now()
    const { msgId } = await core.call('kernels.execute', { kernelId, cellId: 'die', code: 'import os\nos._exit(1)' })
    const dead = await core.waitFor((e) => e.at >= t0 && e.name === 'kernel.status' && e.payload.kernelId === kernelId && e.payload.status === 'dead', 30_000, 'dead')
    expect(dead.lost).toEqual([{ msgId, cellId: 'die' }])
    expect(dead.reason).toMatch(/died/)
    await core.call('kernels.restart', { kernelId })
    const r = await core.run(kernelId, '1+1')
    expect(r.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '2' })
  })

  it('connects to a server by URL + token (token in the secret store, not SQLite); wrong token or no server fail fast', async () => {
    const ep = core.kernels.servers.endpointOf('local')!
    let t = Date.now()
    const wrong = await core.call('kernels.connect', { baseUrl: ep.baseUrl, token: 'not-the-token' }).catch((e) => e)
    expect(wrong.code).toBe('JUPYTER_AUTH')
    expect(Date.now() - t).toBeLessThan(5000)
    t = Date.now()
    const closed = await core.call('kernels.connect', { baseUrl: 'http://127.0.0.1:9/', token: 'x' }).catch((e) => e)
    expect(closed.code).toBe('JUPYTER_UNAVAILABLE')
    expect(closed.message).toMatch(/127\.0\.0\.1:9/)
    expect(Date.now() - t).toBeLessThan(5000)
    const silent: Server = createServer(() => {}) // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
    t = Date.now()
    const hung = await core.call('kernels.connect', { baseUrl: `http://127.0.0.1:${(silent.address() as any).port}/`, token: 'x' }).catch((e) => e)
    expect(hung.code).toBe('JUPYTER_UNAVAILABLE')
    expect(Date.now() - t).toBeLessThan(5000)
    silent.close()
    const remote = await core.call('kernels.connect', { baseUrl: ep.baseUrl, token: ep.token, name: 'same server, as remote' })
    expect(remote).toMatchObject({ kind: 'remote', state: 'ready' })
    const k = await core.call('kernels.start', { serverId: remote.id })
    const r = await core.run(k.kernelId, '6*7')
    expect(r.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '42' })
    await core.call('kernels.shutdown', { kernelId: k.kernelId })
    const dbText = core.db.prepare("SELECT group_concat(value) v FROM settings").get() as { v: string }
    expect(dbText.v).not.toContain(ep.token)
    expect(core.secrets.get(`kernels.server.${remote.id}.token`)).toBe(ep.token)
    expect((await core.call('kernels.servers')).map((s: any) => s.id)).toContain(remote.id)
    await core.call('kernels.disconnect', { serverId: remote.id, forget: true })
    expect(core.secrets.get(`kernels.server.${remote.id}.token`)).toBeUndefined()
  })

  it('reconnects a dropped kernel WebSocket without losing the session', async () => {
    await core.run(kernelId, 'kept = 123')
    const t0 = Date.now()
    const conn = (core.kernels.kernels as any).kernels.get(kernelId).conn
    conn._ws.close() // what a network blip does to the socket
    await core.waitFor((e) => e.at >= t0 && e.name === 'kernel.status' && e.payload.kernelId === kernelId && e.payload.connection === 'connecting', 5000, 'connecting')
    await core.waitFor((e) => e.at >= t0 && e.name === 'kernel.status' && e.payload.kernelId === kernelId && e.payload.connection === 'connected', 15_000, 'connected')
    const r = await core.run(kernelId, 'kept + 1')
    expect(r.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '124' })
  })

  it('detects a killed Jupyter server, restarts it, tells the kernels were lost, and works again', async () => {
    const before = core.kernels.servers.localManager!.pid!
    process.kill(before, 'SIGKILL')
    const lost = await core.waitFor((e) => e.name === 'kernel.server' && e.payload.state === 'lost', 10_000, 'server lost')
    expect(lost.lostKernelIds).toContain(kernelId)
    await core.waitFor((e) => e.name === 'kernel.status' && e.payload.kernelId === kernelId && e.payload.status === 'dead' && /exited/.test(e.payload.reason ?? ''), 5000)
    await core.waitFor((e) => e.name === 'kernel.server' && e.payload.state === 'ready' && e.payload.message, 60_000, 'server ready again')
    expect(core.kernels.servers.localManager!.pid).not.toBe(before)
    await expect(core.call('kernels.execute', { kernelId, cellId: 'x', code: '1' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const k = await core.call('kernels.start', {})
    kernelId = k.kernelId
    const r = await core.run(kernelId, '1+1')
    expect(r.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '2' })
  }, 90_000)

  it('dispose stops the server and its kernels: no orphan process', async () => {
    const r = await core.run(kernelId, 'import os\nprint(os.getpid())')
    const kernelPid = Number(streamText(r.events).trim())
    const serverPid = core.kernels.servers.localManager!.pid!
    expect(isAlive(kernelPid) && isAlive(serverPid)).toBe(true)
    expect(readFileSync(`/proc/${kernelPid}/environ`, 'utf8')).toContain('ATELIER_KERNEL_ENV_TEST=from-provider')
    disposed = true
    await core.cleanup()
    expect(isAlive(serverPid)).toBe(false)
    expect(isAlive(kernelPid)).toBe(false)
  })
})

