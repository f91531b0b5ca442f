import { describe, expect, it } from 'vitest'
import type { LineageGraph, ModelVersion, ReviewPage } from '../../../../shared/registry'
import { approvalLabel, deltaTone, findModelFolders, formatDelta, formatMetric, keyMetrics, layoutLineage, reviewGate, suggestModelName } from './logic'

describe('labels and numbers', () => {
  it('shows SageMaker statuses in short words', () => {
    expect(approvalLabel('PendingManualApproval')).toBe('Pending')
    expect(approvalLabel('Approved')).toBe('Approved')
    expect(approvalLabel('Rejected')).toBe('Rejected')
    expect(approvalLabel('None')).toBe('Not requested')
  })

  it('colours a delta by the metric direction', () => {
    expect(deltaTone(0.02, true)).toBe('better')
    expect(deltaTone(0.02, false)).toBe('worse')
    expect(deltaTone(-0.1, false)).toBe('better')
    expect(deltaTone(-0.1, true)).toBe('worse')
    expect(deltaTone(0, true)).toBe('same')
    expect(deltaTone(null, true)).toBeNull()
  })

  it('formats metrics and signed deltas compactly', () => {
    expect(formatMetric(0.912345)).toBe('0.9123')
    expect(formatMetric(12)).toBe('12')
    expect(formatMetric(0.00001234)).toBe('1.234e-5')
    expect(formatMetric(null)).toBe('—')
    expect(formatDelta(0.0312)).toBe('+0.0312')
    expect(formatDelta(-0.5)).toBe('−0.5')
    expect(formatDelta(0)).toBe('±0')
  })

  it('picks the metrics most versions share as key columns', () => {
    const v = (metrics: Record<string, number>) => ({ metrics }) as ModelVersion
    expect(keyMetrics([v({ accuracy: 1, f1: 1, zeta: 1 }), v({ accuracy: 1, zeta: 1 }), v({ accuracy: 1, b: 2 })], 2)).toEqual(['accuracy', 'zeta'])
  })

  it('suggests a valid model name', () => {
    expect(suggestModelName('  my run/1@x')).toBe('my run-1-x')
    expect(suggestModelName('///')).toBe('model')
  })
})

describe('layoutLineage', () => {
  const g: LineageGraph = {
    nodes: [
      { id: 'v', kind: 'model_version', label: 'fraud v1', details: {} },
      { id: 'r', kind: 'run', label: 'run', details: {} },
      { id: 'd1', kind: 'dataset', label: 'train', details: {} },
      { id: 'd2', kind: 'code', label: 'abc123', details: {} },
      { id: 'e', kind: 'endpoint', label: 'prod', details: {} }
    ],
    edges: [
      { from: 'v', to: 'r', kind: 'registered_from' },
      { from: 'd1', to: 'r', kind: 'input' },
      { from: 'd2', to: 'r', kind: 'code' },
      { from: 'e', to: 'v', kind: 'serves' }
    ]
  }

  it('puts inputs, run, version and endpoints in columns left to right', () => {
    const l = layoutLineage(g)
    const x = (id: string) => l.nodes.find((n) => n.id === id)!.x
    expect(x('d1')).toBe(x('d2'))
    expect(x('d1')).toBeLessThan(x('r'))
    expect(x('r')).toBeLessThan(x('v'))
    expect(x('v')).toBeLessThan(x('e'))
    // every edge points rightwards whichever way it was stored
    for (const e of l.edges) expect(e.from.x).toBeLessThan(e.to.x)
    expect(l.edges).toHaveLength(4)
    // two inputs stacked, no overlap
    const [a, b] = l.nodes.filter((n) => n.x === x('d1')).map((n) => n.y)
    expect(Math.abs(a - b)).toBeGreaterThanOrEqual(l.nodeHeight)
    expect(l.width).toBeGreaterThan(x('e') + l.nodeWidth - 1)
  })

  it('collapses empty columns and drops edges to unknown nodes', () => {
    const l = layoutLineage({ nodes: [g.nodes[0], g.nodes[1]], edges: [...g.edges] })
    expect(l.nodes.map((n) => n.x).sort((p, q) => p - q)[0]).toBe(12)
    expect(l.edges).toHaveLength(1)
  })
})

describe('findModelFolders', () => {
  const tree: Record<string, { path: string; isDir: boolean }[]> = {
    '': [
      { path: 'model', isDir: true },
      { path: 'plots', isDir: true },
      { path: 'metrics.csv', isDir: false }
    ],
    model: [
      { path: 'model/MLmodel', isDir: false },
      { path: 'model/model.pkl', isDir: false },
      { path: 'model/sub', isDir: true }
    ],
    'model/sub': [{ path: 'model/sub/MLmodel', isDir: false }],
    plots: [{ path: 'plots/candidates', isDir: true }],
    'plots/candidates': [{ path: 'plots/candidates/best', isDir: true }],
    'plots/candidates/best': [{ path: 'plots/candidates/best/MLmodel', isDir: false }]
  }

  it('finds folders holding an MLmodel file, not searching inside a model', async () => {
    const seen: string[] = []
    const found = await findModelFolders(async (d) => (seen.push(d), tree[d] ?? []))
    expect(found).toEqual(['model', 'plots/candidates/best'])
    expect(seen).not.toContain('model/sub')
  })

  it('stops at the depth limit', async () => {
    expect(await findModelFolders(async (d) => tree[d] ?? [], 2)).toEqual(['model'])
  })
})

describe('reviewGate', () => {
  const page = (over: { status?: ModelVersion['approvalStatus']; blocking?: string[]; ok?: boolean; reasons?: string[] } = {}) =>
    ({
      version: { approvalStatus: over.status ?? 'PendingManualApproval' },
      policies: { blocking: over.blocking ?? [] },
      canReview: { ok: over.ok ?? true, reasons: over.reasons ?? [] }
    }) as unknown as Pick<ReviewPage, 'version' | 'policies' | 'canReview'>

  it('needs a non-blank comment for both decisions', () => {
    expect(reviewGate(page(), '')).toMatchObject({ canApprove: false, canReject: false })
    expect(reviewGate(page(), '   \n')).toMatchObject({ canApprove: false, canReject: false })
    expect(reviewGate(page(), 'looks fine')).toMatchObject({ canApprove: true, canReject: true, reasons: [] })
  })

  it('a blocking policy disables Approve only, with its reason listed once', () => {
    const g = reviewGate(page({ blocking: ['min-accuracy: Accuracy must be at least 0.9'], ok: false, reasons: ['Blocked by policy: min-accuracy: Accuracy must be at least 0.9'] }), 'no')
    expect(g.canApprove).toBe(false)
    expect(g.canReject).toBe(true)
    expect(g.reasons).toEqual(['Blocked by policy: min-accuracy: Accuracy must be at least 0.9'])
  })

  it('a caller who may not review (own version) can do neither', () => {
    const g = reviewGate(page({ ok: false, reasons: ['You registered this version; another reviewer must review it.'] }), 'ok')
    expect(g).toMatchObject({ canApprove: false, canReject: false, reasons: ['You registered this version; another reviewer must review it.'] })
  })

  it('nothing to decide once the version is not pending', () => {
    expect(reviewGate(page({ status: 'Approved' }), 'ok')).toMatchObject({ pending: false, canApprove: false, canReject: false })
  })
})
