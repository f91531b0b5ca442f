/**
 * Endpoints end to end with real scoring servers: scikit-learn models trained here and saved with
 * the shipped `atelier.models`, served by `atelier.serving` under /usr/bin/python3 behind the
 * proxy. Skips with a message when python3, scikit-learn or uvicorn is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { atelierPythonEnv } from '../../pythonPath'
import { silentLogger } from '../../log'
import { alice, createRegistryHarness, type RegistryHarness } from '../registry/testing'
import { SecretStore } from '../secrets/SecretStore'
import { isAlive } from '../kernels/processTree'
import { EndpointService } from './EndpointService'
import { LocalBackend } from './LocalBackend'
import { endpointProvider } from './running'
import { ProcSnapshot } from '../running/procMem'

const PYTHON = '/usr/bin/python3'
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing`
  : spawnSync(PYTHON, ['-c', 'import sklearn, pandas, uvicorn, yaml'], { stdio: 'ignore', timeout: 60_000 }).status !== 0
    ? `scikit-learn/pandas/uvicorn/yaml are not installed for ${PYTHON}`
    : null

/** Trains a model whose prediction is `amount > threshold` and saves it in MLflow's format. */
function train(dir: string, threshold: number) {
  execFileSync(
    PYTHON,
    [
      '-c',
      `
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
from atelier.models import save_model
X = pd.DataFrame({"amount": [float(i) for i in range(20)], "count": [i % 3 for i in range(20)]})
y = [int(a > ${threshold}) for a in X["amount"]]
save_model(DecisionTreeClassifier(max_depth=2).fit(X, y), ${JSON.stringify(dir)}, input_example=X.head(2))
`
    ],
    { env: { ...process.env, ...atelierPythonEnv('') }, timeout: 120_000 }
  )
}

let h: RegistryHarness
let duck: DuckDBInstance
let secrets: SecretStore
let svc: EndpointService
const services: EndpointService[] = []
/** Every event the services emitted, as the WebSocket would send it. */
const emitted: string[] = []

function makeService(): EndpointService {
  const s = new EndpointService({
    dataDir: h.dataDir,
    registry: h.registry,
    domain: h.domain,
    secrets,
    backend: new LocalBackend({ runDir: join(h.dataDir, 'endpoints', 'run'), preferShipped: true, restartBaseDelayMs: 300, pollMs: 100 }),
    emit: (event, payload) => void emitted.push(JSON.stringify({ event, payload })),
    log: silentLogger,
    defaultInterpreter: async () => PYTHON,
    captureFlushMs: 100,
    sql: () => duck.connect()
  })
  services.push(s)
  return s
}

/** Registers a real trained model as a new version of `name`. */
async function registerTrained(name: string, threshold: number): Promise<number> {
  const runId = h.makeRun()
  const dir = join(h.dataDir, 'artifacts', h.tracking.runArtifactDir(h.tracking.runs.require(runId))!, 'real')
  train(dir, threshold)
  return (await h.registry.createVersionFromRun({ name, runId, artifactPath: 'real', createModel: true }, alice)).version
}

async function until<T>(what: string, f: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T
  for (;;) {
    last = await f()
    if (ok(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 2000)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const running = (s: EndpointService, name: string) =>
  until(`${name} running`, () => s.get(name).endpoint, (e) => e.state === 'running' || e.state === 'failed')

async function call(url: string, token: string | null, body: unknown, contentType = 'application/json') {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000)
  })
  return { status: r.status, body: (await r.json()) as any, variant: r.headers.get('x-atelier-variant') }
}

const rows = (amounts: number[]) => ({ dataframe_split: { columns: ['amount', 'count'], data: amounts.map((a) => [a, 1]) } })

describe.skipIf(missing)('endpoints with real scoring servers', () => {
  let v1: number
  let v2: number
  beforeAll(async () => {
    h = await createRegistryHarness()
    duck = await DuckDBInstance.create(':memory:')
    const c = await duck.connect()
    // the training data: amount evenly over [0, 20), count 0–2
    await c.run('CREATE TABLE train AS SELECT (i % 2000) / 100.0 AS amount, (i % 3)::BIGINT AS count FROM range(20000) t(i)')
    await c.run('CREATE TABLE customers AS SELECT i AS id, (i % 20)::DOUBLE AS amount, (i % 3)::BIGINT AS count FROM range(1200) t(i)')
    c.closeSync()
    secrets = new SecretStore(join(h.dataDir, 'secrets.json'))
    v1 = await registerTrained('churn', 5) // amount 10 → 1
    v2 = await registerTrained('churn', 15) // amount 10 → 0
    svc = makeService()
    await svc.init()
  }, 240_000)
  afterAll(async () => {
    for (const s of services) {
      await s.stopAll().catch(() => undefined)
      await s.dispose().catch(() => undefined)
    }
    await h?.cleanup()
    duck?.closeSync()
  })

  it('deploys a version, answers with the token only, and passes MLflow errors through', async () => {
    const { endpoint } = await svc.deploy({ name: 'churn', model: 'churn', version: v1 })
    expect(endpoint.state).toBe('starting')
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/endpoints\/churn\/invocations$/)
    const e = await running(svc, 'churn')
    expect(e.state, e.error).toBe('running')
    expect(e.variants[0]).toMatchObject({ name: 'primary', version: v1, weight: 100, server: 'atelier' })
    expect(await call(e.url, e.token, rows([1, 10]))).toMatchObject({ status: 200, body: { predictions: [0, 1] }, variant: 'primary' })
    // the token is stored hashed in the definition, not in clear
    expect(JSON.stringify(readdirSync(join(h.dataDir, 'endpoints', 'churn')))).not.toContain(e.token)
    expect((await call(e.url, null, rows([1]))).status).toBe(401)
    expect((await call(e.url, 'wrong', rows([1]))).status).toBe(401)
    const bad = await call(e.url, e.token, '{oops')
    expect(bad).toMatchObject({ status: 400, body: { error_code: 'BAD_REQUEST' } })
    const cols = await call(e.url, e.token, { dataframe_records: [{ amount: 1 }] })
    expect(cols.status).toBe(400)
    expect(cols.body.message).toContain("missing inputs ['count']")
    // through the contract's invoke (the same proxy)
    const r = await svc.invoke('churn', JSON.stringify(rows([10])))
    expect(r).toMatchObject({ status: 200, body: { predictions: [1] }, variant: 'primary' })
    expect(svc.signature('churn').inputs).toEqual([
      { name: 'amount', type: 'double' },
      { name: 'count', type: 'long' }
    ])
  }, 120_000)

  it('shows in the Running panel with its scoring servers\' memory from /proc; stopping it there stops it', async () => {
    await svc.deploy({ name: 'churn-live', model: 'churn', version: v2 })
    const e = await running(svc, 'churn-live')
    expect(e.state, e.error).toBe('running')
    const provider = endpointProvider(svc)
    const proc = new ProcSnapshot()
    const items = await provider.list(proc)
    const item = items.find((i) => i.id === 'churn-live')!
    expect(item).toMatchObject({ name: 'churn-live', state: 'running', idle: false })
    expect(item.detail).toContain(`churn v${v2}`)
    expect(item.detail).toContain(`pid ${e.variants[0].pid}`)
    // a Python process with scikit-learn loaded: tens of MB, the tree's resident memory
    expect(item.memoryBytes).toBe(proc.treeRss(e.variants[0].pid!))
    expect(item.memoryBytes!).toBeGreaterThan(20 * 1024 * 1024)
    await provider.stop('churn-live')
    expect(svc.get('churn-live').endpoint.state).toBe('stopped')
    await until('scoring server gone', () => isAlive(e.variants[0].pid!), (alive) => !alive, 15_000)
    expect((await provider.list(new ProcSnapshot())).map((i) => i.id)).not.toContain('churn-live')
    // events go to every client, read-only roles included: never with a token
    expect(emitted.some((x) => x.includes('"churn-live"'))).toBe(true)
    expect(emitted.filter((x) => x.includes(e.token))).toEqual([])
    await svc.delete('churn-live')
  }, 120_000)

  it('refuses to delete a version an endpoint serves', async () => {
    expect(() => h.registry.deleteVersion('churn', v1, alice)).toThrow(/served by endpoint 'churn'/)
    expect(() => h.registry.deleteModel('churn', alice)).toThrow(/served by endpoint 'churn'/)
  })

  it('kill -9 of the scoring server: 503 at once meanwhile, then restarted and answering', async () => {
    const e = svc.get('churn').endpoint
    const pid = e.variants[0].pid!
    process.kill(pid, 'SIGKILL')
    await until('the crash seen', () => svc.get('churn').endpoint.variants[0].state, (s) => s !== 'running', 5000)
    const t0 = Date.now()
    const during = await call(e.url, e.token, rows([10]))
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(during).toMatchObject({ status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE' } })
    const back = await running(svc, 'churn')
    expect(back.state).toBe('running')
    expect(back.variants[0].pid).not.toBe(pid)
    expect(back.variants[0].restarts).toBe(1)
    expect((await call(e.url, e.token, rows([10]))).body).toEqual({ predictions: [1] })
  }, 60_000)

  it('canary at 50 %: both variants answer and show in the metrics; rollback restores the primary alone', async () => {
    const { endpoint } = await svc.update({
      name: 'churn',
      variants: [
        { name: 'primary', weight: 50 },
        { name: 'canary', version: v2, weight: 50 }
      ]
    })
    expect(endpoint.variants.map((v) => [v.name, v.version, v.weight, v.state])).toEqual([
      ['primary', v1, 50, 'running'],
      ['canary', v2, 50, 'running']
    ])
    const seen = new Map<string, number[]>()
    for (let i = 0; i < 60; i++) {
      const r = await call(endpoint.url, endpoint.token, rows([10]))
      seen.set(r.variant!, [...(seen.get(r.variant!) ?? []), r.body.predictions[0]])
    }
    expect(new Set(seen.get('primary'))).toEqual(new Set([1]))
    expect(new Set(seen.get('canary'))).toEqual(new Set([0]))
    expect(seen.get('canary')!.length).toBeGreaterThan(10)
    const m = svc.metrics('churn')
    const byName = Object.fromEntries(m.variants.map((v) => [v.variant, v]))
    expect(byName.canary.requests).toBe(seen.get('canary')!.length)
    expect(byName.primary.p50).toBeGreaterThan(0)
    // rollback: to the variant set before the update, while requests keep flowing
    const traffic = (async () => {
      const statuses: number[] = []
      for (let i = 0; i < 30; i++) statuses.push((await call(endpoint.url, endpoint.token, rows([10]))).status)
      return statuses
    })()
    const rolled = await svc.update({ name: 'churn', rollback: true })
    expect(rolled.endpoint.variants.map((v) => [v.name, v.version, v.weight])).toEqual([['primary', v1, 100]])
    expect(new Set(await traffic)).toEqual(new Set([200]))
    expect((await call(endpoint.url, endpoint.token, rows([10]))).variant).toBe('primary')
  }, 120_000)

  it('a shadow variant gets a copy of each request; its answers are recorded, never returned', async () => {
    const { endpoint } = await svc.update({ name: 'churn', variants: [{ name: 'primary', weight: 100 }, { name: 'shadow', version: v2, weight: 0, shadow: true }] })
    for (let i = 0; i < 5; i++) expect(await call(endpoint.url, endpoint.token, rows([10]))).toMatchObject({ body: { predictions: [1] }, variant: 'primary' })
    await until('shadow requests', () => svc.metrics('churn').variants.find((v) => v.variant === 'shadow')!.requests, (n) => n === 5, 5000)
    await svc.update({ name: 'churn', promote: 'primary' })
  }, 60_000)

  it('captures sampled traffic into Parquet files DuckDB reads', async () => {
    svc.setCapture('churn', true, 100)
    const e = svc.get('churn').endpoint
    for (let i = 0; i < 4; i++) await call(e.url, e.token, rows([i * 5]))
    await call(e.url, e.token, '{bad') // errors are not captured as successes
    const dir = svc.captureDir('churn')
    await until('parquet', () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.parquet')).length : 0), (n) => n > 0, 10_000)
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    const got = await conn.runAndReadAll(`SELECT variant, status, latency_ms > 0 AS timed, inputs, response FROM read_parquet('${dir}/*.parquet') ORDER BY time`)
    const r = got.getRowObjectsJson()
    conn.closeSync()
    db.closeSync()
    expect(r.length).toBe(4)
    expect(r[0]).toMatchObject({ variant: 'primary', status: 200, timed: true })
    expect(JSON.parse(String(r[2].inputs))).toEqual([{ amount: 10, count: 1 }])
    expect(JSON.parse(String(r[2].response))).toEqual({ predictions: [1] })
    svc.setCapture('churn', false, 0)
  }, 60_000)

  it('replays captured requests against the last approved versions: agreement, label metrics, latency', async () => {
    // before: four captured rows (amount 0, 5, 10, 15) served by v1; now four more carrying a label
    // column the scoring server drops, true when amount > 15 (v2's rule)
    svc.setCapture('churn', true, 100)
    const e = svc.get('churn').endpoint
    const labelled = { dataframe_split: { columns: ['amount', 'count', 'churned'], data: [2, 8, 12, 18].map((a) => [a, 1, a > 15 ? 1 : 0]) } }
    expect(await call(e.url, e.token, labelled)).toMatchObject({ status: 200, body: { predictions: [0, 1, 1, 1] } })
    const approve = (v: number, status: string) => h.db.prepare("UPDATE model_versions SET approval_status = ? WHERE version = ? AND model_id = (SELECT id FROM registered_models WHERE name = 'churn')").run(status, v)
    approve(v1, 'Approved')
    approve(v2, 'Approved')
    try {
      const r = await svc.replay('churn', { n: 100, labelColumn: 'churned' })
      expect(r).toMatchObject({ requests: 5, rows: 8, labelColumn: 'churned', labelled: true })
      expect(r.served.accuracy).toBe(0.5)
      expect(r.served.p50!).toBeGreaterThan(0)
      expect(r.versions.map((v) => [v.version, v.state, v.servedNow])).toEqual([
        [v2, 'ok', false],
        [v1, 'ok', true]
      ])
      const [r2, r1] = r.versions
      // v1 is what was served: it agrees everywhere and scores the same
      expect(r1).toMatchObject({ agreement: 1, errors: 0, accuracy: 0.5, accuracyDelta: 0 })
      // v2 answers 0 where v1 said 1 for amount 8, 10, 12 and 15 (4 of 8 rows) and is right on every labelled row
      expect(r2).toMatchObject({ agreement: 0.5, errors: 0, accuracy: 1, accuracyDelta: 0.5 })
      expect(r2.p50!).toBeGreaterThan(0)
      expect(r2.p95!).toBeGreaterThanOrEqual(r2.p50!)
      // the replay's scoring servers are gone; the endpoint still serves v1 alone
      expect(svc.get('churn').endpoint.variants.map((v) => v.version)).toEqual([v1])
      expect(readdirSync(join(h.dataDir, 'endpoints', 'run')).filter((f) => f.includes('replay') && f.endsWith('.pid'))).toEqual([])
      // without a label column: agreement and latency only
      const plain = await svc.replay('churn', { n: 2 })
      expect(plain).toMatchObject({ requests: 2, labelled: false, served: { accuracy: null } })
      expect(plain.versions.map((v) => v.accuracy)).toEqual([null, null])
    } finally {
      approve(v1, 'None')
      approve(v2, 'None')
      svc.setCapture('churn', false, 0)
    }
  }, 120_000)

  it('a model that cannot load is failed with the Python error, never running', async () => {
    const runId = h.makeRun({ files: { 'broken/MLmodel': 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n' } })
    const dir = join(h.dataDir, 'artifacts', h.tracking.runArtifactDir(h.tracking.runs.require(runId))!, 'broken')
    writeFileSync(join(dir, 'model.pkl'), Buffer.from('\x80\x02cmissing_pkg_xyz\nModel\nq\x00.', 'latin1'))
    const v = await h.registry.createVersionFromRun({ name: 'churn', runId, artifactPath: 'broken' }, alice)
    await svc.deploy({ name: 'broken', model: 'churn', version: v.version })
    const e = await running(svc, 'broken')
    expect(e.state).toBe('failed')
    expect(e.error).toContain("No module named 'missing_pkg_xyz'")
    // a canary of a broken version leaves traffic where it was
    await expect(svc.update({ name: 'churn', variants: [{ name: 'primary', weight: 90 }, { name: 'bad', version: v.version, weight: 10 }] })).rejects.toThrow(/did not start/)
    expect(svc.get('churn').endpoint.variants.map((x) => x.name)).toEqual(['primary'])
    await svc.delete('broken')
  }, 120_000)

  it('follows an alias: redeploys when it moves to another version, not when it stays', async () => {
    h.registry.setAlias('churn', 'champion', v1, alice)
    await svc.deploy({ name: 'champ', model: 'churn', alias: 'champion' })
    let e = await running(svc, 'champ')
    expect(e.variants[0]).toMatchObject({ version: v1, alias: 'champion' })
    const pid = e.variants[0].pid
    h.registry.setAlias('churn', 'champion', v2, alice)
    e = await until('redeploy', () => svc.get('champ').endpoint, (x) => x.variants[0].version === v2 && x.state === 'running')
    expect(e.variants[0].pid).not.toBe(pid)
    await until('the old server gone', () => isAlive(pid!), (alive) => !alive, 10_000)
    expect((await call(e.url, e.token, rows([10]))).body).toEqual({ predictions: [0] })
    // an approval event that does not move the alias changes nothing
    const pid2 = e.variants[0].pid
    h.domain.emit('model_version.approved', { name: 'churn', version: v2, approvers: [], byPolicy: true, at: Date.now() })
    await new Promise((r) => setTimeout(r, 300))
    expect(svc.get('champ').endpoint.variants[0].pid).toBe(pid2)
    await svc.delete('champ')
  }, 120_000)

  it('drift: baseline from a table; shifted traffic fires the alarm exactly once after N windows, POSTed to the webhook', async () => {
    const hooks: unknown[] = []
    const hook = createHttpServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        hooks.push(JSON.parse(body))
        res.end('ok')
      })
    })
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()))
    try {
      svc.setCapture('churn', true, 100)
      const m = svc.monitor('churn')
      m.configure({ consecutive: 2, webhookUrl: `http://127.0.0.1:${(hook.address() as { port: number }).port}/alarm` })
      const info = await m.setBaseline('train')
      expect(info.baselineRows).toBe(20000)
      const stats = JSON.parse(readFileSync(join(h.dataDir, 'endpoints', 'churn', 'monitor', 'statistics.json'), 'utf8'))
      expect(stats.features.map((f: { name: string; inferred_type: string }) => [f.name, f.inferred_type])).toEqual([
        ['amount', 'Fractional'],
        ['count', 'Integral']
      ])
      expect(existsSync(join(h.dataDir, 'endpoints', 'churn', 'monitor', 'constraints.json'))).toBe(true)
      const e = svc.get('churn').endpoint
      const window = async (shift: number) => {
        for (let r = 0; r < 20; r++) {
          const data = Array.from({ length: 10 }, (_, i) => [((r * 10 + i) % 200) / 10 + shift, (r * 10 + i) % 3])
          expect((await call(e.url, e.token, { dataframe_split: { columns: ['amount', 'count'], data } })).status).toBe(200)
        }
        return m.check()
      }
      const windows = [await window(0), await window(0), await window(12), await window(12), await window(12)]
      expect(windows.map((w) => [w!.rows, w!.drifted, w!.alarm])).toEqual([
        [200, false, null],
        [200, false, null],
        [200, true, null],
        [200, true, 'fired'],
        [200, true, null]
      ])
      const amount = windows[3]!.features.find((f) => f.name === 'amount')!
      expect(amount.drifted).toBe(true)
      expect(amount.ks!).toBeGreaterThan(0.5)
      expect(windows[3]!.features.find((f) => f.name === 'count')!.drifted).toBe(false)
      await until('webhook', () => hooks.length, (n) => n >= 1, 5000)
      await new Promise((r) => setTimeout(r, 200))
      expect(hooks).toHaveLength(1)
      expect(hooks[0]).toMatchObject({ endpoint: 'churn', alarm: 'drift' })
      expect(m.info().alarmFiring).toBe(true)
      expect(m.info().history).toHaveLength(5)
      // no new traffic: no window
      expect(await m.check()).toBeNull()
    } finally {
      svc.setCapture('churn', false, 0)
      hook.close()
    }
  }, 120_000)

  it('batch prediction: a table through the endpoint in chunks, into a Parquet table with the predictions', async () => {
    const started = svc.startBatch('churn', 'customers')
    expect(started).toMatchObject({ state: 'running', endpoint: 'churn' })
    const done = await until('batch', () => ({ ...svc.batch(started.batchId).status }), (b) => b.state !== 'running', 60_000)
    expect(done, done.error).toMatchObject({ state: 'succeeded', rowsDone: 1200, rowsTotal: 1200 })
    const file = join(h.dataDir, 'endpoints', 'churn', 'batch', 'customers_churn_predictions.parquet')
    const c = await duck.connect()
    const r = (await c.runAndReadAll(`SELECT count(*) AS n, sum(prediction) AS ones, bool_and(prediction = (amount > 5)::INT) AS right FROM read_parquet('${file}')`)).getRowObjectsJson()
    c.closeSync()
    expect(r[0]).toEqual({ n: '1200', ones: 840, right: true })
    // a table that does not exist: failed with the reason
    const bad = svc.startBatch('churn', 'nope')
    const failed = await until('batch', () => ({ ...svc.batch(bad.batchId).status }), (b) => b.state !== 'running', 10_000)
    expect(failed.state).toBe('failed')
    expect(failed.error).toContain('Could not read table nope')
  }, 60_000)

  it('after an app restart: re-attached to the same server at the same URL; a taken proxy port moves', async () => {
    const before = svc.get('churn').endpoint
    await svc.dispose()
    const again = makeService()
    await again.init()
    const e = await running(again, 'churn')
    expect(e.url).toBe(before.url)
    expect(e.variants[0].pid).toBe(before.variants[0].pid)
    expect((await call(e.url, e.token, rows([10]))).body).toEqual({ predictions: [1] })
    // the port is taken by someone else while the app is down
    await again.dispose()
    const port = Number(new URL(e.url).port)
    const squatter: Server = createServer()
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()))
    try {
      svc = makeService()
      await svc.init()
      const moved = await running(svc, 'churn')
      expect(moved.url).not.toBe(e.url)
      expect((await call(moved.url, moved.token, rows([10]))).body).toEqual({ predictions: [1] })
    } finally {
      squatter.close()
    }
  }, 120_000)

  it('stop kills the whole process group; delete forgets the endpoint', async () => {
    const pid = svc.get('churn').endpoint.variants[0].pid!
    const { endpoint } = await svc.stop('churn')
    expect(endpoint.state).toBe('stopped')
    expect(isAlive(pid)).toBe(false)
    expect((await call(endpoint.url, endpoint.token, rows([1]))).status).toBe(503)
    await svc.delete('churn')
    expect(svc.list().map((x) => x.name)).not.toContain('churn')
    h.registry.deleteVersion('churn', v1, alice) // nothing serves it now
  }, 60_000)
})
