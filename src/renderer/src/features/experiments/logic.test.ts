import { describe, expect, it } from 'vitest'
import type { TrackingRun } from '../../../../shared/api'
import { cellTitle, cellValue, formatMeanCi, loggedOncePerRun, orderColumns, plotlyDateToMs, rangeToRequest, singleXRange, smooth, sortRuns, traceMode, xValues } from './logic'

const run = (name: string, lr: string | undefined, loss: number | null): TrackingRun => ({
  runId: name,
  experimentId: '1',
  runName: name,
  userId: '',
  status: 'FINISHED',
  startTime: 0,
  endTime: null,
  artifactUri: '',
  lifecycleStage: 'active',
  metrics: loss === null ? [] : [{ key: 'loss', value: loss, timestamp: 0, step: 0 }],
  params: lr === undefined ? {} : { lr },
  tags: {},
  inputs: []
})

describe('sortRuns', () => {
  const runs = [run('a', '0.1', 0.5), run('b', '0.01', 0.2), run('c', undefined, null), run('d', '1e-3', 0.9)]
  it('sorts params numerically and keeps missing values last', () => {
    expect(sortRuns(runs, { col: 'params.lr', dir: 'asc' }).map((r) => r.runName)).toEqual(['d', 'b', 'a', 'c'])
    expect(sortRuns(runs, { col: 'params.lr', dir: 'desc' }).map((r) => r.runName)).toEqual(['a', 'b', 'd', 'c'])
  })
  it('sorts metrics by latest value', () => {
    expect(sortRuns(runs, { col: 'metrics.loss', dir: 'asc' }).map((r) => r.runName)).toEqual(['b', 'a', 'd', 'c'])
    expect(cellValue(runs[0], 'metrics.loss')).toBe(0.5)
  })
})

describe('smooth', () => {
  it('is the identity at 0 and debiased (first point kept) above 0', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3])
    const s = smooth([1, null, 3], 0.5)
    expect(s[0]).toBeCloseTo(1)
    expect(s[1]).toBeNull()
    expect(s[2]).toBeCloseTo((0.5 * 0.5 + 0.5 * 3) / 0.75)
  })
})

describe('time axes', () => {
  it('reads plotly date-axis ranges as UTC epoch ms', () => {
    expect(plotlyDateToMs('2026-11-23 12:00:00.5')).toBe(Date.UTC(2026, 10, 23, 12, 0, 0, 500))
    expect(plotlyDateToMs('2026-11-23 12:30')).toBe(Date.UTC(2026, 10, 23, 12, 30))
    expect(plotlyDateToMs('2026-11-23 7')).toBe(Date.UTC(2026, 10, 23, 7))
    expect(plotlyDateToMs('2026-11-23')).toBe(Date.UTC(2026, 10, 23))
    expect(plotlyDateToMs(1234)).toBe(1234)
    expect(plotlyDateToMs('yesterday')).toBeNull()
    expect(plotlyDateToMs(undefined)).toBeNull()
  })
  it('maps series to x values and zoomed ranges back to history requests', () => {
    const s = { steps: [0, 1, 2], timestamps: [10_000, 11_000, 13_500] }
    expect(xValues(s, 'step', 0)).toEqual([0, 1, 2])
    expect(xValues(s, 'wall', 0)).toEqual([10_000, 11_000, 13_500])
    expect(xValues(s, 'relative', 10_000)).toEqual([0, 1, 3.5])
    expect(rangeToRequest([0.4, 2.2], 'step', 0)).toEqual({ xMin: 0, xMax: 3 })
    expect(rangeToRequest([1, 2.5], 'relative', 10_000)).toEqual({ xMin: 11_000, xMax: 12_500 })
    expect(rangeToRequest([10_500.2, 12_000.7], 'wall', 0)).toEqual({ xMin: 10_500, xMax: 12_001 })
  })
})

describe('few points stay visible', () => {
  it('draws markers on short series, lines alone on long ones', () => {
    expect(traceMode(1)).toBe('lines+markers')
    expect(traceMode(30)).toBe('lines+markers')
    expect(traceMode(31)).toBe('lines')
  })
  it('centres a chart whose points share one step on that step', () => {
    expect(singleXRange([[0], [0]], 'step')).toEqual({ range: [-0.5, 0.5], tickvals: [0] })
    expect(singleXRange([[999]], 'step')).toEqual({ range: [998.5, 999.5], tickvals: [999] })
    expect(singleXRange([[5_000]], 'wall')).toEqual({ range: [4_000, 6_000] })
    expect(singleXRange([[0, 1]], 'step')).toBeNull()
    expect(singleXRange([[0], [3]], 'step')).toBeNull()
    expect(singleXRange([[]], 'step')).toBeNull()
  })
  it('recognises a metric logged once per run', () => {
    expect(loggedOncePerRun([1, 1, 1])).toBe(true)
    expect(loggedOncePerRun([1, 0])).toBe(true)
    expect(loggedOncePerRun([1, 2])).toBe(false)
    expect(loggedOncePerRun([0])).toBe(false)
    expect(loggedOncePerRun([])).toBe(false)
  })
})

describe('runs table columns', () => {
  it('puts the chosen metrics next to the run name, before dates, status and params', () => {
    expect(orderColumns(['params.a', 'params.b', 'metrics.acc', 'tags.t', 'metrics.auc'])).toEqual([
      'run.name',
      'metrics.acc',
      'metrics.auc',
      'run.start',
      'run.status',
      'params.a',
      'params.b',
      'tags.t'
    ])
  })
  it('gives every cell its full text as a tooltip', () => {
    expect(cellTitle('a-very-long-parameter-value', 'params.x')).toBe('a-very-long-parameter-value')
    expect(cellTitle(0.123456789, 'metrics.acc')).toBe('0.123456789')
    expect(cellTitle(Date.UTC(2026, 0, 2), 'run.start')).toContain('2026')
    expect(cellTitle(null, 'params.x')).toBe('')
  })
})

describe('group statistics as text', () => {
  it('rounds the interval to two significant digits and the mean to match', () => {
    expect(formatMeanCi({ n: 3, mean: 0.82, ci95: 0.0496824 })).toBe('0.820 ± 0.050')
    expect(formatMeanCi({ n: 3, mean: 1234.5678, ci95: 12.3 })).toBe('1235 ± 12')
    expect(formatMeanCi({ n: 3, mean: 2, ci95: 2.484138 })).toBe('2.0 ± 2.5')
    expect(formatMeanCi({ n: 1, mean: 0.7, ci95: null })).toBe('0.7 (n = 1)')
    expect(formatMeanCi({ n: 2, mean: 0.5, ci95: 0 })).toBe('0.5 ± 0')
  })
})
