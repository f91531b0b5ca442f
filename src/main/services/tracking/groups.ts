/**
 * Seeds grouped: runs grouped by param values, each group's metrics as n and mean ± 95 % CI (Student's
 * t), and a group's metric curve aligned by step with its band, computed over the stored series.
 */
import type { CompareItem, GroupSeries, MeanCi, MetricStats, RunGroup } from '../../../shared/trackingGroups'
import type { AppDatabase } from '../../db'

/** Two-sided 95 % critical values of Student's t for 1–30 degrees of freedom (scipy.stats.t.ppf(0.975, df)). */
const T975 = [
  12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.20098516, 2.17881283, 2.160368656,
  2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.10092204, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.06865761, 2.063898562, 2.059538553, 2.055529439,
  2.051830516, 2.048407142, 2.045229642, 2.042272456
]
const Z975 = 1.959963984540054

/** t(0.975, df): the table up to 30, then the Cornish–Fisher expansion around the normal quantile (error < 1e-6 there). */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a positive integer, not ${df}`)
  if (df <= T975.length) return T975[df - 1]
  const z = Z975
  const z3 = z ** 3
  const z5 = z ** 5
  const z7 = z ** 7
  const z9 = z ** 9
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  )
}

/** Mean and 95 % CI of the mean; non-finite values are left out. */
export function meanCi(values: number[]): MeanCi | null {
  const xs = values.filter((v) => Number.isFinite(v))
  const n = xs.length
  if (n === 0) return null
  const mean = xs.reduce((a, b) => a + b, 0) / n
  if (n === 1) return { n, mean, std: null, ci95: null }
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0)
  const std = Math.sqrt(ss / (n - 1))
  return { n, mean, std, ci95: (tCritical95(n - 1) * std) / Math.sqrt(n) }
}

/** meanCi with the smallest and largest value. */
export function metricStats(values: number[]): MetricStats | null {
  const s = meanCi(values)
  if (!s) return null
  const xs = values.filter((v) => Number.isFinite(v))
  return { ...s, min: Math.min(...xs), max: Math.max(...xs) }
}

interface GroupableRun {
  runId: string
  runName: string
  params: Record<string, string>
  metrics: { key: string; value: number | null }[]
}

/** Orders param values: numbers by value, then text, a missing value last. */
function compareValues(a: (string | null)[], b: (string | null)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (x === null) return 1
    if (y === null) return -1
    const nx = Number(x)
    const ny = Number(y)
    const c = x.trim() !== '' && y.trim() !== '' && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y)
    if (c !== 0) return c
  }
  return 0
}

/** Groups runs by the values of `groupBy` params, ordered by those values (numbers numerically). */
export function groupRuns(runs: GroupableRun[], groupBy: string[]): RunGroup[] {
  const groups = new Map<string, { values: (string | null)[]; runs: GroupableRun[] }>()
  for (const r of runs) {
    const values = groupBy.map((k) => r.params[k] ?? null)
    const id = JSON.stringify(values)
    const g = groups.get(id) ?? { values, runs: [] }
    g.runs.push(r)
    groups.set(id, g)
  }
  const out: RunGroup[] = []
  for (const g of groups.values()) {
    const metrics = latestStats(g.runs, meanCi)
    out.push({
      values: g.values,
      label: groupBy.map((k, i) => `${k}=${g.values[i] ?? '∅'}`).join(', '),
      runIds: g.runs.map((r) => r.runId),
      runNames: g.runs.map((r) => r.runName || r.runId),
      metrics
    })
  }
  return out.sort((a, b) => compareValues(a.values, b.values))
}

/**
 * One metric over several runs (internal ids), aligned by step: each run's value at a step (its
 * mean, when logged more than once there), then across runs n, mean and the 95 % band. With more
 * distinct steps than maxPoints, steps are bucketed (per run first, so that a run logging more
 * often does not weigh more).
 */
export function groupSeries(db: AppDatabase, runIds: number[], key: string, maxPoints = 1000): Omit<GroupSeries, 'runs'> {
  const empty = { key, steps: [], mean: [], lower: [], upper: [], n: [], runsWithValues: 0, bucketed: false }
  if (runIds.length === 0) return empty
  const marks = runIds.map(() => '?').join(',')
  const range = db
    .prepare(`SELECT MIN(step), MAX(step), COUNT(DISTINCT step), COUNT(DISTINCT run_id) FROM tracking_metrics WHERE run_id IN (${marks}) AND key = ? AND is_nan = 0`)
    .raw(true)
    .get(...runIds, key) as [number | null, number | null, number, number]
  const [lo, hi, distinct, runsWithValues] = range
  if (lo === null || hi === null) return empty
  const bucketed = distinct > maxPoints
  const width = bucketed ? Math.ceil((hi - lo + 1) / maxPoints) : 1
  // per run and bucket (or step): the mean value and the mean step
  const rows = db
    .prepare(
      `SELECT CAST((step - ?) / ? AS INTEGER) AS b, run_id, AVG(value), AVG(step) FROM tracking_metrics
       WHERE run_id IN (${marks}) AND key = ? AND is_nan = 0 GROUP BY b, run_id ORDER BY b`
    )
    .raw(true)
    .all(lo, width, ...runIds, key) as [number, number, number, number][]
  const out: Omit<GroupSeries, 'runs'> = { ...empty, runsWithValues, bucketed }
  let i = 0
  while (i < rows.length) {
    const b = rows[i][0]
    const vals: number[] = []
    const xs: number[] = []
    for (; i < rows.length && rows[i][0] === b; i++) {
      vals.push(rows[i][2])
      xs.push(rows[i][3])
    }
    const s = meanCi(vals)
    if (!s) continue
    out.steps.push(bucketed ? xs.reduce((a, x) => a + x, 0) / xs.length : lo + b)
    out.mean.push(s.mean)
    out.lower.push(s.mean - (s.ci95 ?? 0))
    out.upper.push(s.mean + (s.ci95 ?? 0))
    out.n.push(s.n)
  }
  return out
}

/** The item's runs' latest value of each metric, keyed and sorted by metric (runs without it left out). */
function latestStats(runs: GroupableRun[], stats: (vs: number[]) => MeanCi | null): Record<string, MeanCi> {
  const byKey = new Map<string, number[]>()
  for (const r of runs) for (const m of r.metrics) if (m.value !== null) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m.value])
  const out: Record<string, MeanCi> = {}
  for (const [k, vs] of [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const s = stats(vs)
    if (s) out[k] = s
  }
  return out
}

/** One compared item without its curves: shared and varying params, metric statistics. */
export type CompareStats = Omit<CompareItem, 'series'>

/**
 * Items (groups, or single runs as groups of one) side by side. `paramKeys` is every param of any
 * compared run; a param goes into `params` when all the item's runs agree on it, else into `varying`.
 * A param differs between items when their shared values, or their sets of values, are not all equal.
 */
export function compareItems(items: { label?: string; runs: GroupableRun[] }[]): { items: CompareStats[]; paramKeys: string[]; differing: string[]; metricKeys: string[] } {
  const paramKeys = [...new Set(items.flatMap((it) => it.runs.flatMap((r) => Object.keys(r.params))))].sort()
  const out = items.map((it): CompareStats => {
    const params: Record<string, string | null> = {}
    const varying: Record<string, (string | null)[]> = {}
    for (const k of paramKeys) {
      const values = [...new Set(it.runs.map((r) => r.params[k] ?? null))]
      if (values.length === 1) params[k] = values[0]
      else varying[k] = values.sort((a, b) => compareValues([a], [b]))
    }
    const names = it.runs.map((r) => r.runName || r.runId)
    return {
      label: it.label ?? (it.runs.length === 1 ? names[0] : `${it.runs.length} runs`),
      runIds: it.runs.map((r) => r.runId),
      runNames: names,
      params,
      varying,
      metrics: latestStats(it.runs, metricStats) as Record<string, MetricStats>
    }
  })
  const cell = (it: CompareStats, k: string) => (k in it.params ? JSON.stringify(['=', it.params[k]]) : JSON.stringify(['~', it.varying[k]]))
  const differing = paramKeys.filter((k) => new Set(out.map((it) => cell(it, k))).size > 1)
  const metricKeys = [...new Set(out.flatMap((it) => Object.keys(it.metrics)))].sort()
  return { items: out, paramKeys, differing, metricKeys }
}
