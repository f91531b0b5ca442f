/**
 * Conformance with MLflow's REST API 2.0 (mlflow/protos/service.proto, mlflow/server/handlers.py):
 * request and response shapes, error codes and statuses, over real HTTP and a real SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import Database from 'better-sqlite3'
import { createTrackingHarness, type TrackingHarness } from './testing'

let h: TrackingHarness
beforeAll(async () => {
  h = await createTrackingHarness()
})
afterAll(async () => {
  await h?.cleanup()
})

const INFO_KEYS = ['artifact_uri', 'end_time', 'experiment_id', 'lifecycle_stage', 'run_id', 'run_name', 'run_uuid', 'start_time', 'status', 'user_id']

async function newExperiment(name: string, tags?: { key: string; value: string }[]): Promise<string> {
  const r = await h.api('POST', 'experiments/create', { name, tags })
  expect(r.status).toBe(200)
  return r.body.experiment_id
}

async function newRun(experimentId: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await h.api('POST', 'runs/create', { experiment_id: experimentId, start_time: Date.now(), user_id: 'ada', ...extra })
  expect(r.status).toBe(200)
  return r.body.run
}

function countRows(table: string): number {
  return (h.db.prepare(`SELECT count(*) n FROM ${table}`).get() as { n: number }).n
}

describe('MLflow REST: experiments', () => {
  it('has the Default experiment with id "0"', async () => {
    const r = await h.api('GET', 'experiments/get', { experiment_id: '0' })
    expect(r.status).toBe(200)
    expect(r.body.experiment).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active', artifact_location: 'mlflow-artifacts:/0' })
    expect(typeof r.body.experiment.creation_time).toBe('number')
    expect(typeof r.body.experiment.last_update_time).toBe('number')
  })

  it('creates, gets by id and by name, and refuses duplicates and bad names', async () => {
    const id = await newExperiment('exp-a', [{ key: 'team', value: 'vision' }])
    expect(id).toMatch(/^\d+$/)
    const got = await h.api('GET', 'experiments/get', { experiment_id: id })
    expect(got.body.experiment).toMatchObject({ experiment_id: id, name: 'exp-a', artifact_location: `mlflow-artifacts:/${id}`, tags: [{ key: 'team', value: 'vision' }] })
    const byName = await h.api('GET', 'experiments/get-by-name', { experiment_name: 'exp-a' })
    expect(byName.body.experiment.experiment_id).toBe(id)

    const dup = await h.api('POST', 'experiments/create', { name: 'exp-a' })
    expect(dup.status).toBe(400)
    expect(dup.body.error_code).toBe('RESOURCE_ALREADY_EXISTS')
    const missing = await h.api('POST', 'experiments/create', {})
    expect(missing).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } })
    expect(missing.body.message).toContain("Missing value for required parameter 'name'")
    const wrongType = await h.api('POST', 'experiments/create', { name: 42 })
    expect(wrongType).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } })
    expect((await h.api('POST', 'experiments/create', { name: '' })).body.error_code).toBe('INVALID_PARAMETER_VALUE')

    const nope = await h.api('GET', 'experiments/get', { experiment_id: '987654' })
    expect(nope).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } })
    expect((await h.api('GET', 'experiments/get-by-name', { experiment_name: 'no such' })).status).toBe(404)
  })

  it('searches by name and tag with =, LIKE and ILIKE, orders, pages and filters by view type', async () => {
    for (const n of ['srch-b', 'srch-a', 'srch-c', 'SRCH-d']) await newExperiment(n, [{ key: 'kind', value: n.endsWith('a') ? 'x' : 'y' }])
    const like = await h.api('POST', 'experiments/search', { filter: "name LIKE 'srch-%'", order_by: ['name ASC'] })
    expect(like.body.experiments.map((e: any) => e.name)).toEqual(['srch-a', 'srch-b', 'srch-c'])
    expect(like.body.next_page_token).toBeUndefined()
    const ilike = await h.api('POST', 'experiments/search', { filter: "name ILIKE 'srch-%'", order_by: ['name DESC'] })
    expect(ilike.body.experiments.map((e: any) => e.name)).toEqual(['srch-c', 'srch-b', 'srch-a', 'SRCH-d'])
    const tag = await h.api('POST', 'experiments/search', { filter: "tags.kind = 'x' and name LIKE 'srch%'" })
    expect(tag.body.experiments.map((e: any) => e.name)).toEqual(['srch-a'])

    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await h.api('POST', 'experiments/search', { filter: "name ILIKE 'srch-%'", order_by: ['name ASC'], max_results: 3, page_token: token })
      expect(page.status).toBe(200)
      seen.push(...page.body.experiments.map((e: any) => e.name))
      token = page.body.next_page_token
      pages++
    } while (token)
    expect(pages).toBe(2)
    expect(seen).toEqual(['SRCH-d', 'srch-a', 'srch-b', 'srch-c'])

    const id = (await h.api('GET', 'experiments/get-by-name', { experiment_name: 'srch-c' })).body.experiment.experiment_id
    await h.api('POST', 'experiments/delete', { experiment_id: id })
    const active = await h.api('GET', 'experiments/search', { filter: "name LIKE 'srch-%'" })
    expect(active.body.experiments.map((e: any) => e.name).sort()).toEqual(['srch-a', 'srch-b'])
    const deleted = await h.api('POST', 'experiments/search', { filter: "name LIKE 'srch-%'", view_type: 'DELETED_ONLY' })
    expect(deleted.body.experiments.map((e: any) => e.name)).toEqual(['srch-c'])
    const all = await h.api('POST', 'experiments/search', { filter: "name LIKE 'srch-%'", view_type: 'ALL' })
    expect(all.body.experiments).toHaveLength(3)

    expect((await h.api('POST', 'experiments/search', { max_results: 50_001 })).body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await h.api('POST', 'experiments/search', { filter: 'name =' })).body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await h.api('POST', 'experiments/search', { page_token: 'garbage!!' })).status).toBe(400)
  })

  it('renames, tags, soft-deletes with its runs and restores them', async () => {
    const id = await newExperiment('to-rename')
    expect((await h.api('POST', 'experiments/update', { experiment_id: id, new_name: 'renamed' })).status).toBe(200)
    expect((await h.api('GET', 'experiments/get', { experiment_id: id })).body.experiment.name).toBe('renamed')
    expect((await h.api('POST', 'experiments/update', { experiment_id: id, new_name: 'exp-a' })).body.error_code).toBe('RESOURCE_ALREADY_EXISTS')
    expect((await h.api('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'note', value: 'hi' })).status).toBe(200)
    expect((await h.api('GET', 'experiments/get', { experiment_id: id })).body.experiment.tags).toEqual([{ key: 'note', value: 'hi' }])

    const before = await newRun(id)
    const withExp = await newRun(id)
    await h.api('POST', 'runs/delete', { run_id: before.info.run_id })
    expect((await h.api('POST', 'experiments/delete', { experiment_id: id })).status).toBe(200)
    const e = (await h.api('GET', 'experiments/get', { experiment_id: id })).body.experiment
    expect(e.lifecycle_stage).toBe('deleted')
    expect((await h.api('GET', 'runs/get', { run_id: withExp.info.run_id })).body.run.info.lifecycle_stage).toBe('deleted')
    const inDeleted = await h.api('POST', 'runs/create', { experiment_id: id, start_time: 1 })
    expect(inDeleted).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } })
    const recreate = await h.api('POST', 'experiments/create', { name: 'renamed' })
    expect(recreate.body.error_code).toBe('RESOURCE_ALREADY_EXISTS')

    expect((await h.api('POST', 'experiments/restore', { experiment_id: id })).status).toBe(200)
    expect((await h.api('GET', 'experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('active')
    expect((await h.api('GET', 'runs/get', { run_id: withExp.info.run_id })).body.run.info.lifecycle_stage).toBe('active')
    // a run deleted on its own before stays deleted
    expect((await h.api('GET', 'runs/get', { run_id: before.info.run_id })).body.run.info.lifecycle_stage).toBe('deleted')

    expect((await h.api('POST', 'experiments/delete', { experiment_id: '0' })).body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await h.api('POST', 'experiments/delete', { experiment_id: '55555' })).status).toBe(404)
  })
  it('a run deleted on its own in the same millisecond as its experiment stays deleted on restore', async () => {
    const id = (await h.api('POST', 'experiments/create', { name: 'same-ms' })).body.experiment_id
    const alone = await newRun(id)
    const withExp = await newRun(id)
    const clock = vi.spyOn(Date, 'now').mockReturnValue(1_900_000_000_000)
    try {
      await h.api('POST', 'runs/delete', { run_id: alone.info.run_id })
      expect((await h.api('POST', 'experiments/delete', { experiment_id: id })).status).toBe(200)
    } finally {
      clock.mockRestore()
    }
    expect((await h.api('POST', 'experiments/restore', { experiment_id: id })).status).toBe(200)
    expect((await h.api('GET', 'runs/get', { run_id: withExp.info.run_id })).body.run.info.lifecycle_stage).toBe('active')
    expect((await h.api('GET', 'runs/get', { run_id: alone.info.run_id })).body.run.info.lifecycle_stage).toBe('deleted')
  })
})

describe('MLflow REST: runs', () => {
  it('creates a run with exactly MLflow’s Run shape', async () => {
    const exp = await newExperiment('shape')
    const run = await newRun(exp, { run_name: 'first', start_time: 1_700_000_000_123, tags: [{ key: 'mlflow.source.name', value: 'train.py' }] })
    expect(Object.keys(run).sort()).toEqual(['data', 'info', 'inputs'])
    expect(Object.keys(run.info).sort()).toEqual(INFO_KEYS.filter((k) => k !== 'end_time'))
    expect(run.info).toMatchObject({
      experiment_id: exp,
      run_name: 'first',
      user_id: 'ada',
      status: 'RUNNING',
      start_time: 1_700_000_000_123,
      lifecycle_stage: 'active',
      artifact_uri: `mlflow-artifacts:/${exp}/${run.info.run_id}/artifacts`
    })
    expect(run.info.run_id).toMatch(/^[0-9a-f]{32}$/)
    expect(run.info.run_uuid).toBe(run.info.run_id)
    expect(run.data.metrics).toEqual([])
    expect(run.data.params).toEqual([])
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'mlflow.runName', value: 'first' }, { key: 'mlflow.source.name', value: 'train.py' }]))
    expect(run.inputs).toEqual({ dataset_inputs: [] })

    const generated = await newRun(exp)
    expect(generated.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d+$/)
    const clash = await h.api('POST', 'runs/create', { experiment_id: exp, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] })
    expect(clash.body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await h.api('POST', 'runs/create', { experiment_id: '424242' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST')
  })

  it('gets, updates, deletes and restores runs', async () => {
    const exp = await newExperiment('lifecycle')
    const run = await newRun(exp)
    const id = run.info.run_id
    const upd = await h.api('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: 1_700_000_999_000, run_name: 'done' })
    expect(upd.status).toBe(200)
    expect(upd.body.run_info).toMatchObject({ run_id: id, status: 'FINISHED', end_time: 1_700_000_999_000, run_name: 'done' })
    const got = (await h.api('GET', 'runs/get', { run_id: id })).body.run
    expect(Object.keys(got.info).sort()).toEqual(INFO_KEYS)
    expect(got.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'done' })
    expect((await h.api('GET', 'runs/get', { run_uuid: id })).status).toBe(200)
    expect((await h.api('POST', 'runs/update', { run_id: id, status: 'DONE' })).body.error_code).toBe('INVALID_PARAMETER_VALUE')

    expect((await h.api('POST', 'runs/delete', { run_id: id })).body).toEqual({})
    expect((await h.api('GET', 'runs/get', { run_id: id })).body.run.info.lifecycle_stage).toBe('deleted')
    const logDeleted = await h.api('POST', 'runs/log-metric', { run_id: id, key: 'x', value: 1, timestamp: 1 })
    expect(logDeleted).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } })
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp] })).body.runs).toHaveLength(0)
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' })).body.runs).toHaveLength(1)
    expect((await h.api('POST', 'runs/restore', { run_id: id })).status).toBe(200)
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp] })).body.runs).toHaveLength(1)

    const missing = await h.api('GET', 'runs/get', { run_id: 'f'.repeat(32) })
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } })
    expect((await h.api('GET', 'runs/get', {})).body.message).toContain("'run_id'")
  })

  it('logs metrics (NaN and ±Infinity as strings), params and tags one at a time', async () => {
    const run = await newRun('0')
    const id = run.info.run_id
    for (const [step, value] of [[0, 0.5], [2, 0.9], [1, 0.7]] as const) {
      expect((await h.api('POST', 'runs/log-metric', { run_id: id, key: 'acc', value, timestamp: 1000 + step, step })).status).toBe(200)
    }
    await h.api('POST', 'runs/log-metric', { run_id: id, key: 'odd', value: 'NaN', timestamp: 5, step: 0 })
    await h.api('POST', 'runs/log-metric', { run_id: id, key: 'big', value: 'Infinity', timestamp: '6' })
    await h.api('POST', 'runs/log-metric', { run_id: id, key: 'small', value: '-Infinity', timestamp: 7, step: '3' })
    expect((await h.api('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' })).status).toBe(200)
    expect((await h.api('POST', 'runs/set-tag', { run_id: id, key: 'team', value: 'x' })).status).toBe(200)

    const data = (await h.api('GET', 'runs/get', { run_id: id })).body.run.data
    const m = Object.fromEntries(data.metrics.map((x: any) => [x.key, x]))
    expect(m.acc).toEqual({ key: 'acc', value: 0.9, timestamp: 1002, step: 2 })
    expect(m.odd.value).toBe('NaN')
    expect(m.big).toEqual({ key: 'big', value: 'Infinity', timestamp: 6, step: 0 })
    expect(m.small.value).toBe('-Infinity')
    expect(data.params).toEqual([{ key: 'lr', value: '0.1' }])
    expect(data.tags).toContainEqual({ key: 'team', value: 'x' })

    // re-logging the same param value is fine; a different one is not
    expect((await h.api('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' })).status).toBe(200)
    const changed = await h.api('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.2' })
    expect(changed).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } })

    for (const bad of [{ value: 'abc' }, { value: true }, { value: null }, { value: {} }]) {
      const r = await h.api('POST', 'runs/log-metric', { run_id: id, key: 'bad', timestamp: 1, ...bad })
      expect(r).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } })
    }
    const noTs = await h.api('POST', 'runs/log-metric', { run_id: id, key: 'bad', value: 1 })
    expect(noTs.body.message).toContain("Missing value for required parameter 'timestamp'")
    expect((await h.api('POST', 'runs/log-metric', { run_id: id, key: 'bad', value: 1, timestamp: 1.5 })).status).toBe(400)
    expect((await h.api('POST', 'runs/log-metric', { run_id: id, key: '../x', value: 1, timestamp: 1 })).status).toBe(400)
    expect((await h.api('POST', 'runs/log-metric', { run_id: id, key: 'a*b', value: 1, timestamp: 1 })).status).toBe(400)
    expect(h.db.prepare("SELECT count(*) n FROM tracking_metrics WHERE key IN ('bad', '../x', 'a*b')").get()).toEqual({ n: 0 })

    expect((await h.api('POST', 'runs/delete-tag', { run_id: id, key: 'team' })).status).toBe(200)
    expect((await h.api('POST', 'runs/delete-tag', { run_id: id, key: 'team' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST')
    const unknownRun = await h.api('POST', 'runs/log-metric', { run_id: 'a'.repeat(32), key: 'x', value: 1, timestamp: 1 })
    expect(unknownRun).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } })
  })

  it('log-batch: enforces MLflow’s limits and writes all or nothing', async () => {
    const run = await newRun('0')
    const id = run.info.run_id
    const metrics = (n: number, key = 'loss') => Array.from({ length: n }, (_, i) => ({ key, value: 1 / (i + 1), timestamp: 1000 + i, step: i }))
    const kvs = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: String(i) }))
    const before = { m: countRows('tracking_metrics'), p: countRows('tracking_params'), t: countRows('tracking_run_tags') }
    const rejected = [
      { metrics: metrics(1001) },
      { params: kvs(101, 'p') },
      { tags: kvs(101, 't') },
      { metrics: metrics(801), params: kvs(100, 'p'), tags: kvs(100, 't') },
      { metrics: [...metrics(10), { key: 'bad', value: 'oops', timestamp: 1, step: 0 }], params: kvs(3, 'p') },
      { metrics: metrics(10), params: [{ key: 'same', value: '1' }, { key: 'same', value: '2' }] },
      { metrics: metrics(10), params: kvs(2, 'p'), tags: [{ key: '/abs', value: 'x' }] },
      { metrics: 'not an array' }
    ]
    for (const body of rejected) {
      const r = await h.api('POST', 'runs/log-batch', { run_id: id, ...body })
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect(r.body.error_code).toBe('INVALID_PARAMETER_VALUE')
    }
    expect({ m: countRows('tracking_metrics'), p: countRows('tracking_params'), t: countRows('tracking_run_tags') }).toEqual(before)
    const named = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: [...metrics(10), { key: 'bad', value: 'oops', timestamp: 1 }] })
    expect(named.body.message).toContain(`Invalid value "oops" for parameter 'metrics.10.value'`)
    const missing = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: [{ key: 'k', value: 1 }] })
    expect(missing.body.message).toContain("Missing value for required parameter 'metrics.0.timestamp'")
    for (const bad of ['oops', { key: 'k' }, null]) {
      const notList = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: bad })
      expect(notList.status).toBe(400)
      expect(notList.body.message).toContain("for parameter 'metrics' supplied: expected an array of metrics")
    }
    const stringForms = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: [{ key: 'strs', value: '1.5', timestamp: '7', step: '3' }] })
    expect(stringForms.status).toBe(200)
    expect((h.db.prepare("SELECT step, timestamp, value FROM tracking_metrics WHERE key = 'strs'").get() as object)).toEqual({ step: 3, timestamp: 7, value: 1.5 })

    const ok = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: metrics(1000), params: kvs(0, 'p'), tags: [] })
    expect(ok).toEqual({ status: 200, body: {} })
    const mixed = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: metrics(800, 'acc'), params: kvs(100, 'p'), tags: kvs(100, 't') })
    expect(mixed.status).toBe(200)
    // a param conflict anywhere rolls back the whole batch, metrics included
    const conflict = await h.api('POST', 'runs/log-batch', { run_id: id, metrics: metrics(5, 'after'), params: [{ key: 'p1', value: 'changed' }] })
    expect(conflict.body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect(h.db.prepare("SELECT count(*) n FROM tracking_metrics WHERE key = 'after'").get()).toEqual({ n: 0 })
    const unknown = await h.api('POST', 'runs/log-batch', { run_id: '0'.repeat(32), metrics: metrics(3) })
    expect(unknown.status).toBe(404)

    const data = (await h.api('GET', 'runs/get', { run_id: id })).body.run.data
    expect(data.params).toHaveLength(100)
    expect(data.metrics).toContainEqual({ key: 'loss', value: 1 / 1000, timestamp: 1999, step: 999 })
  })

  it('log-batch: interleaved keys, non-finite values and a retried batch store each point once', async () => {
    const run = await newRun('0')
    const id = run.info.run_id
    // as mlflow.log_metrics({...}, step) sends them: keys interleaved step by step
    const metrics: { key: string; value: number | string; timestamp: number; step: number }[] = []
    for (let step = 0; step < 300; step++) {
      metrics.push({ key: 'loss', value: step === 7 ? 'NaN' : 1 / (step + 1), timestamp: 100 + step, step })
      metrics.push({ key: 'acc', value: step === 9 ? 'Infinity' : step / 300, timestamp: 100 + step, step })
      if (step % 100 === 0) metrics.push({ key: 'lr', value: 0.1, timestamp: 100 + step, step })
    }
    expect(metrics).toHaveLength(603)
    for (let attempt = 0; attempt < 2; attempt++) expect((await h.api('POST', 'runs/log-batch', { run_id: id, metrics })).status).toBe(200)
    const rows = (key: string) =>
      h.db.prepare('SELECT step, value, is_nan FROM tracking_metrics m JOIN tracking_runs r ON r.id = m.run_id WHERE r.run_uuid = ? AND key = ? ORDER BY step').all(id, key) as {
        step: number
        value: number
        is_nan: number
      }[]
    const loss = rows('loss')
    expect(loss).toHaveLength(300)
    expect(loss[7]).toEqual({ step: 7, value: 0, is_nan: 1 })
    expect(loss[299]).toEqual({ step: 299, value: 1 / 300, is_nan: 0 })
    expect(rows('acc')[9]).toEqual({ step: 9, value: Infinity, is_nan: 0 })
    expect(rows('lr').map((r) => r.step)).toEqual([0, 100, 200])
    const hist = await h.api('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss' })
    expect(hist.body.metrics[7]).toEqual({ key: 'loss', value: 'NaN', timestamp: 107, step: 7 })
    const latest = (await h.api('GET', 'runs/get', { run_id: id })).body.run.data.metrics
    expect(latest).toContainEqual({ key: 'acc', value: 299 / 300, timestamp: 399, step: 299 })
  })

  it('metrics/get-history pages through a series in step order', async () => {
    const run = await newRun('0')
    const id = run.info.run_id
    for (let b = 0; b < 3; b++) {
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: b * 1000 + i, timestamp: 5000 + b * 1000 + i, step: b * 1000 + i }))
      expect((await h.api('POST', 'runs/log-batch', { run_id: id, metrics: b === 2 ? metrics.slice(0, 500).reverse() : metrics })).status).toBe(200)
    }
    const all = await h.api('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss' })
    expect(all.body.metrics).toHaveLength(2500)
    expect(all.body.next_page_token).toBeUndefined()
    expect(all.body.metrics[0]).toEqual({ key: 'loss', value: 0, timestamp: 5000, step: 0 })
    const steps: number[] = []
    let token: string | undefined
    let pages = 0
    do {
      const r = await h.api('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 1000, page_token: token })
      expect(r.status).toBe(200)
      steps.push(...r.body.metrics.map((m: any) => m.step))
      token = r.body.next_page_token
      pages++
    } while (token)
    expect(pages).toBe(3)
    expect(steps).toEqual(Array.from({ length: 2500 }, (_, i) => i))
    expect((await h.api('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 25_001 })).status).toBe(400)
    expect((await h.api('GET', 'metrics/get-history', { run_id: id })).body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await h.api('GET', 'metrics/get-history', { run_id: id, metric_key: 'none' })).body).toEqual({ metrics: [] })
  })

  it('runs/log-model appends to the mlflow.log-model.history tag', async () => {
    const run = await newRun('0')
    const model = { artifact_path: 'model', flavors: { python_function: {} }, run_id: run.info.run_id }
    expect((await h.api('POST', 'runs/log-model', { run_id: run.info.run_id, model_json: JSON.stringify(model) })).status).toBe(200)
    await h.api('POST', 'runs/log-model', { run_id: run.info.run_id, model_json: JSON.stringify({ ...model, artifact_path: 'm2' }) })
    const tags = (await h.api('GET', 'runs/get', { run_id: run.info.run_id })).body.run.data.tags
    const history = JSON.parse(tags.find((t: any) => t.key === 'mlflow.log-model.history').value)
    expect(history.map((m: any) => m.artifact_path)).toEqual(['model', 'm2'])
    expect((await h.api('POST', 'runs/log-model', { run_id: run.info.run_id, model_json: '{nope' })).status).toBe(400)
  })

  it('log-inputs records datasets with their tags', async () => {
    const run = await newRun('0')
    const dataset = { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "/data/iris.csv"}', schema: '{"mlflow_colspec": []}' }
    const r = await h.api('POST', 'runs/log-inputs', { run_id: run.info.run_id, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset }] })
    expect(r.status).toBe(200)
    const got = (await h.api('GET', 'runs/get', { run_id: run.info.run_id })).body.run
    expect(got.inputs.dataset_inputs).toEqual([{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset }])
    const search = await h.api('POST', 'runs/search', { experiment_ids: ['0'], filter: "dataset.name = 'iris' and dataset.context = 'train'" })
    expect(search.body.runs.map((x: any) => x.info.run_id)).toEqual([run.info.run_id])
    const bad = await h.api('POST', 'runs/log-inputs', { run_id: run.info.run_id, datasets: [{ dataset: { name: 'x' } }] })
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE')
  })
})

describe('MLflow REST: the HTTP surface', () => {
  it('needs the bearer token (401 without, 403 wrong) and answers unknown endpoints with ENDPOINT_NOT_FOUND', async () => {
    const none = await fetch(`${h.base}/api/2.0/mlflow/experiments/get?experiment_id=0`)
    expect(none.status).toBe(401)
    expect((await none.json()).error_code).toBe('UNAUTHENTICATED')
    const wrong = await fetch(`${h.base}/api/2.0/mlflow/experiments/get?experiment_id=0`, { headers: { Authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(403)
    const unknown = await h.api('POST', 'runs/frobnicate', {})
    expect(unknown).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } })
    const method = await h.api('GET', 'runs/create', {})
    expect(method.status).toBe(405)
    const ajax = await fetch(`${h.base}/ajax-api/2.0/mlflow/experiments/get?experiment_id=0`, { headers: { Authorization: `Bearer ${h.token}` } })
    expect((await ajax.json()).experiment.name).toBe('Default')
    const { get } = await import('node:http')
    const rebinding = await new Promise<number>((res) =>
      get({ host: '127.0.0.1', port: h.server.port, path: '/api/2.0/mlflow/experiments/get?experiment_id=0', headers: { Host: 'evil.example', Authorization: `Bearer ${h.token}` } }, (r) =>
        res(r.statusCode!)
      )
    )
    expect(rebinding).toBe(403)
    const junk = await fetch(`${h.base}/api/2.0/mlflow/runs/create`, { method: 'POST', body: '{nope', headers: { Authorization: `Bearer ${h.token}` } })
    expect(junk.status).toBe(400)
    const arr = await fetch(`${h.base}/api/2.0/mlflow/runs/create`, { method: 'POST', body: '[1]', headers: { Authorization: `Bearer ${h.token}` } })
    expect((await arr.json()).error_code).toBe('INVALID_PARAMETER_VALUE')
  })

  it('keeps every acknowledged write on disk, visible to a second connection', async () => {
    const run = await newRun('0')
    await h.api('POST', 'runs/log-batch', { run_id: run.info.run_id, metrics: [{ key: 'k', value: 1, timestamp: 1, step: 1 }] })
    const other = new Database(h.dbFile, { readonly: true })
    try {
      expect(other.prepare('SELECT count(*) n FROM tracking_metrics m JOIN tracking_runs r ON r.id = m.run_id WHERE r.run_uuid = ?').get(run.info.run_id)).toEqual({ n: 1 })
    } finally {
      other.close()
    }
  })
})

describe('MLflow REST: keys, timestamps and int64 steps as MLflow takes them', () => {
  const rawApi = async (method: 'GET' | 'POST', endpoint: string, text?: string, query = '') => {
    const r = await fetch(`${h.base}/api/2.0/mlflow/${endpoint}${query}`, {
      method,
      headers: { Authorization: `Bearer ${h.token}`, 'Content-Type': 'application/json' },
      ...(text !== undefined ? { body: text } : {})
    })
    return { status: r.status, text: await r.text() }
  }

  it('refuses a negative metric timestamp with INVALID_PARAMETER_VALUE, as MLflow does', async () => {
    const run = await newRun('0')
    const one = await h.api('POST', 'runs/log-metric', { run_id: run.info.run_id, key: 'loss', value: 1, timestamp: -1, step: 0 })
    expect(one.status).toBe(400)
    expect(one.body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect(one.body.message).toContain('Timestamp must be a nonnegative long (64-bit integer)')
    const batch = await h.api('POST', 'runs/log-batch', { run_id: run.info.run_id, metrics: [{ key: 'loss', value: 1, timestamp: -5, step: 0 }] })
    expect(batch.body.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await h.api('GET', 'metrics/get-history', { run_id: run.info.run_id, metric_key: 'loss' })).body).toEqual({ metrics: [] })
    // Negative steps stay allowed (MLflow only requires a long).
    expect((await h.api('POST', 'runs/log-metric', { run_id: run.info.run_id, key: 'loss', value: 1, timestamp: 0, step: -3 })).status).toBe(200)
  })

  it('accepts Unicode keys as Python’s \\w does, with / - . space and :, and still refuses path tricks', async () => {
    const run = await newRun('0')
    const id = run.info.run_id
    const good = ['ü', '損失', 'précision_k', 'Größe_1', 'train/loss', 'val-loss', 'lr.0', 'top 5', 'a:b', 'λ']
    for (const key of good) {
      expect((await h.api('POST', 'runs/log-parameter', { run_id: id, key, value: '1' })).status, key).toBe(200)
      expect((await h.api('POST', 'runs/log-metric', { run_id: id, key, value: 1, timestamp: 1 })).status, key).toBe(200)
      expect((await h.api('POST', 'runs/set-tag', { run_id: id, key, value: 'x' })).status, key).toBe(200)
    }
    const got = (await h.api('GET', 'runs/get', { run_id: id })).body.run.data
    expect(got.params.map((p: any) => p.key).sort()).toEqual([...good].sort())
    for (const key of ['../x', 'a/../b', '/abs', 'a/', './a', '..', 'a//b', 'tab\tkey', 'semi;colon', 'quote"', 'back\\slash']) {
      const r = await h.api('POST', 'runs/log-parameter', { run_id: id, key, value: '1' })
      expect(r.status, key).toBe(400)
      expect(r.body.error_code, key).toBe('INVALID_PARAMETER_VALUE')
    }
  })

  it('stores steps beyond 2^53 up to int64 max exactly and returns every digit from get-history and runs/get', async () => {
    const run = await newRun('0')
    const id = run.info.run_id
    const steps = ['9007199254740993', '9223372036854775807', '-9223372036854775808', '12345678901234567890'.slice(0, 19)]
    const batch = `{"run_id": "${id}", "metrics": [${steps.map((s, i) => `{"key": "big", "value": ${i}.5, "timestamp": 1700000000000, "step": ${s}}`).join(', ')}]}`
    expect((await rawApi('POST', 'runs/log-batch', batch)).status).toBe(200)
    expect((await rawApi('POST', 'runs/log-metric', `{"run_id": "${id}", "key": "one", "value": 1, "timestamp": 1, "step": 9007199254740995}`)).status).toBe(200)
    // Stored as SQLite INTEGERs, exactly.
    const stored = h.db
      .prepare("SELECT CAST(m.step AS TEXT) AS s, typeof(m.step) AS t FROM tracking_metrics m JOIN tracking_runs r ON r.id = m.run_id WHERE r.run_uuid = ? AND m.key = 'big' ORDER BY m.step")
      .all(id) as { s: string; t: string }[]
    expect(stored.map((r) => r.t)).toEqual(['integer', 'integer', 'integer', 'integer'])
    expect(stored.map((r) => r.s)).toEqual([...steps].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)))
    // Read back through get-history: JSON numbers with every digit.
    const hist = await rawApi('GET', 'metrics/get-history', undefined, `?run_id=${id}&metric_key=big`)
    expect(hist.status).toBe(200)
    for (const s of steps) expect(hist.text).toContain(`"step":${s}`)
    const parsed = JSON.parse(hist.text.replace(/"step":(-?\d+)/g, '"step":"$1"'))
    expect(parsed.metrics.map((m: any) => m.step)).toEqual(stored.map((r) => r.s))
    const latest = await rawApi('GET', 'runs/get', undefined, `?run_id=${id}`)
    expect(latest.text).toContain('"step":9223372036854775807')
    expect(latest.text).toContain('"step":9007199254740995')
    // Beyond int64: refused.
    const over = await rawApi('POST', 'runs/log-metric', `{"run_id": "${id}", "key": "one", "value": 1, "timestamp": 1, "step": 9223372036854775808}`)
    expect(over.status).toBe(400)
    expect(JSON.parse(over.text).error_code).toBe('INVALID_PARAMETER_VALUE')
    // Small steps still come back as ordinary numbers, and the UI's series still reads.
    expect((await h.api('GET', 'metrics/get-history', { run_id: id, metric_key: 'one' })).body.metrics[0].step).toBe(9007199254740995)
  })
})
