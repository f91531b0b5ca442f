/**
 * The tracking store through the real core: the `tracking.*` contract methods, the REST API mounted
 * in `serve` behind its token, and live `tracking.changed` events on the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createTestCore, type TestCore } from '../../testing/core'
import type { RunningServer } from '../../serve/server'
import { startTestServer } from '../../testing/serve'

let core: TestCore
let server: RunningServer
let base: string
const TOKEN = 'tracking-token-1'

beforeAll(async () => {
  core = await createTestCore()
  server = await startTestServer(core, TOKEN)
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server?.close()
  await core?.cleanup()
})

async function mlflow(method: 'GET' | 'POST', endpoint: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}/api/2.0/mlflow/${endpoint}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const json = await r.json()
  if (r.status !== 200) throw new Error(`${endpoint}: ${r.status} ${JSON.stringify(json)}`)
  return json
}

describe('tracking in serve', () => {
  it('serves the MLflow API behind the serve token and tells scripts where it is', async () => {
    const none = await fetch(`${base}/api/2.0/mlflow/experiments/get?experiment_id=0`)
    expect(none.status).toBe(401)
    expect((await none.json()).error_code).toBe('UNAUTHENTICATED')
    expect((await fetch(`${base}/api/2.0/mlflow/experiments/get?experiment_id=0`, { headers: { Authorization: 'Bearer x' } })).status).toBe(403)
    expect((await mlflow('GET', 'experiments/get?experiment_id=0')).experiment.name).toBe('Default')
    // the rest of /api is as before
    expect((await fetch(`${base}/api/health`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
    expect((await fetch(`${base}/api/other`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404)

    // scripts get a tracking-only token, never the serve token
    const env = core.tracking.trackingEnv()
    expect(env).toEqual({ MLFLOW_TRACKING_URI: base, MLFLOW_TRACKING_TOKEN: expect.stringMatching(/^atl_/) })
    expect(env.MLFLOW_TRACKING_TOKEN).not.toBe(TOKEN)
    expect(await core.router.dispatch('tracking.connection', {})).toEqual({ uri: base, env })
  })

  it('answers the contract methods from what scripts logged', async () => {
    const exp = (await mlflow('POST', 'experiments/create', { name: 'ui' })).experiment_id
    const runs: string[] = []
    for (let r = 0; r < 3; r++) {
      const run = (await mlflow('POST', 'runs/create', { experiment_id: exp, run_name: `run-${r}`, start_time: 1000 + r })).run
      runs.push(run.info.run_id)
      for (let b = 0; b < 10; b++) {
        const metrics = Array.from({ length: 1000 }, (_, i) => {
          const step = b * 1000 + i
          return { key: 'loss', value: step === 4321 && r === 0 ? 99 : Math.exp(-step / 3000) + r, timestamp: 1_000_000 + step, step }
        })
        await mlflow('POST', 'runs/log-batch', { run_id: run.info.run_id, metrics })
      }
      await mlflow('POST', 'runs/log-parameter', { run_id: run.info.run_id, key: 'model', value: r ? 'rf' : 'xgb' })
      await mlflow('POST', 'runs/log-metric', { run_id: run.info.run_id, key: 'acc', value: 0.8 + r / 10, timestamp: 5, step: 0 })
    }
    await mlflow('POST', 'runs/log-metric', { run_id: runs[0], key: 'odd', value: 'NaN', timestamp: 5 })

    const exps = await core.router.dispatch('tracking.experiments.list', {})
    expect(exps).toContainEqual(expect.objectContaining({ experimentId: exp, name: 'ui', runCount: 3, lifecycleStage: 'active' }))
    expect(exps).toContainEqual(expect.objectContaining({ experimentId: '0', name: 'Default' }))

    const page: any = await core.router.dispatch('tracking.runs.search', {
      experimentIds: [exp],
      filter: "metrics.acc > 0.85 and params.model = 'rf'",
      orderBy: ['metrics.acc DESC']
    })
    expect(page.runs.map((r: any) => r.runName)).toEqual(['run-2', 'run-1'])
    expect(page.nextPageToken).toBeNull()
    expect(page.runs[0]).toMatchObject({ runId: runs[2], experimentId: exp, status: 'RUNNING', params: { model: 'rf' }, tags: { 'mlflow.runName': 'run-2' } })
    expect(page.runs[0].metrics).toContainEqual({ key: 'loss', value: Math.exp(-9999 / 3000) + 2, timestamp: 1_009_999, step: 9999 })

    const run: any = await core.router.dispatch('tracking.run.get', { runId: runs[0] })
    expect(run.metrics).toContainEqual({ key: 'odd', value: null, nonFinite: 'NaN', timestamp: 5, step: 0 })

    const ds: any = await core.router.dispatch('tracking.metrics.history', { runId: runs[0], key: 'loss', maxPoints: 500 })
    expect(ds).toMatchObject({ key: 'loss', x: 'step', total: 10_000, downsampled: true })
    expect(ds.steps).toHaveLength(500)
    expect(ds.steps[0]).toBe(0)
    expect(ds.steps[499]).toBe(9999)
    expect(ds.steps).toContain(4321) // the spike survives downsampling
    const raw: any = await core.router.dispatch('tracking.metrics.history', { runId: runs[0], key: 'loss', raw: true })
    expect(raw.steps).toHaveLength(10_000)
    expect(raw.downsampled).toBe(false)
    const zoom: any = await core.router.dispatch('tracking.metrics.history', { runId: runs[0], key: 'loss', xMin: 4000, xMax: 4999, maxPoints: 100 })
    expect(zoom.total).toBe(1000)
    expect(zoom.steps).toHaveLength(100)
    expect(Math.min(...zoom.steps)).toBe(4000)
    expect(Math.max(...zoom.steps)).toBe(4999)

    await core.router.dispatch('tracking.run.delete', { runId: runs[1] })
    expect(((await core.router.dispatch('tracking.runs.search', { experimentIds: [exp] })) as any).runs).toHaveLength(2)
    const deleted: any = await core.router.dispatch('tracking.runs.search', { experimentIds: [exp], viewType: 'DELETED_ONLY' })
    expect(deleted.runs.map((r: any) => r.runId)).toEqual([runs[1]])
    await core.router.dispatch('tracking.run.restore', { runId: runs[1] })
    expect(((await core.router.dispatch('tracking.runs.search', { experimentIds: [exp] })) as any).runs).toHaveLength(3)

    await expect(core.router.dispatch('tracking.run.get', { runId: 'f'.repeat(32) })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(core.router.dispatch('tracking.runs.search', { experimentIds: [exp], filter: 'metrics.acc >' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      details: { mlflowErrorCode: 'INVALID_PARAMETER_VALUE' }
    })
    await expect(core.router.dispatch('tracking.metrics.history', { runId: runs[0], key: 'loss', maxPoints: 1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    await expect(core.router.dispatch('tracking.runs.search', { experimentIds: [exp], bogus: 1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('pushes throttled tracking.changed events while a run is logged to', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`)
    await new Promise((r) => ws.on('open', r))
    const events: any[] = []
    ws.on('message', (d) => {
      const m = JSON.parse(String(d))
      if (m.event === 'tracking.changed') events.push(m.payload)
    })
    const run = (await mlflow('POST', 'runs/create', { experiment_id: '0', start_time: 1 })).run
    const id = run.info.run_id
    await new Promise((r) => setTimeout(r, 400))
    events.length = 0
    for (let i = 0; i < 60; i++) await mlflow('POST', 'runs/log-metric', { run_id: id, key: 'x', value: i, timestamp: i, step: i })
    await new Promise((r) => setTimeout(r, 600))
    const mine = events.filter((e) => e.runId === id)
    expect(mine.length).toBeGreaterThanOrEqual(1)
    expect(mine.length).toBeLessThan(15) // throttled: far fewer than 60 writes
    expect(mine[0]).toEqual({ experimentId: '0', runId: id })
    ws.close()
  })

  it('keeps a run note in the mlflow.note.content tag and deletes and restores experiments', async () => {
    const exp = (await mlflow('POST', 'experiments/create', { name: 'notes-and-bin' })).experiment_id
    const { run } = await mlflow('POST', 'runs/create', { experiment_id: exp, run_name: 'noted' })
    const runId = run.info.run_id
    await core.router.dispatch('tracking.run.setNote', { runId, note: 'first try\nwith *markdown*' })
    // MLflow clients see the note where MLflow's UI keeps it
    const got = await mlflow('GET', `runs/get?run_id=${runId}`)
    expect(got.run.data.tags).toContainEqual({ key: 'mlflow.note.content', value: 'first try\nwith *markdown*' })
    await core.router.dispatch('tracking.run.setNote', { runId, note: '' })
    expect(((await core.router.dispatch('tracking.run.get', { runId })) as any).tags['mlflow.note.content']).toBe('')
    await expect(core.router.dispatch('tracking.run.setNote', { runId, note: 'x'.repeat(8001) })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })

    await core.router.dispatch('tracking.experiment.delete', { experimentId: exp })
    const active = (await core.router.dispatch('tracking.experiments.list', {})) as any[]
    expect(active.map((e) => e.name)).not.toContain('notes-and-bin')
    const all = (await core.router.dispatch('tracking.experiments.list', { viewType: 'ALL' })) as any[]
    expect(all.find((e) => e.name === 'notes-and-bin')).toMatchObject({ lifecycleStage: 'deleted', runCount: 0 })
    // a deleted run cannot take a note
    await expect(core.router.dispatch('tracking.run.setNote', { runId, note: 'late' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    await core.router.dispatch('tracking.experiment.restore', { experimentId: exp })
    const back = (await core.router.dispatch('tracking.experiments.list', {})) as any[]
    expect(back.find((e) => e.name === 'notes-and-bin')).toMatchObject({ lifecycleStage: 'active', runCount: 1 })
    await expect(core.router.dispatch('tracking.experiment.delete', { experimentId: '0' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    await expect(core.router.dispatch('tracking.experiment.delete', { experimentId: '987654' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
