/** runs/search with MLflow's filter and order_by syntax, and the parser on its own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseFilter, parseOrderBy } from './filter'
import { likeToGlob } from './sqlFilter'
import { createTrackingHarness, type TrackingHarness } from './testing'

let h: TrackingHarness
let exp: string
const ids: Record<string, string> = {}

// name, model, acc, val loss, team, status, start
const RUNS: [string, string, number | null, number, string, string, number][] = [
  ['r1', 'rf', 0.95, 0.2, 'x', 'FINISHED', 1000],
  ['r2', 'rf', 0.85, 0.4, 'y', 'FINISHED', 2000],
  ['r3', 'xgb', 0.97, 0.1, 'x', 'FAILED', 3000],
  ['r4', 'xgb', 0.91, 0.3, 'X', 'RUNNING', 4000],
  ['r5', 'lin', null, 0.9, 'y', 'FINISHED', 5000],
  ['rx6', 'rf', 0.99, 0.05, 'z', 'KILLED', 6000]
]

beforeAll(async () => {
  h = await createTrackingHarness()
  exp = (await h.api('POST', 'experiments/create', { name: 'search' })).body.experiment_id
  for (const [name, model, acc, val, team, status, start] of RUNS) {
    const run = (await h.api('POST', 'runs/create', { experiment_id: exp, run_name: name, start_time: start })).body.run
    ids[name] = run.info.run_id
    const metrics = [{ key: 'val loss', value: val, timestamp: start, step: 0 }]
    if (acc !== null) metrics.push({ key: 'acc', value: acc, timestamp: start, step: 1 }, { key: 'acc', value: 0.01, timestamp: start, step: 0 })
    await h.api('POST', 'runs/log-batch', { run_id: run.info.run_id, metrics, params: [{ key: 'model', value: model }], tags: [{ key: 'team', value: team }] })
    await h.api('POST', 'runs/update', { run_id: run.info.run_id, status, end_time: start + 500 })
  }
})
afterAll(async () => {
  await h?.cleanup()
})

async function names(filter: string, order_by?: string[]): Promise<string[]> {
  const r = await h.api('POST', 'runs/search', { experiment_ids: [exp], filter, order_by })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.runs.map((x: any) => x.info.run_name)
}

describe('runs/search filters', () => {
  it('combines metric, param, tag and attribute clauses with AND', async () => {
    expect(await names("metrics.acc > 0.9 and params.model = 'rf'")).toEqual(['rx6', 'r1'])
    expect(await names("metrics.acc > 0.9 and params.model = 'rf' and tags.team = 'x' and attributes.status = 'FINISHED'")).toEqual(['r1'])
    expect(await names('metrics.acc >= 0.97')).toEqual(['rx6', 'r3'])
    expect(await names('metrics.acc = 0.85')).toEqual(['r2'])
    expect(await names('metrics.acc != 0.85')).toEqual(['rx6', 'r4', 'r3', 'r1'])
    expect(await names('metrics.acc <= 0.01')).toEqual([]) // the latest value (max step) counts, not history
  })

  it('accepts backticked and quoted keys, unprefixed attributes and numeric attributes', async () => {
    expect(await names('metrics.`val loss` < 0.15')).toEqual(['rx6', 'r3'])
    expect(await names('metrics."val loss" < 0.15')).toEqual(['rx6', 'r3'])
    expect(await names("run_name = 'r2'")).toEqual(['r2'])
    expect(await names("`run_name` = 'r2'")).toEqual(['r2'])
    expect(await names('attributes.start_time > 3500')).toEqual(['rx6', 'r5', 'r4'])
    expect(await names('attributes.end_time <= 2500')).toEqual(['r2', 'r1'])
    expect(await names(`attributes.run_id = '${ids.r3}'`)).toEqual(['r3'])
  })

  it('supports LIKE (case-sensitive), ILIKE, IN, NOT IN, != and IS NULL', async () => {
    expect(await names("tags.team LIKE 'x%'")).toEqual(['r3', 'r1'])
    expect(await names("tags.team ILIKE 'x%'")).toEqual(['r4', 'r3', 'r1'])
    expect(await names("attributes.run_name LIKE 'r_'")).toEqual(['r5', 'r4', 'r3', 'r2', 'r1'])
    expect(await names("run_name LIKE 'r%6'")).toEqual(['rx6'])
    expect(await names("params.model IN ('xgb', 'lin')")).toEqual(['r5', 'r4', 'r3'])
    expect(await names("attributes.status NOT IN ('FINISHED', 'FAILED')")).toEqual(['rx6', 'r4'])
    expect(await names(`attributes.run_id IN ('${ids.r1}', '${ids.r5}')`)).toEqual(['r5', 'r1'])
    expect(await names("params.model != 'rf'")).toEqual(['r5', 'r4', 'r3'])
    expect(await names('metrics.acc IS NULL')).toEqual(['r5'])
    expect(await names("tags.team = 'x' AND params.model LIKE '%g%'")).toEqual(['r3'])
  })

  it('orders by metrics (missing last), params and attributes, with start_time DESC by default', async () => {
    expect(await names('', ['metrics.acc DESC'])).toEqual(['rx6', 'r3', 'r1', 'r4', 'r2', 'r5'])
    expect(await names('', ['metrics.acc ASC'])).toEqual(['r2', 'r4', 'r1', 'r3', 'rx6', 'r5'])
    expect(await names('', ['attributes.start_time'])).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'rx6'])
    expect(await names('', ['params.model ASC', 'metrics.`val loss` DESC'])).toEqual(['r5', 'r2', 'r1', 'rx6', 'r4', 'r3'])
    expect(await names('')).toEqual(['rx6', 'r5', 'r4', 'r3', 'r2', 'r1'])
  })

  it('pages with max_results and page_token, omitting next_page_token on the last page', async () => {
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const r = await h.api('POST', 'runs/search', { experiment_ids: [exp], order_by: ['metrics.acc DESC'], max_results: 4, page_token: token })
      seen.push(...r.body.runs.map((x: any) => x.info.run_name))
      token = r.body.next_page_token
      pages++
    } while (token)
    expect(pages).toBe(2)
    expect(seen).toEqual(['rx6', 'r3', 'r1', 'r4', 'r2', 'r5'])
    const exact = await h.api('POST', 'runs/search', { experiment_ids: [exp], max_results: 6 })
    expect(exact.body.next_page_token).toBeUndefined()
  })

  it('returns every run with its latest metrics, params and tags in MLflow’s shape', async () => {
    const r = await h.api('POST', 'runs/search', { experiment_ids: [exp], filter: "run_name = 'r1'" })
    expect(Object.keys(r.body)).toEqual(['runs'])
    const run = r.body.runs[0]
    expect(run.data.metrics.sort((a: any, b: any) => a.key.localeCompare(b.key))).toEqual([
      { key: 'acc', value: 0.95, timestamp: 1000, step: 1 },
      { key: 'val loss', value: 0.2, timestamp: 1000, step: 0 }
    ])
    expect(run.data.params).toEqual([{ key: 'model', value: 'rf' }])
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'x' }]))
    expect(run.inputs).toEqual({ dataset_inputs: [] })
    // GET with repeated query parameters works too
    const viaGet = await h.api('GET', 'runs/search', { experiment_ids: [exp, '0'], filter: "run_name = 'r1'" })
    expect(viaGet.body.runs).toHaveLength(1)
  })

  it('rejects malformed filters and arguments with INVALID_PARAMETER_VALUE', async () => {
    for (const filter of [
      'metrics.acc >',
      "metrics.acc > 'high'",
      'params.model = rf',
      "metrics.acc > 0.9 or params.model = 'rf'",
      "attributes.colour = 'red'",
      "nope.x = 'y'",
      "params.model LIKE 5",
      "tags.t = 'unterminated",
      'metrics.acc > 1 metrics.b > 2'
    ]) {
      const r = await h.api('POST', 'runs/search', { experiment_ids: [exp], filter })
      expect(r.status, filter).toBe(400)
      expect(r.body.error_code, filter).toBe('INVALID_PARAMETER_VALUE')
    }
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp], max_results: 50_001 })).status).toBe(400)
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp], order_by: ['colour DESC'] })).status).toBe(400)
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp], page_token: 'eyJvZmZzZXQiOiAiYSJ9' })).status).toBe(400)
    expect((await h.api('POST', 'runs/search', { experiment_ids: [exp], run_view_type: 'SOME' })).status).toBe(400)
  })
})

describe('filter parser', () => {
  it('parses clauses and identifiers the way MLflow does', () => {
    expect(parseFilter("metrics.acc > 0.9 and params.`my param` = 'a b' AND tags.\"x.y\" ILIKE '%z'")).toEqual([
      { type: 'metric', key: 'acc', comparator: '>', value: 0.9 },
      { type: 'param', key: 'my param', comparator: '=', value: 'a b' },
      { type: 'tag', key: 'x.y', comparator: 'ILIKE', value: '%z' }
    ])
    expect(parseFilter('metrics.val.loss <= -1e-3')).toEqual([{ type: 'metric', key: 'val.loss', comparator: '<=', value: -0.001 }])
    expect(parseFilter("status IN ('A', 'B')")).toEqual([{ type: 'attribute', key: 'status', comparator: 'IN', value: ['A', 'B'] }])
    expect(parseFilter("tags.t = 'it''s'")[0].value).toBe("it's")
    expect(parseFilter('')).toEqual([])
    expect(parseOrderBy('metrics.`a b` DESC')).toEqual({ type: 'metric', key: 'a b', ascending: false })
    expect(parseOrderBy('start_time')).toEqual({ type: 'attribute', key: 'start_time', ascending: true })
    expect(() => parseOrderBy('metrics.a DOWN')).toThrow(/order_by/)
  })

  it('translates LIKE to a case-sensitive GLOB, escaping GLOB metacharacters', () => {
    expect(likeToGlob('a%b_c')).toBe('a*b?c')
    expect(likeToGlob('[x]*?')).toBe('[[]x][*][?]')
  })
})
