/**
 * Min/max summaries of metric series by step (tracking_metric_buckets), kept on write. Level l
 * groups steps into buckets of BUCKET_WIDTHS[l]; each bucket keeps its count and its lowest and
 * highest finite points. Reading a long series then costs a few thousand summary rows.
 */
import type { Statement } from 'better-sqlite3'
import type { AppDatabase } from '../../db'
import type { MetricIn } from './validate'

export const BUCKET_WIDTHS = [32, 256, 2048, 16384] as const
const FANOUT = 8 // each width is 8× the one before

interface Point {
  step: number
  timestamp: number
  value: number
}
interface Agg {
  key: string
  level: number
  bucket: number
  n: number
  min: Point | null
  max: Point | null
}

function merge(into: Agg, from: Pick<Agg, 'n' | 'min' | 'max'>): void {
  into.n += from.n
  if (from.min && (!into.min || from.min.value < into.min.value)) into.min = from.min
  if (from.max && (!into.max || from.max.value > into.max.value)) into.max = from.max
}

/** Summaries of one batch, every level, grouped by (key, level, bucket). */
export function aggregate(metrics: readonly MetricIn[]): Agg[] {
  const level0 = new Map<string, Agg>()
  for (const m of metrics) {
    // Chart summaries are doubles: a step beyond 2^53 lands in the nearest bucket.
    const bucket = Math.floor(Number(m.step) / BUCKET_WIDTHS[0])
    const id = `${m.key}\u0000${bucket}`
    let a = level0.get(id)
    if (!a) level0.set(id, (a = { key: m.key, level: 0, bucket, n: 0, min: null, max: null }))
    const p = Number.isFinite(m.value) ? { step: Number(m.step), timestamp: Number(m.timestamp), value: m.value } : null
    merge(a, { n: 1, min: p, max: p })
  }
  const out = [...level0.values()]
  let prev = out
  for (let level = 1; level < BUCKET_WIDTHS.length; level++) {
    const next = new Map<string, Agg>()
    for (const a of prev) {
      const bucket = Math.floor(a.bucket / FANOUT)
      const id = `${a.key}\u0000${bucket}`
      let b = next.get(id)
      if (!b) next.set(id, (b = { key: a.key, level, bucket, n: 0, min: null, max: null }))
      merge(b, a)
    }
    prev = [...next.values()]
    out.push(...prev)
  }
  return out
}

const UPSERT_CHUNK = 64
const COLUMNS = 11

export class BucketWriter {
  /** Multi-row upserts by row count (one native call for a whole batch's summaries, usually). */
  private readonly upserts = new Map<number, Statement>()
  private readonly recount: Statement
  constructor(private readonly db: AppDatabase) {
    this.recount = db.prepare(`UPDATE tracking_metric_buckets SET n =
        (SELECT count(*) FROM tracking_metrics WHERE run_id = @run AND key = @key AND step BETWEEN @lo AND @hi)
      WHERE run_id = @run AND key = @key AND level = @level AND bucket = @bucket`)
  }

  private upsert(rows: number): Statement {
    let stmt = this.upserts.get(rows)
    if (stmt) return stmt
    const better = (cmp: '<' | '>', side: 'min' | 'max', col: string) =>
      `${col} = CASE WHEN excluded.${side}_value ${cmp} ${side}_value OR ${side}_value IS NULL THEN excluded.${col} ELSE ${col} END`
    stmt = this.db.prepare(`INSERT INTO tracking_metric_buckets
      (run_id, key, level, bucket, n, min_step, min_timestamp, min_value, max_step, max_timestamp, max_value)
      VALUES ${Array(rows).fill(`(${Array(COLUMNS).fill('?').join(', ')})`).join(', ')}
      ON CONFLICT (run_id, key, level, bucket) DO UPDATE SET n = n + excluded.n,
        ${['min_step', 'min_timestamp', 'min_value'].map((c) => better('<', 'min', c)).join(', ')},
        ${['max_step', 'max_timestamp', 'max_value'].map((c) => better('>', 'max', c)).join(', ')}`)
    this.upserts.set(rows, stmt)
    return stmt
  }

  /**
   * Adds a batch's summaries. `exact` is false when some points were already stored (a retried
   * batch): then the counts of the touched buckets are recounted from the series.
   */
  add(runId: number, metrics: readonly MetricIn[], exact: boolean): void {
    const aggs = aggregate(metrics)
    for (let i = 0; i < aggs.length; i += UPSERT_CHUNK) {
      const n = Math.min(UPSERT_CHUNK, aggs.length - i)
      const args: (string | number | null)[] = new Array(n * COLUMNS)
      for (let k = 0; k < n; k++) {
        const a = aggs[i + k]
        const o = k * COLUMNS
        args[o] = runId
        args[o + 1] = a.key
        args[o + 2] = a.level
        args[o + 3] = a.bucket
        args[o + 4] = exact ? a.n : 0
        args[o + 5] = a.min?.step ?? null
        args[o + 6] = a.min?.timestamp ?? null
        args[o + 7] = a.min?.value ?? null
        args[o + 8] = a.max?.step ?? null
        args[o + 9] = a.max?.timestamp ?? null
        args[o + 10] = a.max?.value ?? null
      }
      this.upsert(n).run(args)
    }
    if (!exact) {
      for (const a of aggs) {
        const w = BUCKET_WIDTHS[a.level]
        this.recount.run({ run: runId, key: a.key, level: a.level, lo: a.bucket * w, hi: a.bucket * w + w - 1, bucket: a.bucket })
      }
    }
  }
}

export interface BucketRow {
  bucket: number
  n: number
  min_step: number | null
  min_timestamp: number | null
  min_value: number | null
  max_step: number | null
  max_timestamp: number | null
  max_value: number | null
}

/**
 * The coarsest level with at least `minBuckets` buckets wholly inside [lo, hi], and those buckets
 * (ordered), or null when even the finest level has too few (read the raw points then).
 */
export function pickBuckets(
  db: AppDatabase,
  runId: number,
  key: string,
  lo: number,
  hi: number,
  minBuckets: number
): { level: number; bLo: number; bHi: number; rows: BucketRow[] } | null {
  const count = db.prepare('SELECT count(*) FROM tracking_metric_buckets WHERE run_id = ? AND key = ? AND level = ? AND bucket BETWEEN ? AND ?').pluck()
  for (let level = BUCKET_WIDTHS.length - 1; level >= 0; level--) {
    const w = BUCKET_WIDTHS[level]
    const bLo = Number.isFinite(lo) ? Math.ceil(lo / w) : Number.MIN_SAFE_INTEGER
    const bHi = Number.isFinite(hi) ? Math.floor((hi + 1) / w) - 1 : Number.MAX_SAFE_INTEGER
    if (bLo > bHi) continue
    if ((count.get(runId, key, level, bLo, bHi) as number) < minBuckets) continue
    const rows = db
      .prepare(
        `SELECT bucket, n, min_step, min_timestamp, min_value, max_step, max_timestamp, max_value FROM tracking_metric_buckets
         WHERE run_id = ? AND key = ? AND level = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`
      )
      .all(runId, key, level, bLo, bHi) as BucketRow[]
    return { level, bLo, bHi, rows }
  }
  return null
}
