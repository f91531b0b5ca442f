/**
 * `npm run bench:endpoints`: a scikit-learn model trained on a generated churn-like table, served by
 * the shipped scoring server (/usr/bin/python3, uvicorn) behind Atelier's proxy, measured in one run:
 *  - p50/p99 latency of a one-row /invocations through the proxy vs the scoring server directly
 *    (sequential, keep-alive), and the p50 the proxy adds;
 *  - throughput with 16 concurrent clients through the proxy vs directly, and their ratio;
 *  - the throughput cost of capture at 100 % sampling;
 *  - a drift baseline over 1M rows and a drift check of a 100k-row window (DuckDB).
 * Prints `name: value` lines. Runs on a temp data dir; nothing leaves the machine.
 */
import { execFileSync } from 'node:child_process'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { silentLogger } from '../src/main/log'
import { atelierPythonEnv } from '../src/main/pythonPath'
import { alice, createRegistryHarness } from '../src/main/services/registry/testing'
import { SecretStore } from '../src/main/services/secrets/SecretStore'
import { EndpointService } from '../src/main/services/endpoints/EndpointService'
import { LocalBackend } from '../src/main/services/endpoints/LocalBackend'
import { computeBaseline, checkWindow } from '../src/main/services/endpoints/drift'

const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const SEQ = Number(process.env.BENCH_REQUESTS ?? 250)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]

const TRAIN = (dir: string) => `
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from atelier.models import save_model
rng = np.random.default_rng(0)
n = 5000
X = pd.DataFrame({"tenure": rng.integers(0, 72, n).astype(float), "monthly": rng.normal(70, 20, n), "calls": rng.poisson(2, n)})
y = ((X["tenure"] < 12) & (X["monthly"] > 70) | (X["calls"] > 4)).astype(int)
save_model(LogisticRegression(max_iter=500).fit(X, y), ${JSON.stringify(dir)}, input_example=X.head(2))
`

const ROW = JSON.stringify({ dataframe_split: { columns: ['tenure', 'monthly', 'calls'], data: [[5, 90.5, 1]] } })

function post(agent: Agent, port: number, path: string, token: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ROW), ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 200 ? resolve(200) : reject(new Error(`HTTP ${res.statusCode}`))))
      }
    )
    req.on('error', reject)
    req.end(ROW)
  })
}

async function latencies(port: number, path: string, token: string | null): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  for (let i = 0; i < 50; i++) await post(agent, port, path, token)
  const xs: number[] = []
  for (let i = 0; i < SEQ; i++) {
    const t0 = performance.now()
    await post(agent, port, path, token)
    xs.push(performance.now() - t0)
  }
  agent.destroy()
  return xs
}

async function throughput(port: number, path: string, token: string | null, clients = 16): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  for (let i = 0; i < 50; i++) await post(agent, port, path, token)
  let n = 0
  const end = performance.now() + SECONDS * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        await post(agent, port, path, token)
        n++
      }
    })
  )
  agent.destroy()
  return n / ((performance.now() - t0) / 1000)
}

async function main() {
  const h = await createRegistryHarness()
  const svc = new EndpointService({
    dataDir: h.dataDir,
    registry: h.registry,
    domain: h.domain,
    secrets: new SecretStore(join(h.dataDir, 'secrets.json')),
    backend: new LocalBackend({ runDir: join(h.dataDir, 'endpoints', 'run'), preferShipped: true }),
    emit: () => undefined,
    log: silentLogger,
    defaultInterpreter: async () => PYTHON
  })
  try {
    const runId = h.makeRun()
    const dir = join(h.dataDir, 'artifacts', h.tracking.runArtifactDir(h.tracking.runs.require(runId))!, 'churn')
    execFileSync(PYTHON, ['-c', TRAIN(dir)], { env: { ...process.env, ...atelierPythonEnv('') }, stdio: 'inherit' })
    const v = await h.registry.createVersionFromRun({ name: 'churn', runId, artifactPath: 'churn', createModel: true }, alice)
    await svc.init()
    await svc.deploy({ name: 'churn', model: 'churn', version: v.version })
    const deadline = Date.now() + 120_000
    while (svc.get('churn').endpoint.state !== 'running') {
      if (svc.get('churn').endpoint.state === 'failed' || Date.now() > deadline) throw new Error(svc.get('churn').endpoint.error ?? 'did not start')
      await new Promise((r) => setTimeout(r, 100))
    }
    const e = svc.get('churn').endpoint
    const direct = e.variants[0].port!
    const proxyPath = '/endpoints/churn/invocations'

    const d: number[] = []
    const p: number[] = []
    for (let round = 0; round < 4; round++) {
      d.push(...(await latencies(direct, '/invocations', null)))
      p.push(...(await latencies(svc.proxy.port, proxyPath, e.token)))
    }
    line('latency_direct_p50_ms', pct(d, 50).toFixed(3))
    line('latency_direct_p99_ms', pct(d, 99).toFixed(3))
    line('latency_proxy_p50_ms', pct(p, 50).toFixed(3))
    line('latency_proxy_p99_ms', pct(p, 99).toFixed(3))
    line('latency_added_p50_ms', (pct(p, 50) - pct(d, 50)).toFixed(3))

    // rounds alternate between the configurations compared, and medians are compared, so a burst
    // of load from elsewhere on the machine does not land on one side only
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const td: number[] = []
    const tp: number[] = []
    const tc: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      td.push(await throughput(direct, '/invocations', null))
      tp.push(await throughput(svc.proxy.port, proxyPath, e.token))
      svc.setCapture('churn', true, 100)
      tc.push(await throughput(svc.proxy.port, proxyPath, e.token))
      svc.setCapture('churn', false, 0)
    }
    line('throughput_direct_rps_16_clients', med(td).toFixed(1))
    line('throughput_proxy_rps_16_clients', med(tp).toFixed(1))
    line('throughput_ratio_proxy_vs_direct', (med(tp) / med(td)).toFixed(3))
    line('throughput_proxy_capture100_rps', med(tc).toFixed(1))
    line('capture100_throughput_cost_pct', ((1 - med(tc) / med(tp)) * 100).toFixed(1))

    // drift: baseline over 1M rows, a check of a 100k-row window
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    await conn.run(`CREATE TABLE train AS SELECT (random() * 72)::DOUBLE AS tenure, 70 + 20 * sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS monthly,
      (random() * 5)::INTEGER AS calls, ['dsl', 'fiber', 'none'][1 + (random() * 2.999)::INTEGER] AS internet FROM range(1000000)`)
    await conn.run(`CREATE TABLE win AS SELECT (random() * 72)::DOUBLE + 10 AS tenure, 70 + 20 * sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS monthly,
      (random() * 5)::INTEGER AS calls, ['dsl', 'fiber', 'none'][1 + (random() * 2.999)::INTEGER] AS internet FROM range(100000)`)
    let t0 = performance.now()
    const baseline = await computeBaseline(conn, 'SELECT * FROM train')
    line('drift_baseline_1m_rows_s', ((performance.now() - t0) / 1000).toFixed(3))
    t0 = performance.now()
    const report = await checkWindow(conn, baseline, 'SELECT * FROM win')
    line('drift_check_100k_rows_s', ((performance.now() - t0) / 1000).toFixed(3))
    line('drift_flagged_features', report.features.filter((f) => f.drifted).map((f) => f.name).join(',') || '(none)')
    conn.closeSync()
    db.closeSync()
  } finally {
    await svc.stopAll()
    await svc.dispose()
    await h.cleanup()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
