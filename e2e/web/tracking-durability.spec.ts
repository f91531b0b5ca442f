/**
 * Durability of the tracking store under load: 8 concurrent MLflow REST clients log batches to the
 * built `serve`, which is killed with SIGKILL mid-stream and restarted on the same data dir. Every
 * batch acknowledged with 200 must be there, whole; unacknowledged ones all or nothing; and no
 * client may have seen an error (SQLITE_BUSY or otherwise) before the kill.
 */
import { test, expect } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServe, type ServeHandle } from '../support'

const CLIENTS = 8
const POINTS = 200

async function mlflow(s: ServeHandle, endpoint: string, body: unknown, method: 'GET' | 'POST' = 'POST'): Promise<{ status: number; body: any }> {
  const url = new URL(`${s.origin}/api/2.0/mlflow/${endpoint}`)
  if (method === 'GET') for (const [k, v] of Object.entries(body as object)) url.searchParams.set(k, String(v))
  const r = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: method === 'POST' ? JSON.stringify(body) : undefined
  })
  return { status: r.status, body: await r.json() }
}

test('every acknowledged log-batch survives kill -9 of serve', async () => {
  const root = mkdtempSync(join(tmpdir(), 'atelier-e2e-durability-'))
  const dirs = { dataDir: join(root, 'data'), workspace: join(root, 'ws') }
  let s = await startServe(dirs)
  try {
    const exp = (await mlflow(s, 'experiments/create', { name: 'durability' })).body.experiment_id
    const runIds: string[] = []
    for (let c = 0; c < CLIENTS; c++) runIds.push((await mlflow(s, 'runs/create', { experiment_id: exp, start_time: Date.now() })).body.run.info.run_id)

    const acked: number[][] = runIds.map(() => [])
    const errors: string[] = []
    let killed = false
    const client = async (c: number) => {
      for (let b = 0; !killed; b++) {
        const metrics = Array.from({ length: POINTS }, (_, i) => ({ key: 'loss', value: b + i / POINTS, timestamp: 1_700_000_000_000 + b, step: b * POINTS + i }))
        try {
          const r = await mlflow(s, 'runs/log-batch', { run_id: runIds[c], metrics, tags: [{ key: `batch.${b % 50}`, value: String(b) }] })
          if (r.status === 200) acked[c].push(b)
          else if (!killed) errors.push(`client ${c} batch ${b}: ${r.status} ${JSON.stringify(r.body)}`)
        } catch (err) {
          if (!killed) errors.push(`client ${c} batch ${b}: ${(err as Error).message}`)
          return
        }
      }
    }
    const running = Promise.all(runIds.map((_, c) => client(c)))
    await new Promise((r) => setTimeout(r, 2500))
    killed = true
    s.proc.kill('SIGKILL')
    await running
    await new Promise<void>((r) => (s.proc.exitCode !== null || s.proc.signalCode !== null ? r() : s.proc.once('exit', () => r())))
    expect(errors).toEqual([])
    const total = acked.reduce((n, a) => n + a.length, 0)
    expect(total).toBeGreaterThan(CLIENTS * 5)

    s = await startServe(dirs)
    for (let c = 0; c < CLIENTS; c++) {
      const steps = new Set<number>()
      let token: string | undefined
      do {
        const page = await mlflow(s, 'metrics/get-history', { run_id: runIds[c], metric_key: 'loss', max_results: 25_000, ...(token ? { page_token: token } : {}) }, 'GET')
        expect(page.status).toBe(200)
        for (const m of page.body.metrics ?? []) steps.add(m.step)
        token = page.body.next_page_token
      } while (token)
      // every acknowledged batch is there, whole
      const lost: string[] = []
      for (const b of acked[c]) for (let i = 0; i < POINTS; i++) if (!steps.has(b * POINTS + i)) lost.push(`batch ${b} point ${i}`)
      expect(lost, `client ${c}`).toEqual([])
      // and any other batch (in flight at the kill) is all or nothing
      const batches = new Map<number, number>()
      for (const st of steps) batches.set(Math.floor(st / POINTS), (batches.get(Math.floor(st / POINTS)) ?? 0) + 1)
      expect([...batches].filter(([, n]) => n !== POINTS), `client ${c}: partial batches`).toEqual([])
      expect(batches.size, `client ${c}`).toBeGreaterThanOrEqual(acked[c].length)
      // the chart summary agrees with the series
      const series = await s.rpc('tracking.metrics.history', { runId: runIds[c], key: 'loss', maxPoints: 100 })
      expect(series.total).toBe(steps.size)
    }
  } finally {
    if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop()
    rmSync(root, { recursive: true, force: true })
  }
})
