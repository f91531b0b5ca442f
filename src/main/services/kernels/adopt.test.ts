import { afterAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { isAlive } from './processTree'
import { procStartTime, ServerRecordFile } from './serverRecord'
import { ServerRegistry } from './ServerRegistry'
import { createKernelTestCore, findJupyterPython, streamText, type KernelTestCore } from './testing'

const python = await findJupyterPython()
if (!python) console.warn('adoption tests skipped: no interpreter with jupyter_server (or notebook) and ipykernel was found')

/**
 * What a kill -9 of the app leaves, done in-process: the kernel sockets drop without any shutdown,
 * the server is neither stopped nor told, nothing is flushed; the rest of the core is closed so the
 * test does not leak it.
 */
async function crash(core: KernelTestCore) {
  const ks = (core.kernels.kernels as any).kernels as Map<string, any>
  for (const k of ks.values()) {
    k.relay.onRecord = null
    k.conn.dispose()
  }
  ks.clear()
  const state = (core.kernels.kernels as any).state
  state.flush = () => {}
  clearTimeout(state.timer)
  const servers = core.kernels.servers as any
  servers.local.release()
  servers.local = null
  await core.jobs.dispose()
  core.tracking.dispose()
  await core.lake.dispose()
}

describe.skipIf(!python)('the local Jupyter server outlives a killed app and is adopted', () => {
  let root: string | null = null
  const cores: KernelTestCore[] = []
  afterAll(async () => {
    for (const c of cores) await c.kernels.servers.disconnect('local').catch(() => {})
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('kill -9 of the app mid-run: the next start adopts the same server, lists the kernel, x + 1 is 42, and the outputs printed meanwhile reach the cell', async () => {
    const first = await createKernelTestCore({ watchMs: 200 })
    cores.push(first)
    root = first.root
    await first.call('kernels.setLifetime', { lifetime: 'keep-running', idleHours: 1 })
    const server = await first.call('kernels.startLocal', {})
    mkdirSync(join(first.workspaceDir, 'sub'))
    const notebook = join(first.workspaceDir, 'sub', 'nb.ipynb')
    const k = await first.call('kernels.start', { path: notebook })
    expect(k.folder).toBe('sub')
    await first.run(k.kernelId, 'x = 41\nimport os\nprint(os.getcwd())', 'c1')
    const cwd = streamText(first.seen.filter((e) => e.name === 'kernel.iopub' && e.payload.cellId === 'c1').map((e) => e.payload))
    expect(cwd.trim().endsWith(join('ws', 'sub'))).toBe(true)
    // the record: 0600, the token not in it (it is in the secret store)
    const recordFile = join(first.root, 'data', 'jupyter', 'server.json')
    expect(statSync(recordFile).mode & 0o777).toBe(0o600)
    const record = new ServerRecordFile(recordFile).read()!
    expect(record).toMatchObject({ pid: server.pid, lifetime: 'keep-running' })
    expect(JSON.stringify(record)).not.toContain(first.kernels.servers.endpointOf('local')!.token)
    // a second start for the same notebook gives the same kernel
    expect((await first.call('kernels.start', { path: notebook })).kernelId).toBe(k.kernelId)

    const { msgId } = await first.call('kernels.execute', {
      kernelId: k.kernelId,
      cellId: 'loop',
      code: 'import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.6)\n"end"'
    })
    await first.waitFor((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId && e.payload.msgType === 'stream' && /1/.test(e.payload.content.text), 20_000, 'print 1')
    await new Promise((r) => setTimeout(r, 350)) // the state file is written within 250 ms
    await crash(first)
    expect(isAlive(server.pid)).toBe(true)

    const second = await createKernelTestCore({ watchMs: 200 }, first.root)
    cores.push(second)
    const local = (await second.call('kernels.servers', {})).find((s: any) => s.id === 'local')
    expect(local).toMatchObject({ state: 'ready', pid: server.pid })
    expect((await second.call('kernels.list', {})).map((x: any) => x.kernelId)).toEqual([k.kernelId])
    const again = await second.call('kernels.forNotebook', { path: notebook })
    expect(again.kernel).toMatchObject({ kernelId: k.kernelId, path: notebook })
    // the running cell: its earlier prints from the recorded state, the rest replayed and live
    const deadline = Date.now() + 20_000
    let cell: any
    for (;;) {
      cell = (await second.call('kernels.forNotebook', { path: notebook })).cells.find((c: any) => c.cellId === 'loop')
      if (cell?.done || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(cell.done).toBe(true)
    const text = cell.events.filter((e: any) => e.msgType === 'stream').map((e: any) => e.content.text).join('')
    expect(text).toBe('0\n1\n2\n3\n4\n5\n')
    expect(cell.events.find((e: any) => e.msgType === 'execute_result')?.content.data['text/plain']).toBe("'end'")
    expect(cell.events.at(-1).msgType).toBe('execute_reply')
    const r = await second.run(k.kernelId, 'x + 1', 'c2')
    expect(r.events.find((e) => e.msgType === 'execute_result')?.content.data).toMatchObject({ 'text/plain': '42' })
    // a notebook reopened while a cell waits for input() shows the prompt again
    const ask = await second.call('kernels.execute', { kernelId: k.kernelId, cellId: 'ask', code: "name = input('name? ')\nprint('hi', name)" })
    await second.waitFor((e) => e.name === 'kernel.input' && e.payload.parentMsgId === ask.msgId, 20_000, 'input_request')
    expect((await second.call('kernels.forNotebook', { path: notebook })).input).toEqual({ cellId: 'ask', prompt: 'name? ', password: false })
    await second.call('kernels.inputReply', { kernelId: k.kernelId, value: 'Ada' })
    await second.waitFor((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === ask.msgId && e.payload.msgType === 'execute_reply')
    expect((await second.call('kernels.forNotebook', { path: notebook })).input).toBeNull()
    // no second server was started
    expect(second.kernels.servers.localManager!.pid).toBe(server.pid)

    // a cell that finished just before a kill -9, whose end was not written yet: Jupyter has nothing
    // to replay (it was delivered), so the next start stops showing it as running and says so
    await second.run(k.kernelId, "print('quick')", 'quick')
    await new Promise((r) => setTimeout(r, 350))
    const stateFile = join(first.root, 'data', 'jupyter', 'kernels.json')
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'))
    const quick = saved.kernels[k.kernelId].cells.find((c: any) => c.cellId === 'quick')
    quick.done = false
    quick.events = quick.events.filter((e: any) => e.msgType !== 'execute_reply')
    await crash(second)
    writeFileSync(stateFile, JSON.stringify(saved))
    const third = await createKernelTestCore({ watchMs: 200 }, first.root)
    cores.push(third)
    await third.waitFor((e) => e.name === 'kernel.status' && e.payload.lost?.some((l: any) => l.cellId === 'quick'), 20_000, 'the stale execution reported')
    const after = await third.call('kernels.forNotebook', { path: notebook })
    expect(after.cells.find((c: any) => c.cellId === 'quick')).toMatchObject({ done: true })
    expect(after.lostNotice).toMatch(/end of the output of a cell was lost/)
    await third.kernels.servers.disconnect('local')
    expect(isAlive(server.pid)).toBe(false)
    expect(existsSync(recordFile)).toBe(false)
  }, 120_000)
})

describe('a recorded server that is dead or does not answer', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
  const registry = (dataDir: string, secrets = new Map<string, string>()) =>
    new ServerRegistry({
      interpreters: {} as any,
      workspace: { path: null },
      store: { get: () => undefined, set: () => {} },
      secrets: { get: (k) => secrets.get(k), set: (k, v) => void secrets.set(k, v), delete: (k) => void secrets.delete(k) },
      envProviders: [],
      log: silentLogger,
      onServer: () => {},
      dataDir,
      connectTimeoutMs: 1000
    })

  it('forgets a dead one (record and token)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atelier-record-'))
    dirs.push(dataDir)
    const p = spawn('/bin/true')
    await new Promise((r) => p.once('exit', r))
    const file = new ServerRecordFile(join(dataDir, 'jupyter', 'server.json'))
    file.write({ pid: p.pid!, procStart: null, port: 9, baseUrl: 'http://127.0.0.1:9/', python: '/usr/bin/python3', rootDir: dataDir, lifetime: 'keep-running', startedAt: '' })
    const secrets = new Map([['kernels.local.token', 't']])
    expect(await registry(dataDir, secrets).adoptLocal()).toBe('dead')
    expect(file.read()).toBeNull()
    expect(secrets.has('kernels.local.token')).toBe(false)
  })

  it('kills a live one that does not answer, with its process group', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atelier-record-'))
    dirs.push(dataDir)
    // a leader and a child in its own group, standing in for a hung server and a process it started
    const script = join(dataDir, 'hung.sh')
    writeFileSync(script, '#!/bin/sh\nsleep 60 &\necho $! > "$1"\nwait\n', { mode: 0o700 })
    const leader = spawn(script, [join(dataDir, 'child.pid')], { detached: true, stdio: 'ignore' })
    let childPid = 0
    for (let i = 0; i < 50 && !childPid; i++) {
      await new Promise((r) => setTimeout(r, 50))
      try {
        childPid = Number((await import('node:fs')).readFileSync(join(dataDir, 'child.pid'), 'utf8'))
      } catch {
        /* not yet */
      }
    }
    expect(childPid).toBeGreaterThan(0)
    const file = new ServerRecordFile(join(dataDir, 'jupyter', 'server.json'))
    file.write({ pid: leader.pid!, procStart: procStartTime(leader.pid!), port: 9, baseUrl: 'http://127.0.0.1:9/', python: '/usr/bin/python3', rootDir: dataDir, lifetime: 'keep-running', startedAt: '' })
    expect(await registry(dataDir, new Map([['kernels.local.token', 't']])).adoptLocal()).toBe('killed')
    await new Promise((r) => setTimeout(r, 100))
    expect(isAlive(leader.pid!)).toBe(false)
    expect(isAlive(childPid)).toBe(false)
    expect(file.read()).toBeNull()
  })

  it('leaves a reused pid alone (the recorded start time differs)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atelier-record-'))
    dirs.push(dataDir)
    const file = new ServerRecordFile(join(dataDir, 'jupyter', 'server.json'))
    file.write({ pid: process.pid, procStart: '1', port: 9, baseUrl: 'http://127.0.0.1:9/', python: '/usr/bin/python3', rootDir: dataDir, lifetime: 'keep-running', startedAt: '' })
    expect(await registry(dataDir).adoptLocal()).toBe('dead')
    expect(isAlive(process.pid)).toBe(true)
  })
})
