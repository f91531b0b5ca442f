/**
 * Metric series for charts. Downsampling is MinMax-preselection + LTTB: the min/max summaries of the
 * coarsest bucket level that still has at least maxPoints buckets in range (tracking_metric_buckets),
 * plus the raw points of the partial buckets at the range's edges and the true first and last points,
 * then LTTB to maxPoints. Short ranges and `raw` read the points themselves, aggregated to JSON inside
 * SQLite (far cheaper than one JS row object per point).
 */
import type { MetricSeries } from '../../../shared/api'
import type { AppDatabase } from '../../db'
import { invalid } from './errors'
import { BUCKET_WIDTHS, pickBuckets } from './buckets'
import { lttb } from './lttb'

export interface SeriesRequest {
  runId: number
  key: string
  /** Points to return at most (default 2000); ignored with raw. */
  maxPoints?: number
  raw?: boolean
  /** Zoom: inclusive range on the x axis (step, or timestamp for x = 'timestamp'). */
  xMin?: number
  xMax?: number
  x?: 'step' | 'timestamp'
}

/** What the chart gets: the contract's MetricSeries. */
export type Series = MetricSeries

export const MAX_RAW_POINTS = 1_000_000

interface Points {
  steps: number[]
  timestamps: number[]
  values: (number | null)[]
}

/** Raw points of [lo, hi] on the x column, in x order, as three arrays built by SQLite. */
function readRaw(db: AppDatabase, runId: number, key: string, x: 'step' | 'timestamp', lo: number, hi: number, limit: number): Points {
  const where = ['run_id = ?', 'key = ?']
  const binds: (number | string)[] = [runId, key]
  if (Number.isFinite(lo)) {
    where.push(`${x} >= ?`)
    binds.push(lo)
  }
  if (Number.isFinite(hi)) {
    where.push(`${x} <= ?`)
    binds.push(hi)
  }
  const order = x === 'step' ? 'step, timestamp, value' : 'timestamp, step, value'
  const row = db
    .prepare(
      `SELECT json_group_array(step), json_group_array(timestamp), json_group_array(CASE WHEN is_nan THEN NULL ELSE value END)
       FROM (SELECT step, timestamp, value, is_nan FROM tracking_metrics WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?)`
    )
    .raw(true)
    .get(...binds, limit) as [string, string, string]
  const values = (JSON.parse(row[2]) as (number | null)[]).map((v) => (v === null || !Number.isFinite(v) ? null : v))
  return { steps: JSON.parse(row[0]), timestamps: JSON.parse(row[1]), values }
}

function downsample(p: Points, x: 'step' | 'timestamp', maxPoints: number): Points {
  const xs: number[] = []
  const ys: number[] = []
  const at: number[] = []
  for (let i = 0; i < p.steps.length; i++) {
    const v = p.values[i]
    if (v === null) continue
    xs.push(x === 'step' ? p.steps[i] : p.timestamps[i])
    ys.push(v)
    at.push(i)
  }
  const keep = lttb(xs, ys, maxPoints)
  const out: Points = { steps: [], timestamps: [], values: [] }
  for (const k of keep) {
    const i = at[k]
    out.steps.push(p.steps[i])
    out.timestamps.push(p.timestamps[i])
    out.values.push(p.values[i])
  }
  return out
}

export function readSeries(db: AppDatabase, req: SeriesRequest): Series {
  const x = req.x ?? 'step'
  const maxPoints = req.maxPoints ?? 2000
  if (maxPoints < 3) throw invalid('maxPoints must be at least 3')
  const lo = req.xMin ?? -Infinity
  const hi = req.xMax ?? Infinity
  const base = { key: req.key, x }

  const picked = !req.raw && x === 'step' ? pickBuckets(db, req.runId, req.key, lo, hi, maxPoints) : null
  if (!picked) {
    const p = readRaw(db, req.runId, req.key, x, lo, hi, MAX_RAW_POINTS + 1)
    if (p.steps.length > MAX_RAW_POINTS) throw invalid(`The range holds more than ${MAX_RAW_POINTS} points; narrow it or ask for a downsampled series`)
    const total = p.steps.length
    if (req.raw || total <= maxPoints) return { ...base, ...p, total, downsampled: false }
    return { ...base, ...downsample(p, x, maxPoints), total, downsampled: true }
  }

  // MinMax candidates: edges raw, whole buckets by their extremes, plus the true first and last points
  const w = BUCKET_WIDTHS[picked.level]
  const head = Number.isFinite(lo) ? readRaw(db, req.runId, req.key, 'step', lo, picked.bLo * w - 1, MAX_RAW_POINTS) : null
  const tail = Number.isFinite(hi) ? readRaw(db, req.runId, req.key, 'step', (picked.bHi + 1) * w, hi, MAX_RAW_POINTS) : null
  const ends = db
    .prepare(
      `SELECT * FROM (SELECT step, timestamp, value FROM tracking_metrics WHERE run_id = @run AND key = @key AND step >= @lo AND step <= @hi AND is_nan = 0 ORDER BY step, timestamp LIMIT 1)
       UNION ALL SELECT * FROM (SELECT step, timestamp, value FROM tracking_metrics WHERE run_id = @run AND key = @key AND step >= @lo AND step <= @hi AND is_nan = 0 ORDER BY step DESC, timestamp DESC LIMIT 1)`
    )
    .raw(true)
    .all({ run: req.runId, key: req.key, lo: Number.isFinite(lo) ? lo : Number.MIN_SAFE_INTEGER, hi: Number.isFinite(hi) ? hi : Number.MAX_SAFE_INTEGER }) as [number, number, number][]
  const cand: Points = { steps: [], timestamps: [], values: [] }
  const push = (s: number, t: number, v: number | null) => {
    const n = cand.steps.length
    if (n > 0 && cand.steps[n - 1] === s && cand.timestamps[n - 1] === t && cand.values[n - 1] === v) return
    cand.steps.push(s)
    cand.timestamps.push(t)
    cand.values.push(v)
  }
  let total = 0
  const addRaw = (p: Points | null) => {
    if (!p) return
    total += p.steps.length
    for (let i = 0; i < p.steps.length; i++) push(p.steps[i], p.timestamps[i], p.values[i])
  }
  if (ends[0] && Number.isFinite(ends[0][2]) && (!head || head.steps.length === 0)) push(ends[0][0], ends[0][1], ends[0][2])
  addRaw(head)
  for (const b of picked.rows) {
    total += b.n
    const a = b.min_step === null ? null : ([b.min_step, b.min_timestamp!, b.min_value!] as const)
    const c = b.max_step === null ? null : ([b.max_step, b.max_timestamp!, b.max_value!] as const)
    const [first, second] = a && c && (c[0] < a[0] || (c[0] === a[0] && c[1] < a[1])) ? [c, a] : [a, c]
    if (first) push(first[0], first[1], first[2])
    if (second) push(second[0], second[1], second[2])
  }
  addRaw(tail)
  const last = ends[ends.length - 1]
  if (last && Number.isFinite(last[2]) && (!tail || tail.steps.length === 0)) push(last[0], last[1], last[2])
  return { ...base, ...downsample(cand, 'step', maxPoints), total, downsampled: true }
}
