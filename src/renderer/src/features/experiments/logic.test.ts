import { describe, expect, it } from 'vitest'
import type { TrackingRun } from '../../../../shared/api'
import { cellValue, smooth, sortRuns } from './logic'

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
