/**
 * `npm run bench:load`: a bounded load run against `serve` on loopback. 50 clients (BENCH_CLIENTS)
 * for 30 s (BENCH_SECONDS) each loop over a mix of requests a real session makes — `/api/health`,
 * `app.info` and a small `lake.query` over `/api/rpc`, an MLflow `runs/log-batch`, and one request
 * without the token (which must be refused) — and count every answer that is not the expected one.
 * The baseline, measured in the same run with the same clients, is a bare Node HTTP server answering
 * a fixed JSON body: the ratio says what the whole stack (token check, routing, validation, the
 * services) costs over the socket itself. Prints `name: value` lines; talks to 127.0.0.1 only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { spawnServe } from '../src/main/testing/serveProcess'

const ROOT = resolve(__dirname, '../..')
const TOKEN = 'bench-load'
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)

const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] : NaN
}

interface Answer {
  status: number
  body: string
}

function send(agent: Agent, port: number, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((res, rej) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) } },
      (r) => {
        const chunks: Buffer[] = []
        r.on('data', (c) => chunks.push(c))
        r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
        r.on('error', rej)
      }
    )
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30 s')))
    req.on('error', rej)
    req.end(data)
  })
}

interface Outcome {
  requests: number
  errors: number
  firstErrors: string[]
  latencies: number[]
}

/** `clients` loops for `seconds`, each request checked by `check`; bounded in time and count. */
async function drive(clients: number, seconds: number, step: (client: number, i: number) => Promise<string | null>): Promise<Outcome> {
  const out: Outcome = { requests: 0, errors: 0, firstErrors: [], latencies: [] }
  const until = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < until && i < 1_000_000; i++) {
        const t0 = performance.now()
        let problem: string | null
        try {
          problem = await step(c, i)
        } catch (err) {
          problem = (err as Error).message
        }
        out.latencies.push(performance.now() - t0)
        out.requests++
        if (problem) {
          out.errors++
          if (out.firstErrors.length < 5) out.firstErrors.push(problem)
        }
      }
    })
  )
  return out
}

function report(prefix: string, o: Outcome, seconds: number) {
  line(`${prefix}_requests`, o.requests)
  line(`${prefix}_errors`, o.errors)
  line(`${prefix}_rps`, (o.requests / seconds).toFixed(0))
  line(`${prefix}_p50_ms`, pct(o.latencies, 50).toFixed(2))
  line(`${prefix}_p99_ms`, pct(o.latencies, 99).toFixed(2))
  for (const e of o.firstErrors) line(`${prefix}_error_example`, e.slice(0, 200))
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-load-'))
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })

  // Baseline: the same clients against a bare HTTP server answering a fixed JSON body.
  const bare = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end('{"ok":true}')
    })
  })
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r))
  const barePort = (bare.address() as AddressInfo).port
  const baseline = await drive(CLIENTS, Math.min(10, SECONDS), async () => {
    const a = await send(agent, barePort, 'GET', '/', {})
    return a.status === 200 ? null : `bare: ${a.status}`
  })
  bare.close()

  const { url, proc } = await spawnServe({ root: ROOT, token: TOKEN, dataDir: join(tmp, 'data'), workspace: join(tmp, 'ws') })
  const port = Number(new URL(url).port)
  const auth = { Authorization: `Bearer ${TOKEN}` }
  const rss = () => {
    try {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
    } catch {
      return NaN
    }
  }
  try {
    const rpc = (method: string, params: unknown) => send(agent, port, 'POST', '/api/rpc', auth, { method, params })
    const exp = await send(agent, port, 'POST', '/api/2.0/mlflow/experiments/create', auth, { name: 'load' })
    const experimentId = JSON.parse(exp.body).experiment_id as string
    const runs: string[] = []
    for (let c = 0; c < CLIENTS; c++) {
      const r = await send(agent, port, 'POST', '/api/2.0/mlflow/runs/create', auth, { experiment_id: experimentId, start_time: Date.now() })
      runs.push(JSON.parse(r.body).run.info.run_id)
    }
    const rssBefore = rss()
    let rssPeak = rssBefore
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rss())), 250)
    const expectJson = (a: Answer, what: string, ok: (b: any) => boolean) => {
      if (a.status !== 200) return `${what}: HTTP ${a.status} ${a.body.slice(0, 120)}`
      try {
        return ok(JSON.parse(a.body)) ? null : `${what}: unexpected ${a.body.slice(0, 120)}`
      } catch {
        return `${what}: not JSON`
      }
    }
    let acknowledged = 0
    const loaded = await drive(CLIENTS, SECONDS, async (c, i) => {
      switch (i % 5) {
        case 0:
          return expectJson(await send(agent, port, 'GET', '/api/health', auth), 'health', (b) => b.ok === true)
        case 1:
          return expectJson(await rpc('app.info', {}), 'app.info', (b) => b.result?.name === 'Atelier')
        case 2:
        {
          const queryId = `load-${c}-${i}`
          const problem = expectJson(await rpc('lake.query', { queryId, sql: `SELECT ${i} AS i, 'x' AS s` }), 'lake.query', (b) => b.result?.queryId === queryId && JSON.stringify(b.result.first).includes(String(i)))
          await rpc('lake.close', { queryId })
          return problem
        }
        case 3: {
          const metrics = Array.from({ length: 10 }, (_, k) => ({ key: 'loss', value: 1 / (i + k + 1), timestamp: Date.now(), step: i * 10 + k }))
          const problem = expectJson(await send(agent, port, 'POST', '/api/2.0/mlflow/runs/log-batch', auth, { run_id: runs[c], metrics }), 'log-batch', (b) => typeof b === 'object')
          if (!problem) acknowledged += metrics.length
          return problem
        }
        default: {
          const a = await send(agent, port, 'POST', '/api/rpc', {}, { method: 'app.info', params: {} })
          return a.status === 401 ? null : `tokenless request answered ${a.status}`
        }
      }
    })
    clearInterval(sampler)
    // every acknowledged point is stored: ask for the history of each run
    let stored = 0
    for (const r of runs) {
      const h = await send(agent, port, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${r}&metric_key=loss`, auth)
      stored += (JSON.parse(h.body).metrics ?? []).length
    }
    report('baseline_bare_http', baseline, Math.min(10, SECONDS))
    report('serve_mixed', loaded, SECONDS)
    line('clients', CLIENTS)
    line('seconds', SECONDS)
    line('p50_ratio_serve_vs_bare', (pct(loaded.latencies, 50) / pct(baseline.latencies, 50)).toFixed(2))
    line('metric_points_stored', stored)
    line('metric_points_acknowledged', acknowledged)
    if (stored !== acknowledged) process.exitCode = 1
    line('serve_rss_before_mib', rssBefore.toFixed(0))
    line('serve_rss_peak_mib', rssPeak.toFixed(0))
    if (loaded.errors > 0) process.exitCode = 1
  } finally {
    proc.kill('SIGTERM')
    await new Promise((r) => proc.once('exit', r))
    agent.destroy()
    rmSync(tmp, { recursive: true, force: true })
  }
}

void main().catch((err) => {
  console.error(err)
  process.exit(1)
})
