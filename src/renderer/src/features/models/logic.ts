/** Pure helpers of the Models and Reviews rooms: labels, metric deltas, lineage layout, model folders. */
import type { ApprovalStatus, LineageGraph, LineageNode, ModelVersion, ReviewPage } from '../../../../shared/registry'

const STATUS_LABEL: Record<ApprovalStatus, string> = {
  None: 'Not requested',
  PendingManualApproval: 'Pending',
  Approved: 'Approved',
  Rejected: 'Rejected'
}

export function approvalLabel(s: ApprovalStatus): string {
  return STATUS_LABEL[s] ?? s
}

export type DeltaTone = 'better' | 'worse' | 'same'

/** Whether a metric change is an improvement, given the metric's direction. */
export function deltaTone(delta: number | null, higherIsBetter: boolean): DeltaTone | null {
  if (delta === null || !Number.isFinite(delta)) return null
  if (delta === 0) return 'same'
  return delta > 0 === higherIsBetter ? 'better' : 'worse'
}

/** Metrics are short numbers in tables: 4 significant digits, exponent form for tiny/huge values. */
export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—'
  if (!Number.isFinite(v)) return String(v)
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return v.toLocaleString('en-US')
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3)
  return String(Number(v.toPrecision(4)))
}

export function formatDelta(d: number | null): string {
  if (d === null) return '—'
  return (d > 0 ? '+' : d < 0 ? '−' : '±') + formatMetric(Math.abs(d))
}

/** Up to `n` metric keys to show as columns of a versions table: the ones most versions have, then by name. */
export function keyMetrics(versions: ModelVersion[], n = 3): string[] {
  const count = new Map<string, number>()
  for (const v of versions) for (const k of Object.keys(v.metrics)) count.set(k, (count.get(k) ?? 0) + 1)
  return [...count.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([k]) => k)
}

export function formatTime(ms: number | null | undefined, seconds = false): string {
  if (!ms) return '—'
  const d = new Date(ms)
  const pad = (x: number) => String(x).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? ':' + pad(d.getSeconds()) : ''}`
}

/** "3 h ago"-style age for a queue sorted oldest first. */
export function formatAge(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 86400) return `${Math.floor(s / 3600)} h`
  return `${Math.floor(s / 86400)} d`
}

// ---------- lineage layout ----------

/** Left to right: what went in (data, code) → the run → the model version → what serves it. */
const COLUMN: Record<LineageNode['kind'], number> = {
  dataset: 0,
  table: 0,
  file: 0,
  code: 0,
  notebook: 0,
  job: 0,
  run: 1,
  model_version: 2,
  endpoint: 3
}

export interface PlacedNode extends LineageNode {
  x: number
  y: number
}

export interface PlacedEdge {
  from: PlacedNode
  to: PlacedNode
  kind: string
}

export interface LineageLayout {
  width: number
  height: number
  nodes: PlacedNode[]
  edges: PlacedEdge[]
  nodeWidth: number
  nodeHeight: number
}

/**
 * Places nodes in columns by kind (empty columns collapse), each column centred vertically. Edges
 * are drawn from the left node to the right one whichever way the graph stores them, since the
 * picture reads as data flowing into the model.
 */
export function layoutLineage(g: LineageGraph, opts: { nodeWidth?: number; nodeHeight?: number; gapX?: number; gapY?: number; pad?: number } = {}): LineageLayout {
  const nodeWidth = opts.nodeWidth ?? 190
  const nodeHeight = opts.nodeHeight ?? 46
  const gapX = opts.gapX ?? 110
  const gapY = opts.gapY ?? 18
  const pad = opts.pad ?? 12
  const used = [...new Set(g.nodes.map((n) => COLUMN[n.kind] ?? 0))].sort((a, b) => a - b)
  const colOf = new Map(used.map((c, i) => [c, i]))
  const columns: LineageNode[][] = used.map(() => [])
  for (const n of g.nodes) columns[colOf.get(COLUMN[n.kind] ?? 0)!].push(n)
  const tallest = Math.max(1, ...columns.map((c) => c.length))
  const height = pad * 2 + tallest * nodeHeight + (tallest - 1) * gapY
  const width = pad * 2 + Math.max(1, columns.length) * nodeWidth + Math.max(0, columns.length - 1) * gapX
  const placed = new Map<string, PlacedNode>()
  columns.forEach((col, ci) => {
    const colHeight = col.length * nodeHeight + (col.length - 1) * gapY
    const top = (height - colHeight) / 2
    col.forEach((n, i) => placed.set(n.id, { ...n, x: pad + ci * (nodeWidth + gapX), y: top + i * (nodeHeight + gapY) }))
  })
  const edges: PlacedEdge[] = []
  for (const e of g.edges) {
    const a = placed.get(e.from)
    const b = placed.get(e.to)
    if (!a || !b) continue
    edges.push(a.x <= b.x ? { from: a, to: b, kind: e.kind } : { from: b, to: a, kind: e.kind })
  }
  return { width, height, nodes: [...placed.values()], edges, nodeWidth, nodeHeight }
}

// ---------- model folders of a run ----------

export interface ArtifactEntry {
  path: string
  isDir: boolean
}

/**
 * The artifact folders of a run that hold an `MLmodel` file (MLflow model directories), found
 * breadth first down to `maxDepth` folders deep, visiting at most `maxDirs` folders. A model
 * directory is not searched further.
 */
export async function findModelFolders(list: (dir: string) => Promise<ArtifactEntry[]>, maxDepth = 3, maxDirs = 200): Promise<string[]> {
  const found: string[] = []
  let level = ['']
  let visited = 0
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = []
    for (const dir of level) {
      if (visited++ >= maxDirs) return found
      const entries = await list(dir)
      if (dir && entries.some((e) => !e.isDir && e.path.split('/').pop() === 'MLmodel')) {
        found.push(dir)
        continue
      }
      for (const e of entries) if (e.isDir) next.push(e.path)
    }
    level = next
  }
  return found
}

/** A name the registry accepts, derived from a free text (for suggesting a model name). */
export function suggestModelName(s: string): string {
  const cleaned = s
    .replace(/[^A-Za-z0-9_. -]+/g, '-')
    .replace(/^[ .-]+/, '')
    .replace(/[ ]+$/, '')
    .slice(0, 100)
  return cleaned || 'model'
}

// ---------- review decision ----------

export interface ReviewGate {
  pending: boolean
  canApprove: boolean
  canReject: boolean
  /** Why the caller cannot approve (blocking policies first), each once. */
  reasons: string[]
}

/**
 * What the Approve and Reject buttons allow: both need a non-blank comment and a caller who may
 * review; Approve also needs no blocking policy. The service checks the same again.
 */
export function reviewGate(page: Pick<ReviewPage, 'version' | 'policies' | 'canReview'>, comment: string): ReviewGate {
  const pending = page.version.approvalStatus === 'PendingManualApproval'
  const hasComment = comment.trim().length > 0
  const blocked = page.policies.blocking.length > 0
  const policyReasons = page.policies.blocking.map((m) => `Blocked by policy: ${m}`)
  // canReview also lists the blocking policies; they stop approving, not rejecting
  const personal = page.canReview.ok ? [] : page.canReview.reasons.filter((r) => !policyReasons.includes(r))
  const reasons = [...new Set([...policyReasons, ...personal])]
  const may = pending && personal.length === 0
  return { pending, canApprove: may && hasComment && !blocked, canReject: may && hasComment, reasons }
}
