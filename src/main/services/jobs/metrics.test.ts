import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../log'
import type { TrackingService } from '../tracking/TrackingService'
import { logRegexMetrics } from './metrics'
import type { JobRow } from './store'

function recorder() {
  const points: { key: string; value: number; step: number }[] = []
  const tracking = {
    runs: { logBatch: (_run: string, ps: { key: string; value: number; step: number }[]) => points.push(...ps.map(({ key, value, step }) => ({ key, value, step }))) },
    changed: () => undefined
  } as unknown as TrackingService
  return { points, tracking }
}

const row = { id: 'j1', run_id: 'r1', experiment_id: '0', spec: JSON.stringify({ metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }] }) } as JobRow

describe('regex metrics from job logs', () => {
  it('counts steps per metric on a single-host log', () => {
    const { points, tracking } = recorder()
    const steps: Record<string, number> = {}
    logRegexMetrics({ tracking, log: silentLogger }, row, ['epoch 0 loss=1.0', 'noise', 'epoch 1 loss=0.5'], steps)
    logRegexMetrics({ tracking, log: silentLogger }, row, ['epoch 2 loss=0.25'], steps)
    expect(points).toEqual([
      { key: 'loss', value: 1, step: 0 },
      { key: 'loss', value: 0.5, step: 1 },
      { key: 'loss', value: 0.25, step: 2 }
    ])
  })

  it('keeps each host of a multi-host log in its own series; the primary host keeps the name', () => {
    const { points, tracking } = recorder()
    const steps: Record<string, number> = {}
    const lines = ['[algo-1] loss=0.5', '[algo-1] loss=0.25', '[algo-2] loss=0.6', '[algo-2] loss=0.3']
    logRegexMetrics({ tracking, log: silentLogger }, row, lines, steps)
    logRegexMetrics({ tracking, log: silentLogger }, row, ['[train-master-0] loss=0.9', '[train-worker-0] loss=0.8'], steps)
    expect(points.filter((p) => p.key === 'loss').map((p) => [p.value, p.step])).toEqual([
      [0.5, 0],
      [0.25, 1],
      [0.9, 2]
    ])
    expect(points.filter((p) => p.key === 'loss/algo-2').map((p) => [p.value, p.step])).toEqual([
      [0.6, 0],
      [0.3, 1]
    ])
    expect(points.filter((p) => p.key === 'loss/train-worker-0').map((p) => p.step)).toEqual([0])
  })
})
