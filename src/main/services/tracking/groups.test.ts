import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { meanCi, tCritical95, groupRuns } from './groups'
import { createTrackingHarness, type TrackingHarness } from './testing'

describe("Student's t and the 95 % interval of a mean", () => {
  it('has the tabulated critical values, and a close expansion past 30 degrees of freedom', () => {
    expect(tCritical95(1)).toBeCloseTo(12.7062, 4)
    expect(tCritical95(2)).toBeCloseTo(4.3027, 4)
    expect(tCritical95(9)).toBeCloseTo(2.2622, 4)
    expect(tCritical95(30)).toBeCloseTo(2.0423, 4)
    // scipy.stats.t.ppf(0.975, df) for 31, 60, 120
    expect(tCritical95(31)).toBeCloseTo(2.0395134, 5)
    expect(tCritical95(60)).toBeCloseTo(2.0002978, 5)
    expect(tCritical95(120)).toBeCloseTo(1.9799304, 5)
    expect(() => tCritical95(0)).toThrow()
  })

  it('matches hand-computed intervals', () => {
    // 1, 2, 3: mean 2, s = 1, ci = t(2) · 1 / √3 = 4.302653 / 1.732051 = 2.484138
    const a = meanCi([1, 2, 3])!
    expect(a.n).toBe(3)
    expect(a.mean).toBe(2)
    expect(a.std).toBeCloseTo(1, 12)
    expect(a.ci95).toBeCloseTo(2.484138, 5)
    // 0.80, 0.82, 0.84, 0.86: mean 0.83, s = √(0.002 / 3) = 0.0258199, ci = t(3) · s / 2 = 3.182446 · 0.0258199 / 2 = 0.0410857
    const b = meanCi([0.8, 0.82, 0.84, 0.86])!
    expect(b.mean).toBeCloseTo(0.83, 12)
    expect(b.std).toBeCloseTo(0.0258199, 6)
    expect(b.ci95).toBeCloseTo(0.0410857, 6)
    // one value: a mean without an interval; none: nothing; NaN and ±∞ are left out
    expect(meanCi([5])).toEqual({ n: 1, mean: 5, std: null, ci95: null })
    expect(meanCi([])).toBeNull()
    expect(meanCi([1, NaN, 3, Infinity])).toMatchObject({ n: 2, mean: 2 })
  })

  it('groups runs by params, a missing param being its own value', () => {
    const run = (id: string, params: Record<string, string>, acc: number | null) => ({ runId: id, runName: id, params, metrics: acc === null ? [] : [{ key: 'acc', value: acc }] })
    const groups = groupRuns(
      [
        run('a1', { lr: '0.1', seed: '1' }, 0.8),
        run('a2', { lr: '0.1', seed: '2' }, 0.82),
        run('a3', { lr: '0.1', seed: '3' }, 0.84),
        run('b1', { lr: '0.01', seed: '1' }, 0.7),
        run('b2', { lr: '0.01', seed: '2' }, null),
        run('c1', { seed: '1' }, 0.5)
      ],
      ['lr']
    )
    // ordered by value (numbers numerically), a missing value last
    expect(groups.map((g) => [g.label, g.runIds])).toEqual([
      ['lr=0.01', ['b1', 'b2']],
      ['lr=0.1', ['a1', 'a2', 'a3']],
      ['lr=∅', ['c1']]
    ])
    expect(groups[1].metrics.acc.mean).toBeCloseTo(0.82, 12)
    expect(groups[1].metrics.acc.ci95).toBeCloseTo((4.30265273 * 0.02) / Math.sqrt(3), 8)
    expect(groups[0].metrics.acc).toEqual({ n: 1, mean: 0.7, std: null, ci95: null })
    expect(groups[2].values).toEqual([null])
  })
})

describe('group summaries and curves over stored series', () => {
  let h: TrackingHarness
  beforeAll(async () => {
    h = await createTrackingHarness()
  })
  afterAll(async () => h?.cleanup())

  it('summarises 3 seeds × 2 configs and aligns their curves by step with a t band', async () => {
    const exp = h.tracking.experiments.create('seeds', undefined)
    const ids: Record<string, string> = {}
    for (const lr of ['0.1', '0.01'])
      for (const seed of [1, 2, 3]) {
        const run = h.tracking.runs.create({ experimentId: exp, runName: `lr${lr}-s${seed}` })
        ids[`${lr}/${seed}`] = run.info.run_id
        // loss at steps 0..3 = base + seed offset; the seed-3 run also logs step 4; step 1 logged twice by seed 1
        const base = lr === '0.1' ? 1 : 2
        const points = [0, 1, 2, 3, ...(seed === 3 ? [4] : [])].map((step) => ({ key: 'loss', value: base - step * 0.1 + seed * 0.01, timestamp: 1000 + step, step }))
        if (seed === 1) points.push({ key: 'loss', value: base - 0.1 + 0.03, timestamp: 2000, step: 1 })
        h.tracking.runs.logBatch(run.info.run_id, points, [{ key: 'lr', value: lr }, { key: 'seed', value: String(seed) }], [])
      }
    const summary = await h.tracking.groupSummary({ experimentIds: [exp], groupBy: ['lr'] })
    expect(summary.runCount).toBe(6)
    expect(summary.groups.map((g) => g.label)).toEqual(['lr=0.01', 'lr=0.1'])
    const g = summary.groups.find((x) => x.label === 'lr=0.1')!
    expect(g.runIds.length).toBe(3)
    // latest loss (the last step each logged): seed 1 and 2 at step 3 = 0.71, 0.72; seed 3 at step 4 = 0.63
    expect(g.metrics.loss.n).toBe(3)
    expect(g.metrics.loss.mean).toBeCloseTo((0.71 + 0.72 + 0.63) / 3, 10)

    const s = await h.tracking.groupSeries({ runIds: g.runIds, key: 'loss' })
    expect(s).toMatchObject({ runs: 3, runsWithValues: 3, bucketed: false, steps: [0, 1, 2, 3, 4], n: [3, 3, 3, 3, 1] })
    // step 0: 1.01, 1.02, 1.03 → mean 1.02, s = 0.01, ci = 4.302653 · 0.01 / √3 = 0.0248414
    expect(s.mean[0]).toBeCloseTo(1.02, 10)
    expect(s.upper[0] - s.mean[0]).toBeCloseTo(0.0248414, 6)
    expect(s.mean[0] - s.lower[0]).toBeCloseTo(0.0248414, 6)
    // step 1: seed 1 logged 0.91 and 0.93 there (its mean 0.92), seeds 2, 3: 0.92, 0.93 → mean (0.92 + 0.92 + 0.93) / 3
    expect(s.mean[1]).toBeCloseTo((0.92 + 0.92 + 0.93) / 3, 10)
    // step 4: one run, no band
    expect(s.lower[4]).toBe(s.mean[4])
    expect(s.upper[4]).toBe(s.mean[4])

    // bucketed: 5 steps into at most 3 points (width 2), averaged per run first
    const b = await h.tracking.groupSeries({ runIds: g.runIds, key: 'loss', maxPoints: 3 })
    expect(b.bucketed).toBe(true)
    expect(b.steps.length).toBeLessThanOrEqual(3)
    expect(b.n[0]).toBe(3)

    // a key nobody logged: empty, and unknown runs are NOT_FOUND
    expect((await h.tracking.groupSeries({ runIds: g.runIds, key: 'nope' })).steps).toEqual([])
    await expect(h.tracking.groupSeries({ runIds: ['0'.repeat(32)], key: 'loss' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
