/** Downsampled series from the bucket summaries, against the raw points in the same database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type AppDatabase } from '../../db'
import { aggregate } from './buckets'
import { ExperimentStore } from './experiments'
import { RunStore } from './runs'
import { readSeries } from './series'

let root: string
let db: AppDatabase
let runs: RunStore
let runId: number
let uuid: string
const N = 200_000
const SPIKES = new Map([
  [12_345, 40],
  [99_999, -40],
  [150_001, 25]
])
const valueAt = (s: number) => SPIKES.get(s) ?? Math.sin(s / 2000) + ((s * 7919) % 101) / 1000

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'atelier-series-'))
  db = openDatabase(join(root, 'atelier.db'))
  runs = new RunStore(db, new ExperimentStore(db))
  uuid = runs.create({ experimentId: '0', startTime: 1 }).info.run_id
  runId = runs.require(uuid).id
  // written out of order, in batches of 1,000, with a NaN and a retried (duplicate) batch
  const order = Array.from({ length: N / 1000 }, (_, b) => b).reverse()
  for (const b of order) {
    const metrics = Array.from({ length: 1000 }, (_, i) => {
      const step = b * 1000 + i
      return { key: 'loss', value: step === 500 ? NaN : valueAt(step), timestamp: 1_000_000 + step, step }
    })
    runs.logBatch(uuid, metrics, [], [])
    if (b === 42) runs.logBatch(uuid, metrics, [], [])
  }
})
afterAll(() => {
  db.close()
  rmSync(root, { recursive: true, force: true })
})

describe('bucket summaries', () => {
  it('aggregates a batch at every level with exact counts and extremes', () => {
    const aggs = aggregate([
      { key: 'a', value: 3, timestamp: 1, step: 0 },
      { key: 'a', value: -1, timestamp: 2, step: 31 },
      { key: 'a', value: NaN, timestamp: 3, step: 32 },
      { key: 'a', value: 9, timestamp: 4, step: 300 }
    ])
    const l0 = aggs.filter((a) => a.level === 0)
    expect(l0.map((a) => [a.bucket, a.n, a.min?.value ?? null, a.max?.value ?? null])).toEqual([
      [0, 2, -1, 3],
      [1, 1, null, null],
      [9, 1, 9, 9]
    ])
    expect(aggs.filter((a) => a.level === 1).map((a) => [a.bucket, a.n, a.min?.value, a.max?.value])).toEqual([
      [0, 3, -1, 3],
      [1, 1, 9, 9]
    ])
    expect(aggs.filter((a) => a.level === 3).map((a) => a.n)).toEqual([4])
  })

  it('keeps counts exact in the database, also after a retried batch', () => {
    for (const level of [0, 1, 2, 3]) {
      const n = db.prepare('SELECT sum(n) FROM tracking_metric_buckets WHERE run_id = ? AND key = ? AND level = ?').pluck().get(runId, 'loss', level)
      expect(n).toBe(N)
    }
    expect(db.prepare('SELECT count(*) FROM tracking_metrics WHERE run_id = ?').pluck().get(runId)).toBe(N)
  })
})

describe('readSeries', () => {
  it('downsamples a long series from the summaries: exact total, true ends, spikes kept', () => {
    const s = readSeries(db, { runId, key: 'loss', maxPoints: 500 })
    expect(s).toMatchObject({ total: N, downsampled: true })
    expect(s.steps).toHaveLength(500)
    expect(s.steps[0]).toBe(0)
    expect(s.steps[499]).toBe(N - 1)
    for (const [step, v] of SPIKES) {
      const i = s.steps.indexOf(step)
      expect(i, `spike at ${step}`).toBeGreaterThanOrEqual(0)
      expect(s.values[i]).toBe(v)
    }
    for (let i = 1; i < s.steps.length; i++) expect(s.steps[i]).toBeGreaterThan(s.steps[i - 1])
    expect(s.steps).not.toContain(500) // NaN left out
    for (let i = 0; i < s.steps.length; i++) expect(s.values[i]).toBe(valueAt(s.steps[i]))
  })

  it('zooms into an unaligned range with exact edges and count', () => {
    const s = readSeries(db, { runId, key: 'loss', maxPoints: 300, xMin: 10_007, xMax: 150_123 })
    expect(s.total).toBe(150_123 - 10_007 + 1)
    expect(s.steps[0]).toBe(10_007)
    expect(s.steps[s.steps.length - 1]).toBe(150_123)
    expect(s.steps.length).toBe(300)
    expect(s.steps).toContain(12_345)
    expect(Math.min(...s.steps)).toBeGreaterThanOrEqual(10_007)
    expect(Math.max(...s.steps)).toBeLessThanOrEqual(150_123)
  })

  it('returns raw points for short ranges and on request, NaN as null', () => {
    const s = readSeries(db, { runId, key: 'loss', xMin: 495, xMax: 505 })
    expect(s).toMatchObject({ total: 11, downsampled: false })
    expect(s.steps).toEqual(Array.from({ length: 11 }, (_, i) => 495 + i))
    expect(s.values[5]).toBeNull()
    expect(s.timestamps[0]).toBe(1_000_495)
    const raw = readSeries(db, { runId, key: 'loss', raw: true, xMax: 1999 })
    expect(raw.steps).toHaveLength(2000)
    const byTime = readSeries(db, { runId, key: 'loss', x: 'timestamp', xMin: 1_000_000, xMax: 1_009_999, maxPoints: 100 })
    expect(byTime).toMatchObject({ x: 'timestamp', total: 10_000, downsampled: true })
    expect(byTime.steps).toHaveLength(100)
    expect(readSeries(db, { runId, key: 'nope' })).toMatchObject({ total: 0, steps: [] })
  })
})
