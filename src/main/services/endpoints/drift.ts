/**
 * Drift with DuckDB: a baseline computed from training data, shaped like SageMaker Model Monitor's
 * `statistics.json` and `constraints.json` (per feature: completeness, inferred type, numeric
 * statistics with a KLL-like bucket distribution, or category frequencies), and a check of a window
 * of live data against it.
 *
 * Numeric features: PSI over the baseline's decile buckets and the two-sample Kolmogorov–Smirnov
 * statistic (the largest gap between the two CDFs, read at the baseline's 101 quantiles).
 * Categorical features: chi-square goodness of fit against the baseline frequencies, with Cohen's w
 * as its effect size, and PSI. p-values are corrected for testing many features at once
 * (Benjamini–Hochberg); a feature drifts only when its corrected p-value is significant AND its
 * effect size passes its threshold, so a large window does not flag every tiny difference.
 * Missing values (completeness below the baseline's) and type violations (values that are not
 * numbers in a numeric feature) are reported beside it.
 */
import type { DuckDBConnection } from '@duckdb/node-api'

export interface NumericStats {
  common: { num_present: number; num_missing: number }
  mean: number
  sum: number
  std_dev: number
  min: number
  max: number
  distribution: {
    kll: { buckets: { lower_bound: number; upper_bound: number; count: number }[] }
    /** 101 quantiles (0, 1 … 100 %) and the baseline's CDF at each (ties make it differ from i/100). */
    quantiles: number[]
    cdf: number[]
  }
}

export interface StringStats {
  common: { num_present: number; num_missing: number }
  distinct_count: number
  distribution: { categorical: { buckets: { value: string; count: number }[] } }
}

export interface FeatureStatistics {
  name: string
  inferred_type: 'Integral' | 'Fractional' | 'String'
  numerical_statistics?: NumericStats
  string_statistics?: StringStats
}

export interface Statistics {
  version: 0.0
  dataset: { item_count: number }
  features: FeatureStatistics[]
}

export interface Constraints {
  version: 0.0
  features: { name: string; inferred_type: FeatureStatistics['inferred_type']; completeness: number; num_constraints?: { is_non_negative: boolean } }[]
  monitoring_config: {
    evaluate_constraints: 'Enabled'
    emit_metrics: 'Enabled'
    distribution_constraints: { perform_comparison: 'Enabled'; comparison_threshold: number; comparison_method: 'Robust' }
  }
}

export interface Baseline {
  statistics: Statistics
  constraints: Constraints
}

export interface DriftThresholds {
  /** PSI at or above which a feature drifts (0.2 is the usual "significant shift"). */
  psi: number
  /** KS statistic at or above which a numeric feature drifts. */
  ks: number
  /** Cohen's w at or above which a categorical feature drifts (0.1 small, 0.3 medium). */
  cohenW: number
  /** False discovery rate for the Benjamini–Hochberg correction. */
  alpha: number
  /** Completeness may fall this much below the baseline's before it is a violation. */
  completenessSlack: number
}

export const DEFAULT_THRESHOLDS: DriftThresholds = { psi: 0.2, ks: 0.1, cohenW: 0.1, alpha: 0.05, completenessSlack: 0.05 }

export interface FeatureDrift {
  name: string
  kind: 'numeric' | 'categorical'
  n: number
  psi: number
  ks?: number
  chiSquare?: number
  cohenW?: number
  pValue: number
  /** Benjamini–Hochberg adjusted p-value over all features of the window. */
  qValue: number
  completeness: number
  baselineCompleteness: number
  missingViolation: boolean
  typeViolations: number
  drifted: boolean
}

export interface DriftReport {
  rows: number
  features: FeatureDrift[]
  /** Any feature drifted or broke a constraint. */
  drifted: boolean
  violations: { feature_name: string; constraint_check_type: 'data_type_check' | 'completeness_check' | 'baseline_drift_check'; description: string }[]
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/i
const INTEGRAL = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/i
const PROBS = Array.from({ length: 101 }, (_, i) => i / 100)
const EPS = 1e-4

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`
const num = (v: unknown) => (v === null || v === undefined ? NaN : Number(v))

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const r = await conn.runAndReadAll(sql)
  return r.getRowObjectsJson() as Record<string, unknown>[]
}

async function columns(conn: DuckDBConnection, sql: string): Promise<{ name: string; type: string }[]> {
  const r = await rows(conn, `DESCRIBE (${sql})`)
  return r.map((c) => ({ name: String(c.column_name), type: String(c.column_type) }))
}

/**
 * counts[i] = how many values of `x` in `table` are <= qs[i] (qs sorted): one sort-based ASOF join
 * of the values against the points, not one scan per point.
 */
async function cdfCounts(conn: DuckDBConnection, table: string, x: string, qs: number[]): Promise<number[]> {
  if (qs.length === 0) return []
  await conn.run(`CREATE OR REPLACE TEMP TABLE __points AS SELECT * FROM (VALUES ${qs.map((q, i) => `(${i}, ${q}::DOUBLE)`).join(', ')}) t(i, q)`)
  // a value matches the smallest point >= it; equal points: the last of them takes it
  const got = await rows(conn, `SELECT p.i, count(*) AS n FROM (SELECT ${x} AS x FROM ${table} WHERE ${x} IS NOT NULL) s ASOF JOIN __points p ON s.x <= p.q GROUP BY p.i`)
  const per = new Array<number>(qs.length).fill(0)
  for (const g of got) per[num(g.i)] += num(g.n)
  const out: number[] = []
  let acc = 0
  for (let i = 0; i < qs.length; i++) {
    acc += per[i]
    out.push(acc)
  }
  // ties: every point equal to qs[i] has the same count (the largest)
  for (let i = qs.length - 2; i >= 0; i--) if (qs[i] === qs[i + 1]) out[i] = out[i + 1]
  return out
}

/** Counts in the decile buckets (lower, upper] from counts at the 101 quantile points. */
function bucketCounts(quantiles: number[], counts: number[], present: number): { lower_bound: number; upper_bound: number; count: number }[] {
  const idx = [...new Set([10, 20, 30, 40, 50, 60, 70, 80, 90].map((p) => quantiles[p]))]
    .sort((a, b) => a - b)
    .map((v) => quantiles.lastIndexOf(v))
  const out = []
  let prev = 0
  let lower = quantiles[0] ?? 0
  for (const i of idx) {
    out.push({ lower_bound: lower, upper_bound: quantiles[i], count: counts[i] - prev })
    prev = counts[i]
    lower = quantiles[i]
  }
  out.push({ lower_bound: lower, upper_bound: quantiles[quantiles.length - 1] ?? lower, count: present - prev })
  return out
}

/** Statistics and constraints of `sql`'s result (every column is a feature). */
export async function computeBaseline(conn: DuckDBConnection, sql: string): Promise<Baseline> {
  const cols = await columns(conn, sql)
  await conn.run(`CREATE OR REPLACE TEMP TABLE __baseline AS ${sql}`)
  try {
    const numeric = cols.filter((c) => NUMERIC.test(c.type))
    const aggs = ['count(*) AS n']
    numeric.forEach((c, i) => {
      const x = `${ident(c.name)}::DOUBLE`
      aggs.push(
        `count(${x}) AS p${i}`,
        `avg(${x}) AS mean${i}`,
        `sum(${x}) AS sum${i}`,
        `coalesce(stddev_samp(${x}), 0) AS sd${i}`,
        `min(${x}) AS min${i}`,
        `max(${x}) AS max${i}`,
        `approx_quantile(${x}, [${PROBS.join(', ')}]) AS q${i}`
      )
    })
    const strings = cols.filter((c) => !NUMERIC.test(c.type))
    strings.forEach((c, i) => aggs.push(`count(${ident(c.name)}) AS sp${i}`, `approx_count_distinct(${ident(c.name)}) AS sd_${i}`))
    const [a] = await rows(conn, `SELECT ${aggs.join(', ')} FROM __baseline`)
    const n = num(a.n)
    const features: FeatureStatistics[] = []
    const constraints: Constraints['features'] = []
    // the CDF at each quantile and the decile bucket counts: one pass per numeric feature
    for (const [i, c] of numeric.entries()) {
      const present = num(a[`p${i}`])
      const q = ((a[`q${i}`] as unknown[] | null)?.map(num) ?? []).sort((x1, x2) => x1 - x2)
      const x = `${ident(c.name)}::DOUBLE`
      let cdf: number[] = []
      let buckets: NumericStats['distribution']['kll']['buckets'] = []
      if (present > 0) {
        const counts = await cdfCounts(conn, '__baseline', x, q)
        cdf = counts.map((v) => v / present)
        buckets = bucketCounts(q, counts, present)
      }
      const integral = INTEGRAL.test(c.type)
      features.push({
        name: c.name,
        inferred_type: integral ? 'Integral' : 'Fractional',
        numerical_statistics: {
          common: { num_present: present, num_missing: n - present },
          mean: num(a[`mean${i}`]),
          sum: num(a[`sum${i}`]),
          std_dev: num(a[`sd${i}`]),
          min: num(a[`min${i}`]),
          max: num(a[`max${i}`]),
          distribution: { kll: { buckets }, quantiles: q, cdf }
        }
      })
      constraints.push({ name: c.name, inferred_type: integral ? 'Integral' : 'Fractional', completeness: n ? present / n : 1, num_constraints: { is_non_negative: num(a[`min${i}`]) >= 0 } })
    }
    for (const [i, c] of strings.entries()) {
      const present = num(a[`sp${i}`])
      const top = await rows(conn, `SELECT ${ident(c.name)}::VARCHAR AS v, count(*) AS c FROM __baseline WHERE ${ident(c.name)} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100`)
      features.push({
        name: c.name,
        inferred_type: 'String',
        string_statistics: {
          common: { num_present: present, num_missing: n - present },
          distinct_count: num(a[`sd_${i}`]),
          distribution: { categorical: { buckets: top.map((t) => ({ value: String(t.v), count: num(t.c) })) } }
        }
      })
      constraints.push({ name: c.name, inferred_type: 'String', completeness: n ? present / n : 1 })
    }
    const order = new Map(cols.map((c, i) => [c.name, i]))
    features.sort((x, y) => order.get(x.name)! - order.get(y.name)!)
    constraints.sort((x, y) => order.get(x.name)! - order.get(y.name)!)
    return {
      statistics: { version: 0.0, dataset: { item_count: n }, features },
      constraints: {
        version: 0.0,
        features: constraints,
        monitoring_config: {
          evaluate_constraints: 'Enabled',
          emit_metrics: 'Enabled',
          distribution_constraints: { perform_comparison: 'Enabled', comparison_threshold: DEFAULT_THRESHOLDS.psi, comparison_method: 'Robust' }
        }
      }
    }
  } finally {
    await conn.run('DROP TABLE IF EXISTS __points')
    await conn.run('DROP TABLE IF EXISTS __baseline')
  }
}

export function psi(expected: number[], actual: number[]): number {
  const te = expected.reduce((s, v) => s + v, 0) || 1
  const ta = actual.reduce((s, v) => s + v, 0) || 1
  let out = 0
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] / te, EPS)
    const a = Math.max(actual[i] / ta, EPS)
    out += (a - e) * Math.log(a / e)
  }
  return out
}

/** Asymptotic two-sample KS p-value (Numerical Recipes' Q_KS with the small-sample correction). */
export function ksPValue(d: number, n: number, m: number): number {
  if (n === 0 || m === 0) return 1
  const en = Math.sqrt((n * m) / (n + m))
  const lambda = (en + 0.12 + 0.11 / en) * d
  if (lambda < 1e-3) return 1
  let sum = 0
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda)
    sum += term
    if (Math.abs(term) < 1e-12) break
  }
  return Math.min(1, Math.max(0, sum))
}

function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5]
  let y = x
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5)
  let ser = 1.000000000190015
  for (const v of c) ser += v / ++y
  return -tmp + Math.log((2.5066282746310005 * ser) / x)
}

/** Upper regularized incomplete gamma Q(a, x): the chi-square survival function is Q(k/2, x/2). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1
  if (x < a + 1) {
    let sum = 1 / a
    let del = sum
    let ap = a
    for (let i = 0; i < 1000; i++) {
      del *= x / ++ap
      sum += del
      if (Math.abs(del) < Math.abs(sum) * 1e-14) break
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a)))
  }
  let b = x + 1 - a
  let c = 1 / 1e-300
  let d = 1 / b
  let h = d
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < 1e-300) d = 1e-300
    c = b + an / c
    if (Math.abs(c) < 1e-300) c = 1e-300
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-14) break
  }
  return Math.min(1, Math.exp(-x + a * Math.log(x) - logGamma(a)) * h)
}

/** Benjamini–Hochberg adjusted p-values (same order as given). */
export function benjaminiHochberg(p: number[]): number[] {
  const m = p.length
  const idx = p.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0])
  const q = new Array<number>(m)
  let min = 1
  for (let k = m - 1; k >= 0; k--) {
    min = Math.min(min, (idx[k][0] * m) / (k + 1))
    q[idx[k][1]] = Math.min(1, min)
  }
  return q
}

/** Compares a window (`sql`'s result) with the baseline, feature by feature. */
export async function checkWindow(conn: DuckDBConnection, baseline: Baseline, sql: string, t: DriftThresholds = DEFAULT_THRESHOLDS): Promise<DriftReport> {
  const have = new Set((await columns(conn, sql)).map((c) => c.name))
  await conn.run(`CREATE OR REPLACE TEMP TABLE __window AS ${sql}`)
  try {
    const [{ n: nRaw }] = await rows(conn, 'SELECT count(*) AS n FROM __window')
    const n = num(nRaw)
    const out: Omit<FeatureDrift, 'qValue' | 'drifted'>[] = []
    const violations: DriftReport['violations'] = []
    for (const f of baseline.statistics.features) {
      const base = baseline.constraints.features.find((c) => c.name === f.name)!
      if (!have.has(f.name)) {
        violations.push({ feature_name: f.name, constraint_check_type: 'completeness_check', description: `Feature ${f.name} is missing from the window` })
        continue
      }
      const col = ident(f.name)
      if (f.numerical_statistics) {
        const s = f.numerical_statistics
        const x = `TRY_CAST(${col} AS DOUBLE)`
        const [r] = await rows(conn, `SELECT count(${x}) AS present, count(*) FILTER (WHERE ${col} IS NOT NULL AND ${x} IS NULL) AS bad FROM __window`)
        const present = num(r.present)
        const counts = present ? await cdfCounts(conn, '__window', x, s.distribution.quantiles) : s.distribution.quantiles.map(() => 0)
        const cdf = counts.map((v) => (present ? v / present : 0))
        const windowBuckets = bucketCounts(s.distribution.quantiles, counts, present).map((b) => b.count)
        const ks = present ? Math.max(...cdf.map((v, i) => Math.abs(v - s.distribution.cdf[i]))) : 0
        const completeness = n ? present / n : 1
        out.push({
          name: f.name,
          kind: 'numeric',
          n: present,
          psi: present ? psi(s.distribution.kll.buckets.map((b) => b.count), windowBuckets) : 0,
          ks,
          pValue: ksPValue(ks, s.common.num_present, present),
          completeness,
          baselineCompleteness: base.completeness,
          missingViolation: completeness < base.completeness - t.completenessSlack,
          typeViolations: num(r.bad)
        })
      } else if (f.string_statistics) {
        const s = f.string_statistics
        const cats = s.distribution.categorical.buckets
        const got = await rows(conn, `SELECT ${col}::VARCHAR AS v, count(*) AS c FROM __window WHERE ${col} IS NOT NULL GROUP BY 1`)
        const counts = new Map(got.map((g) => [String(g.v), num(g.c)]))
        const present = got.reduce((acc, g) => acc + num(g.c), 0)
        const baseTotal = s.common.num_present || 1
        const known = cats.reduce((acc, c) => acc + c.count, 0)
        const expectedP = [...cats.map((c) => c.count / baseTotal), Math.max((baseTotal - known) / baseTotal, 0)]
        const observed = [...cats.map((c) => counts.get(c.value) ?? 0), present - cats.reduce((acc, c) => acc + (counts.get(c.value) ?? 0), 0)]
        let chi = 0
        let k = 0
        observed.forEach((o, i) => {
          const e = Math.max(expectedP[i], EPS) * present
          if (expectedP[i] === 0 && o === 0) return
          chi += ((o - e) * (o - e)) / e
          k++
        })
        const completeness = n ? present / n : 1
        out.push({
          name: f.name,
          kind: 'categorical',
          n: present,
          psi: present ? psi(expectedP.map((p) => p * baseTotal), observed) : 0,
          chiSquare: chi,
          cohenW: present ? Math.sqrt(chi / present) : 0,
          pValue: present && k > 1 ? gammaQ((k - 1) / 2, chi / 2) : 1,
          completeness,
          baselineCompleteness: base.completeness,
          missingViolation: completeness < base.completeness - t.completenessSlack,
          typeViolations: 0
        })
      }
    }
    const q = benjaminiHochberg(out.map((f) => f.pValue))
    const features: FeatureDrift[] = out.map((f, i) => {
      const big = f.kind === 'numeric' ? f.psi >= t.psi || (f.ks ?? 0) >= t.ks : f.psi >= t.psi || (f.cohenW ?? 0) >= t.cohenW
      const drifted = q[i] < t.alpha && big
      if (drifted)
        violations.push({
          feature_name: f.name,
          constraint_check_type: 'baseline_drift_check',
          description: `${f.name}: PSI ${f.psi.toFixed(3)}${f.ks !== undefined ? `, KS ${f.ks.toFixed(3)}` : `, Cohen's w ${f.cohenW!.toFixed(3)}`} (BH-adjusted p ${q[i].toExponential(2)})`
        })
      if (f.missingViolation)
        violations.push({ feature_name: f.name, constraint_check_type: 'completeness_check', description: `${f.name}: completeness ${f.completeness.toFixed(3)} below the baseline's ${f.baselineCompleteness.toFixed(3)}` })
      if (f.typeViolations > 0)
        violations.push({ feature_name: f.name, constraint_check_type: 'data_type_check', description: `${f.name}: ${f.typeViolations} value(s) are not numbers` })
      return { ...f, qValue: q[i], drifted }
    })
    return { rows: n, features, drifted: violations.length > 0, violations }
  } finally {
    await conn.run('DROP TABLE IF EXISTS __points')
    await conn.run('DROP TABLE IF EXISTS __window')
  }
}

/**
 * An alarm with hysteresis: it fires once after `n` consecutive drifted windows and stays quiet
 * until `n` consecutive clean windows clear it, so one noisy window neither fires nor clears it.
 */
export class DriftAlarm {
  streak = 0
  cleanStreak = 0
  firing = false

  constructor(
    readonly n: number,
    state?: { streak: number; cleanStreak: number; firing: boolean }
  ) {
    if (state) Object.assign(this, { streak: state.streak, cleanStreak: state.cleanStreak, firing: state.firing })
  }

  /** 'fired' on the window that raises the alarm, 'cleared' on the one that clears it, else null. */
  observe(drifted: boolean): 'fired' | 'cleared' | null {
    if (drifted) {
      this.cleanStreak = 0
      this.streak++
      if (!this.firing && this.streak >= this.n) {
        this.firing = true
        return 'fired'
      }
    } else {
      this.streak = 0
      this.cleanStreak++
      if (this.firing && this.cleanStreak >= this.n) {
        this.firing = false
        return 'cleared'
      }
    }
    return null
  }
}

export interface BacktestPeriod {
  period: string
  rows: number
  drifted: boolean
  alarm: 'fired' | 'cleared' | null
  firing: boolean
  driftedFeatures: string[]
  features: { name: string; psi: number; ks: number | null; cohenW: number | null; qValue: number; drifted: boolean }[]
}

/**
 * Backtest of an alarm rule: `sql`'s rows split by `timeColumn` into periods (`date_trunc` units:
 * day, week, month…), each checked against the baseline as a window, in time order, through a
 * DriftAlarm — when it would have fired and cleared.
 */
export async function backtest(
  conn: DuckDBConnection,
  baseline: Baseline,
  sql: string,
  timeColumn: string,
  period: 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year',
  consecutive: number,
  t: DriftThresholds = DEFAULT_THRESHOLDS
): Promise<BacktestPeriod[]> {
  const periods = await rows(conn, `SELECT DISTINCT date_trunc('${period}', ${ident(timeColumn)})::VARCHAR AS p FROM (${sql}) WHERE ${ident(timeColumn)} IS NOT NULL ORDER BY 1`)
  const alarm = new DriftAlarm(consecutive)
  const out = []
  for (const { p } of periods) {
    const window = `SELECT * EXCLUDE (${ident(timeColumn)}) FROM (${sql}) WHERE date_trunc('${period}', ${ident(timeColumn)})::VARCHAR = '${String(p).replace(/'/g, "''")}'`
    const r = await checkWindow(conn, baseline, window, t)
    const event = alarm.observe(r.drifted)
    out.push({
      period: String(p),
      rows: r.rows,
      drifted: r.drifted,
      alarm: event,
      firing: alarm.firing,
      driftedFeatures: r.features.filter((f) => f.drifted).map((f) => f.name),
      features: r.features.map((f) => ({ name: f.name, psi: f.psi, ks: f.ks ?? null, cohenW: f.cohenW ?? null, qValue: f.qValue, drifted: f.drifted }))
    })
  }
  return out
}
