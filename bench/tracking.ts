/**
 * `npm run bench:tracking`: the tracking store through `serve` (MLflow REST over HTTP, and the
 * contract's `tracking.metrics.history` over /api/rpc), each beside a naive baseline measured in the
 * same run: one autocommitted INSERT per point, and unindexed scans over a plain rowid table.
 * Prints `name: value` lines. Talks to 127.0.0.1 only.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Agent, request } from 'node:http'
import Database from 'better-sqlite3'
import { lttb } from '../src/main/services/tracking/lttb'
import { spawnServe } from '../src/main/testing/serveProcess'

const ROOT = resolve(__dirname, '../..')
const TOKEN = 'bench'
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CLIENTS = 8
let agent = new Agent({ keepAlive: true, maxSockets: 64 })
/** After a long synchronous baseline the idle sockets may have been closed unnoticed: start afresh. */
function freshConnections() {
  agent.destroy()
  agent = new Agent({ keepAlive: true, maxSockets: 64 })
}

const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]
}
const ms = (x: number) => x.toFixed(2)

let port = 0
/** A request on a reused keep-alive socket can race the server closing it; that one is retried. */
async function post(path: string, body: unknown): Promise<any> {
  try {
    return await post1(path, body)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err
    try {
      return await post1(path, body)
    } catch (again) {
      throw new Error(`${path}: ${(again as Error).message}`)
    }
  }
}
function post1(path: string, body: unknown): Promise<any> {
  const data = Buffer.from(JSON.stringify(body))
  return new Promise((res, rej) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': data.length } },
      (r) => {
        const parts: Buffer[] = []
        r.on('data', (c) => parts.push(c))
        r.on('end', () => {
          const text = Buffer.concat(parts).toString()
          if (r.statusCode !== 200) rej(new Error(`${path}: ${r.statusCode} ${text.slice(0, 300)}`))
          else res(JSON.parse(text))
        })
      }
    )
    req.on('error', rej)
    req.end(data)
  })
}
const mlflow = (endpoint: string, body: unknown) => post(`/api/2.0/mlflow/${endpoint}`, body)
const rpc = async (method: string, params: unknown) => (await post('/api/rpc', { method, params })).result

async function startServe(dataDir: string): Promise<ChildProcess> {
  const { url, proc } = await spawnServe({ root: ROOT, token: TOKEN, dataDir, workspace: join(dataDir, '..', 'ws'), inheritStderr: true })
  port = Number(new URL(url).port)
  return proc
}

const batch = (key: string, from: number, n: number, t0: number) =>
  Array.from({ length: n }, (_, i) => ({ key, value: Math.sin((from + i) / 500) + Math.random() * 0.1, timestamp: t0 + from + i, step: from + i }))

/** The naive store: what you get without the schema work — plain rowid tables, no indexes. */
function openNaive(file: string) {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE metrics (run TEXT, key TEXT, value REAL, timestamp INTEGER, step INTEGER);
           CREATE TABLE params (run TEXT, key TEXT, value TEXT);
           CREATE TABLE runs (run TEXT, name TEXT, start_time INTEGER)`)
  return db
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-tracking-'))
  const proc = await startServe(join(tmp, 'data'))
  const naive = openNaive(join(tmp, 'naive.db'))
  const naiveInsert = naive.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?)')
  const t0 = Date.now()
  try {
    const exp = (await mlflow('experiments/create', { name: 'bench' })).experiment_id
    const newRun = async (name: string) => (await mlflow('runs/create', { experiment_id: exp, run_name: name, start_time: Date.now() })).run.info.run_id as string

    // 1. log-batch of 1,000 metrics, one client, latency
    const r1 = await newRun('latency')
    for (let i = 0; i < 20; i++) await mlflow('runs/log-batch', { run_id: r1, metrics: batch('warm', i * 1000, 1000, t0) })
    const lat: number[] = []
    for (let i = 0; i < 300; i++) {
      const body = { run_id: r1, metrics: batch('loss', i * 1000, 1000, t0) }
      const t = performance.now()
      await mlflow('runs/log-batch', body)
      lat.push(performance.now() - t)
    }
    const naiveLat: number[] = []
    for (let i = 0; i < 30; i++) {
      const pts = batch('loss', i * 1000, 1000, t0)
      const t = performance.now()
      for (const p of pts) naiveInsert.run('r1', p.key, p.value, p.timestamp, p.step) // autocommit: one commit per point
      naiveLat.push(performance.now() - t)
    }
    freshConnections()
    line('log_batch_1000_http_p50_ms', ms(pct(lat, 50)))
    line('log_batch_1000_http_p95_ms', ms(pct(lat, 95)))
    line('log_batch_1000_naive_insert_per_point_p50_ms', ms(pct(naiveLat, 50)))
    line('log_batch_1000_ratio_naive_over_service', (pct(naiveLat, 50) / pct(lat, 50)).toFixed(1))

    // 2. sustained ingest, 8 concurrent clients, each its own run, batches of 1,000 points
    const runs8 = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => newRun(`ingest-${c}`)))
    let points = 0
    const end = performance.now() + SECONDS * 1000
    const tIngest = performance.now()
    await Promise.all(
      runs8.map(async (id) => {
        let step = 0
        while (performance.now() < end) {
          await mlflow('runs/log-batch', { run_id: id, metrics: batch('loss', step, 1000, t0) })
          step += 1000
          points += 1000
        }
      })
    )
    const ingestRate = points / ((performance.now() - tIngest) / 1000)
    let naivePoints = 0
    const naiveEnd = performance.now() + Math.min(SECONDS, 3) * 1000
    const tNaive = performance.now()
    while (performance.now() < naiveEnd) {
      for (const p of batch('loss', naivePoints, 100, t0)) naiveInsert.run('ingest', p.key, p.value, p.timestamp, p.step)
      naivePoints += 100
    }
    const naiveRate = naivePoints / ((performance.now() - tNaive) / 1000)
    freshConnections()
    line('ingest_8_clients_points_per_s', Math.round(ingestRate))
    line('ingest_naive_insert_per_point_points_per_s', Math.round(naiveRate))
    line('ingest_ratio_service_over_naive', (ingestRate / naiveRate).toFixed(1))

    // 3. one 1,000,000-point series, downsampled to 2,000 points (LTTB) through the contract
    const big = await newRun('million')
    const naiveTx = naive.transaction((rows: ReturnType<typeof batch>) => {
      for (const p of rows) naiveInsert.run(big, p.key, p.value, p.timestamp, p.step)
    })
    for (let b = 0; b < 1000; b += 4) {
      await Promise.all([0, 1, 2, 3].map((k) => mlflow('runs/log-batch', { run_id: big, metrics: batch('loss', (b + k) * 1000, 1000, t0) })))
    }
    for (let b = 0; b < 1000; b++) naiveTx(batch('loss', b * 1000, 1000, t0))
    freshConnections()
    const hist: number[] = []
    let got: any
    for (let i = 0; i < 7; i++) {
      const t = performance.now()
      got = await rpc('tracking.metrics.history', { runId: big, key: 'loss', maxPoints: 2000 })
      hist.push(performance.now() - t)
    }
    if (got.total !== 1_000_000 || got.steps.length !== 2000) throw new Error(`unexpected history: total ${got.total}, ${got.steps.length} points`)
    const naiveHist: number[] = []
    const naiveSeries = naive.prepare('SELECT step, value FROM metrics WHERE run = ? AND key = ? ORDER BY step').raw(true)
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      const rows = naiveSeries.all(big, 'loss') as [number, number][]
      lttb(rows.map((r) => r[0]), rows.map((r) => r[1]), 2000)
      naiveHist.push(performance.now() - t)
    }
    freshConnections()
    line('history_1m_to_2000_lttb_rpc_p50_ms', ms(pct(hist, 50)))
    line('history_1m_naive_unindexed_scan_lttb_p50_ms', ms(pct(naiveHist, 50)))
    line('history_ratio_naive_over_service', (pct(naiveHist, 50) / pct(hist, 50)).toFixed(1))

    // 4. search over 10,000 runs: metric filter + param filter + metric order
    const exp2 = (await mlflow('experiments/create', { name: 'search-bench' })).experiment_id
    const naiveRuns = naive.prepare('INSERT INTO runs VALUES (?, ?, ?)')
    const naiveParam = naive.prepare('INSERT INTO params VALUES (?, ?, ?)')
    const ids: string[] = []
    for (let i = 0; i < 10_000; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, 10_000 - i) }, async (_, k) => {
          const n = i + k
          const run = (await mlflow('runs/create', { experiment_id: exp2, run_name: `s-${n}`, start_time: t0 + n })).run.info.run_id
          const acc = ((n * 7919) % 10_000) / 10_000
          const metrics = [
            { key: 'acc', value: acc, timestamp: t0, step: 0 },
            { key: 'acc', value: acc / 2, timestamp: t0 - 1, step: -1 },
            { key: 'loss', value: 1 - acc, timestamp: t0, step: 0 },
            { key: 'f1', value: acc * 0.9, timestamp: t0, step: 0 }
          ]
          const params = [
            { key: 'model', value: ['rf', 'xgb', 'mlp', 'lin'][n % 4] },
            { key: 'lr', value: String(0.001 * (n % 10)) },
            { key: 'depth', value: String(n % 12) }
          ]
          await mlflow('runs/log-batch', { run_id: run, metrics, params, tags: [{ key: 'team', value: n % 2 ? 'a' : 'b' }] })
          ids[n] = run
          naive.transaction(() => {
            naiveRuns.run(run, `s-${n}`, t0 + n)
            for (const m of metrics) naiveInsert.run(run, m.key, m.value, m.timestamp, m.step)
            for (const p of params) naiveParam.run(run, p.key, p.value)
          })()
        })
      )
    }
    const query = { experiment_ids: [exp2], filter: "metrics.acc > 0.5 and params.model = 'rf'", order_by: ['metrics.acc DESC'], max_results: 1000 }
    const search: number[] = []
    let found = 0
    for (let i = 0; i < 9; i++) {
      const t = performance.now()
      found = (await mlflow('runs/search', query)).runs.length
      search.push(performance.now() - t)
    }
    const search100: number[] = []
    for (let i = 0; i < 9; i++) {
      const t = performance.now()
      await mlflow('runs/search', { ...query, max_results: 100 })
      search100.push(performance.now() - t)
    }
    const naiveSearch = naive.prepare(`
      WITH latest AS (SELECT run, value, max(step) FROM metrics WHERE key = 'acc' GROUP BY run)
      SELECT r.run, l.value FROM runs r JOIN latest l ON l.run = r.run
      WHERE l.value > 0.5 AND r.run IN (SELECT run FROM params WHERE key = 'model' AND value = 'rf')
      ORDER BY l.value DESC LIMIT 1000`)
    const naiveT: number[] = []
    let naiveFound = 0
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      naiveFound = naiveSearch.all().length
      naiveT.push(performance.now() - t)
    }
    if (naiveFound !== found) throw new Error(`search mismatch: service ${found}, naive ${naiveFound}`)
    line('search_10k_runs_returned', found)
    line('search_10k_runs_max_results_1000_http_p50_ms', ms(pct(search, 50)))
    line('search_10k_runs_max_results_100_http_p50_ms', ms(pct(search100, 50)))
    line('search_10k_runs_naive_unindexed_scan_p50_ms', ms(pct(naiveT, 50)))
    line('search_ratio_naive_over_service_1000', (pct(naiveT, 50) / pct(search, 50)).toFixed(1))
  } finally {
    naive.close()
    proc.kill('SIGTERM')
    await new Promise((r) => proc.on('exit', r))
    agent.destroy()
    rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
