import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareItems, meanCi, metricStats, tCritical95, groupRuns } from './groups'
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

describe('comparing groups like runs', () => {
  const run = (id: string, params: Record<string, string>, metrics: Record<string, number>) => ({ runId: id, runName: `run-${id}`, params, metrics: Object.entries(metrics).map(([key, value]) => ({ key, value })) })

  it('gives n, shared and varying params, what differs between items, and mean ± t CI with min and max', () => {
    const c = compareItems([
      { label: 'lr=0.1', runs: [run('a1', { lr: '0.1', seed: '1' }, { acc: 0.8 }), run('a2', { lr: '0.1', seed: '2' }, { acc: 0.82 }), run('a3', { lr: '0.1', seed: '3' }, { acc: 0.84 })] },
      { label: 'lr=0.01', runs: [run('b1', { lr: '0.01', seed: '1' }, { acc: 0.7, loss: 2 }), run('b2', { lr: '0.01', seed: '2' }, { acc: 0.76 }), run('b3', { lr: '0.01', seed: '3', wd: '0' }, { acc: 0.73 })] },
      // a single run is a group of one: a mean without an interval, labelled by its name
      { runs: [run('c1', { lr: '0.1', seed: '1' }, { acc: 0.9 })] }
    ])
    expect(c.paramKeys).toEqual(['lr', 'seed', 'wd'])
    expect(c.metricKeys).toEqual(['acc', 'loss'])
    const [a, b, one] = c.items
    expect(a.runIds).toEqual(['a1', 'a2', 'a3'])
    expect(a.params).toEqual({ lr: '0.1', wd: null })
    expect(a.varying).toEqual({ seed: ['1', '2', '3'] })
    expect(b.varying).toEqual({ seed: ['1', '2', '3'], wd: ['0', null] })
    // lr differs; seed varies the same way in the groups but is one value in the single run; wd only in b
    expect(c.differing).toEqual(['lr', 'seed', 'wd'])
    // 0.80, 0.82, 0.84: mean 0.82, s = 0.02, ci = 4.302653 · 0.02 / √3 = 0.0496828
    expect(a.metrics.acc.n).toBe(3)
    expect(a.metrics.acc.mean).toBeCloseTo(0.82, 12)
    expect(a.metrics.acc.ci95).toBeCloseTo(0.0496828, 6)
    expect([a.metrics.acc.min, a.metrics.acc.max]).toEqual([0.8, 0.84])
    // 0.70, 0.76, 0.73: mean 0.73, s = 0.03, ci = 4.302653 · 0.03 / √3 = 0.0745241
    expect(b.metrics.acc.mean).toBeCloseTo(0.73, 12)
    expect(b.metrics.acc.ci95).toBeCloseTo(0.0745241, 6)
    expect(b.metrics.loss).toEqual({ n: 1, mean: 2, std: null, ci95: null, min: 2, max: 2 })
    expect(one).toMatchObject({ label: 'run-c1', runNames: ['run-c1'], params: { lr: '0.1', seed: '1', wd: null }, varying: {} })
    expect(one.metrics.acc).toEqual({ n: 1, mean: 0.9, std: null, ci95: null, min: 0.9, max: 0.9 })
    // the same seeds in both groups and no single run: seed does not differ between them
    expect(compareItems([{ runs: c.items[0].runIds.map((id, i) => run(id, { lr: '0.1', seed: String(i + 1) }, {})) }, { runs: [run('x', { lr: '1', seed: '1' }, {}), run('y', { lr: '1', seed: '2' }, {}), run('z', { lr: '1', seed: '3' }, {})] }]).differing).toEqual(['lr'])
    expect(metricStats([])).toBeNull()
    expect(metricStats([3, NaN, 1])).toMatchObject({ n: 2, mean: 2, min: 1, max: 3 })
  })
})

describe('the compare RPC over stored series', () => {
  let h: TrackingHarness
  beforeAll(async () => {
    h = await createTrackingHarness()
  })
  afterAll(async () => h?.cleanup())

  it('returns each item’s statistics and curves aligned by step, though its runs logged different steps', async () => {
    const exp = h.tracking.experiments.create('compare', undefined)
    const make = (name: string, lr: string, seed: number, points: [number, number][], acc: number) => {
      const run = h.tracking.runs.create({ experimentId: exp, runName: name })
      h.tracking.runs.logBatch(
        run.info.run_id,
        [...points.map(([step, value]) => ({ key: 'loss', value, timestamp: 1000 + step, step })), { key: 'acc', value: acc, timestamp: 5000, step: 10 }],
        [{ key: 'lr', value: lr }, { key: 'seed', value: String(seed) }],
        []
      )
      return run.info.run_id
    }
    // group A: one run logs every step 0..4, one every other step, one only steps 3 and 4
    const a = [
      make('a1', '0.1', 1, [[0, 1], [1, 0.8], [2, 0.6], [3, 0.4], [4, 0.2]], 0.8),
      make('a2', '0.1', 2, [[0, 1.2], [2, 0.8], [4, 0.4]], 0.82),
      make('a3', '0.1', 3, [[3, 0.5], [4, 0.3]], 0.84)
    ]
    const b = [make('b1', '0.01', 1, [[0, 2], [10, 1]], 0.7), make('b2', '0.01', 2, [[0, 3], [10, 2]], 0.76)]
    const single = make('solo', '1', 9, [[5, 7]], 0.5)

    const c = await h.tracking.compareGroups({ items: [{ label: 'lr=0.1', runIds: a }, { label: 'lr=0.01', runIds: b }, { runIds: [single] }] })
    expect(c.items.map((i) => [i.label, i.runIds.length])).toEqual([['lr=0.1', 3], ['lr=0.01', 2], ['solo', 1]])
    expect(c.metricKeys).toEqual(['acc', 'loss'])
    expect(c.seriesKeys).toEqual(['acc', 'loss'])
    expect(c.differing).toEqual(['lr', 'seed'])
    expect(c.items[0].metrics.acc.mean).toBeCloseTo(0.82, 12)
    expect(c.items[0].metrics.acc.ci95).toBeCloseTo(0.0496828, 6)
    // latest loss: a1 0.2, a2 0.4, a3 0.3 → mean 0.3, s = 0.1, ci = 4.302653 · 0.1 / √3 = 0.248414
    expect(c.items[0].metrics.loss).toMatchObject({ n: 3, min: 0.2, max: 0.4 })
    expect(c.items[0].metrics.loss.mean).toBeCloseTo(0.3, 12)
    expect(c.items[0].metrics.loss.ci95).toBeCloseTo(0.248414, 5)

    const la = c.items[0].series.loss
    expect(la.steps).toEqual([0, 1, 2, 3, 4])
    expect(la.n).toEqual([2, 1, 2, 2, 3])
    expect(la.mean[0]).toBeCloseTo(1.1, 12)
    // step 0: 1.0 and 1.2 → s = √0.02, ci = t(1) · s / √2 = 12.706205 · 0.141421 / 1.414214 = 1.2706205
    expect(la.upper[0] - la.mean[0]).toBeCloseTo(1.2706205, 6)
    expect(la.mean[1]).toBeCloseTo(0.8, 12)
    expect(la.upper[1]).toBe(la.lower[1])
    // step 4: 0.2, 0.4, 0.3 → the same interval as the latest values
    expect(la.mean[4]).toBeCloseTo(0.3, 12)
    expect(la.upper[4] - la.mean[4]).toBeCloseTo(0.248414, 5)
    expect(c.items[1].series.loss.steps).toEqual([0, 10])
    expect(c.items[1].series.loss.mean).toEqual([2.5, 1.5])
    // the single run: its own curve, no band
    expect(c.items[2].series.loss).toMatchObject({ steps: [5], mean: [7], lower: [7], upper: [7], n: [1], runs: 1, runsWithValues: 1 })
    expect(c.items[2].metrics.loss).toMatchObject({ n: 1, ci95: null })

    // only the curves asked for; unknown runs are NOT_FOUND
    const only = await h.tracking.compareGroups({ items: [{ runIds: a }, { runIds: b }], keys: ['acc'] })
    expect(Object.keys(only.items[0].series)).toEqual(['acc'])
    expect(only.items[0].label).toBe('3 runs')
    await expect(h.tracking.compareGroups({ items: [{ runIds: a }, { runIds: ['f'.repeat(32)] }] })).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
