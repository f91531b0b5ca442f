import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createTestCore, FLIGHTS, type TestCore } from '../testing/core'
import type { RunningServer } from './server'
import { startTestServer } from '../testing/serve'
import { packReply, unpackReply } from '../../shared/binaryFrame'
import { decodeArrowPage } from '../../shared/arrowPage'
import { seriesFromArrow } from '../../shared/arrowSeries'

let core: TestCore
let server: RunningServer
const TOKEN = 'arrow-token'

beforeAll(async () => {
  core = await createTestCore()
  server = await startTestServer(core, TOKEN)
  await core.router.dispatch('lake.sources.add', { kind: 'file', location: FLIGHTS, name: 'flights' })
})
afterAll(async () => {
  await server?.close()
  await core?.cleanup()
})

/** Calls over the WebSocket; says whether the reply came as a binary frame. */
function rpc(ws: WebSocket, id: number, method: string, params: unknown): Promise<{ binary: boolean; msg: any }> {
  return new Promise((res) => {
    const onMsg = (data: WebSocket.RawData, isBinary: boolean) => {
      const msg = isBinary ? unpackReply(data as Buffer) : JSON.parse(String(data))
      if (msg.id !== id) return
      ws.off('message', onMsg)
      res({ binary: isBinary, msg })
    }
    ws.on('message', onMsg)
    ws.send(JSON.stringify({ id, method, params }))
  })
}

const rows = (page: { rowCount: number; columns: { get(i: number): unknown }[] }) =>
  page.columns.map((c) => Array.from({ length: page.rowCount }, (_, i) => c.get(i)))

describe('serve: result pages as Arrow in binary WebSocket frames', () => {
  it('packs and unpacks a reply with nested bytes, aligned, other fields untouched', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5])
    const frame = packReply(7, { a: 1, first: { arrow: bytes, offset: 3 }, list: [1, 2] })!
    const out = unpackReply(frame.slice().buffer) as { id: number; result: any }
    expect(out.id).toBe(7)
    expect(out.result.a).toBe(1)
    expect(out.result.list).toEqual([1, 2])
    expect(out.result.first.offset).toBe(3)
    expect(Array.from(out.result.first.arrow)).toEqual([1, 2, 3, 4, 5])
    expect(out.result.first.arrow.byteOffset % 8).toBe(0)
    expect(packReply(1, { columns: [[1]] })).toBeNull()
  })

  it('answers format arrow with a binary frame whose rows equal the JSON reply, for the first page and later pages', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`)
    await new Promise((r) => ws.on('open', r))
    const sql = 'select origin, destination, delay, distance, date from flights order by all limit 5000'
    const j = await rpc(ws, 1, 'lake.query', { queryId: 'j', sql, pageSize: 1000 })
    const a = await rpc(ws, 2, 'lake.query', { queryId: 'a', sql, pageSize: 1000, format: 'arrow' })
    expect(j.binary).toBe(false)
    expect(a.binary).toBe(true)
    expect(a.msg.result.first.columns).toEqual([])
    expect(a.msg.result.columns).toEqual(j.msg.result.columns)
    const first = decodeArrowPage(a.msg.result.first.arrow)
    expect(first.rowCount).toBe(1000)
    expect(rows(first)).toEqual(j.msg.result.first.columns)

    const jp = await rpc(ws, 3, 'lake.page', { queryId: 'j', offset: 3000, limit: 1500 })
    const ap = await rpc(ws, 4, 'lake.page', { queryId: 'a', offset: 3000, limit: 1500, format: 'arrow' })
    expect(ap.binary).toBe(true)
    expect(ap.msg.result.totalRows).toBe(5000)
    const page = decodeArrowPage(ap.msg.result.arrow)
    expect(page.rowCount).toBe(1500)
    expect(rows(page)).toEqual(jp.msg.result.columns)
    ws.close()
  })

  it('sends a finished query’s reply before its final progress event, and records its History row after', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`)
    await new Promise((r) => ws.on('open', r))
    const order: string[] = []
    const done = new Promise<void>((res) =>
      ws.on('message', (data, isBinary) => {
        const msg = isBinary ? unpackReply(data as Buffer) : JSON.parse(String(data))
        if (msg.id === 9) order.push('reply')
        if (msg.event === 'query.progress' && msg.payload.queryId === 'order') {
          order.push(`progress:${msg.payload.phase}`)
          if (msg.payload.phase === 'done') res()
        }
      })
    )
    const sql = 'select origin, count(*) n from flights group by 1 order by n desc'
    ws.send(JSON.stringify({ id: 9, method: 'lake.query', params: { queryId: 'order', sql, pageSize: 1000, format: 'arrow' } }))
    await done
    // progress events of a long run may come first; the last one comes after the reply
    expect(order.slice(-2)).toEqual(['reply', 'progress:done'])
    const history = (await core.router.dispatch('lake.history', { limit: 5 })) as { sql: string }[]
    expect(history.some((h) => h.sql === sql)).toBe(true)
    ws.close()
  })

  it('sends metric series as Arrow in a binary frame that reads back to the JSON reply, and JSON to POST /api/rpc', async () => {
    const mlflow = async (endpoint: string, body: unknown) => {
      const r = await fetch(`http://127.0.0.1:${server.port}/api/2.0/mlflow/${endpoint}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
      expect(r.status).toBe(200)
      return r.json()
    }
    const exp = (await mlflow('experiments/create', { name: 'arrow-series' })).experiment_id
    const runId = (await mlflow('runs/create', { experiment_id: exp, start_time: 1 })).run.info.run_id
    const metrics = Array.from({ length: 3000 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 1_700_000_000_000 + i, step: i }))
    metrics.push({ key: 'loss', value: 'NaN' as unknown as number, timestamp: 1_700_000_003_000, step: 3000 })
    metrics.push({ key: 'loss', value: 'Infinity' as unknown as number, timestamp: 1_700_000_003_001, step: 2 ** 40 })
    for (let i = 0; i < metrics.length; i += 1000) await mlflow('runs/log-batch', { run_id: runId, metrics: metrics.slice(i, i + 1000) })

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`)
    await new Promise((r) => ws.on('open', r))
    for (const [n, req] of [
      [10, { runId, key: 'loss', raw: true }],
      [20, { runId, key: 'loss', maxPoints: 500 }]
    ] as const) {
      const j = await rpc(ws, n, 'tracking.metrics.history', req)
      const a = await rpc(ws, n + 1, 'tracking.metrics.history', { ...req, format: 'arrow' })
      expect(j.binary).toBe(false)
      expect(a.binary).toBe(true)
      expect(a.msg.result.steps).toEqual([])
      expect(a.msg.result.arrow).toBeInstanceOf(Uint8Array)
      expect(seriesFromArrow(a.msg.result)).toEqual(j.msg.result)
    }
    const raw = seriesFromArrow((await rpc(ws, 30, 'tracking.metrics.history', { runId, key: 'loss', raw: true, format: 'arrow' })).msg.result)
    expect(raw.steps).toHaveLength(3002)
    expect(raw.values.slice(-2)).toEqual([null, null])
    expect(raw.steps.at(-1)).toBe(2 ** 40)
    expect(raw.values[1]).toBe(0.5)
    ws.close()

    const r = await fetch(`http://127.0.0.1:${server.port}/api/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'tracking.metrics.history', params: { runId, key: 'loss', maxPoints: 500, format: 'arrow' } })
    })
    const body = await r.json()
    expect(body.result.arrow).toBeUndefined()
    expect(body.result.steps.length).toBeGreaterThan(400)
  })

  it('keeps JSON for POST /api/rpc even when a script asks for arrow', async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/api/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'lake.query', params: { queryId: 'r', sql: 'select 42 as x', format: 'arrow' } })
    })
    const body = await r.json()
    expect(body.result.first.columns).toEqual([[42]])
    expect(body.result.first.arrow).toBeUndefined()
  })
})
