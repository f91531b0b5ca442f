import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import WebSocket from 'ws'
import type { KernelIopubEvent } from '../../shared/api'
import { createTestCore, type TestCore } from '../testing/core'
import type { RunningServer } from './server'
import { CLOSE_TOO_SLOW, isDroppable } from './backpressure'
import { startTestServer } from '../testing/serve'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let core: TestCore
let server: RunningServer
const TOKEN = 'bp-token'
const MiB = 1024 * 1024

beforeAll(async () => {
  core = await createTestCore()
  server = await startTestServer(core, TOKEN)
})
afterAll(async () => {
  await server?.close()
  await core?.cleanup()
})

function open(): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`)
    ws.on('open', () => res(ws))
    ws.on('error', rej)
  })
}

const pause = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void } })._socket.pause()
const resume = (ws: WebSocket) => (ws as unknown as { _socket: { resume(): void } })._socket.resume()
const tick = () => new Promise((r) => setImmediate(r))
async function until(ok: () => boolean, ms = 30_000) {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function iopub(msgType: KernelIopubEvent['msgType'], bytes: number, n: number): KernelIopubEvent {
  return {
    kernelId: 'k1',
    cellId: 'c1',
    parentMsgId: `m${n}`,
    msgType,
    content: msgType === 'error' ? { ename: 'E', evalue: 'x'.repeat(bytes), traceback: [] } : { data: { 'text/plain': 'x'.repeat(bytes) }, metadata: {} }
  }
}

describe('serve: WebSocket backpressure', () => {
  it('classifies re-fetchable events as droppable and status/errors as essential', () => {
    expect(isDroppable('kernel.iopub', { msgType: 'display_data' })).toBe(true)
    expect(isDroppable('kernel.iopub', { msgType: 'stream' })).toBe(true)
    expect(isDroppable('kernel.iopub', { msgType: 'status' })).toBe(false)
    expect(isDroppable('kernel.iopub', { msgType: 'execute_reply' })).toBe(false)
    expect(isDroppable('kernel.iopub', { msgType: 'error' })).toBe(false)
    expect(isDroppable('kernel.status', {})).toBe(false)
    expect(isDroppable('query.progress', {})).toBe(true)
  })

  it('keeps the server within +300 MiB while a client that stops reading is sent 800 MB of output; replies still arrive', async () => {
    const slow = await open()
    const got: any[] = []
    slow.on('message', (d) => {
      const text = String(d)
      // only the small messages are kept; the big outputs are counted
      got.push(text.length < 10_000 ? JSON.parse(text) : { big: true })
    })
    pause(slow)
    gc()
    const base = process.memoryUsage().rss
    let peak = base
    for (let i = 0; i < 800; i++) {
      core.events.emit('kernel.iopub', iopub('display_data', MiB, i))
      if (i % 10 === 0) {
        await tick()
        peak = Math.max(peak, process.memoryUsage().rss)
      }
      if (i === 400) {
        // a request made while the client is not reading, and an essential event
        slow.send(JSON.stringify({ id: 7, method: 'app.info', params: {} }))
        core.events.emit('kernel.status', { kernelId: 'k1', status: 'idle' } as never)
      }
    }
    await new Promise((r) => setTimeout(r, 200))
    peak = Math.max(peak, process.memoryUsage().rss)
    const growth = (peak - base) / MiB
    console.log(`backpressure: rss base ${Math.round(base / MiB)} MiB, peak +${Math.round(growth)} MiB for 800 MB emitted`)
    expect(growth).toBeLessThan(300)

    resume(slow)
    await new Promise((r) => setTimeout(r, 1000))
    expect(got.find((m) => m.id === 7)?.result?.name).toBe('Atelier')
    expect(got.some((m) => m.event === 'kernel.status')).toBe(true)
    const bigs = got.filter((m) => m.big).length
    expect(bigs).toBeGreaterThan(0)
    expect(bigs).toBeLessThan(100)
    slow.close()
  }, 120_000)

  it('closes a client past the hard cap with a clear code, and the memory goes with it', async () => {
    // the client is another process, so what is measured here is the server's memory alone
    const client = spawn(
      process.execPath,
      [
        '-e',
        `const WebSocket = require(${JSON.stringify(require.resolve('ws'))});
         const ws = new WebSocket(process.argv[1]);
         ws.on('open', () => { ws._socket.pause(); console.log('open') });
         process.stdin.on('data', () => { ws.on('close', (code, reason) => { console.log('closed ' + code + ' ' + reason); process.exit(0) }); ws._socket.resume() });`,
        `ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] }
    )
    const exited = new Promise((r) => client.on('exit', r))
    let out = ''
    client.stdout!.on('data', (d) => (out += d))
    await until(() => out.includes('open'))
    gc()
    const base = process.memoryUsage()
    let peak = base
    for (let i = 0; i < 200; i++) {
      core.events.emit('kernel.iopub', iopub('error', MiB, i))
      if (i % 10 === 0) {
        await tick()
        const m = process.memoryUsage()
        if (m.rss > peak.rss) peak = m
      }
    }
    client.stdin!.write('read\n')
    await until(() => out.includes('closed'))
    expect(out).toContain(`closed ${CLOSE_TOO_SLOW} client too slow`)
    await exited
    await new Promise((r) => setTimeout(r, 1500))
    gc()
    const after = process.memoryUsage()
    const mib = (m: NodeJS.MemoryUsage) => `rss ${Math.round(m.rss / MiB)} heap ${Math.round(m.heapUsed / MiB)} external ${Math.round(m.external / MiB)}`
    console.log(`backpressure: base ${mib(base)}, peak ${mib(peak)}, after the client is gone ${mib(after)} (MiB)`)
    expect((peak.rss - base.rss) / MiB).toBeLessThan(300)
    expect((after.heapUsed + after.external - base.heapUsed - base.external) / MiB).toBeLessThan(32)
  }, 120_000)
})
