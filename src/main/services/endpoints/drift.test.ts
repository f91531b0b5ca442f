import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { backtest, benjaminiHochberg, checkWindow, computeBaseline, DriftAlarm, gammaQ, ksPValue, psi } from './drift'

let db: DuckDBInstance
let conn: DuckDBConnection
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:')
  conn = await db.connect()
  await conn.run('SELECT setseed(0.42)')
  // a deterministic "training" table and windows built from the same generator
  const gen = (n: number, shift: number, fiberShare: number, seed: number) => `
    SELECT ((hash(i * 7 + ${seed}) % 1000000) / 1000000.0) * 72 + ${shift} AS tenure,
           (hash(i * 13 + ${seed}) % 5)::INTEGER AS calls,
           CASE WHEN (hash(i * 17 + ${seed}) % 1000) < ${fiberShare * 1000} THEN 'fiber' ELSE 'dsl' END AS internet
    FROM range(${n}) t(i)`
  await conn.run(`CREATE TABLE train AS ${gen(200000, 0, 0.3, 1)}`)
  await conn.run(`CREATE TABLE same AS ${gen(20000, 0, 0.3, 2)}`)
  await conn.run(`CREATE TABLE shifted AS ${gen(20000, 15, 0.3, 3)}`)
  await conn.run(`CREATE TABLE tiny AS ${gen(200000, 0.5, 0.3, 4)}`)
  await conn.run(`CREATE TABLE mixed AS SELECT tenure::VARCHAR AS tenure, calls, internet FROM same UNION ALL SELECT 'n/a', 1, NULL FROM range(2000)`)
})
afterAll(() => {
  conn.closeSync()
  db.closeSync()
})

describe('drift', () => {
  it('baseline has SageMaker-shaped statistics and constraints', async () => {
    const b = await computeBaseline(conn, 'SELECT * FROM train')
    expect(b.statistics.dataset.item_count).toBe(200000)
    const tenure = b.statistics.features.find((f) => f.name === 'tenure')!
    expect(tenure.inferred_type).toBe('Fractional')
    expect(tenure.numerical_statistics!.common).toEqual({ num_present: 200000, num_missing: 0 })
    expect(tenure.numerical_statistics!.distribution.kll.buckets).toHaveLength(10)
    expect(tenure.numerical_statistics!.mean).toBeCloseTo(36, 0)
    expect(b.statistics.features.find((f) => f.name === 'calls')!.inferred_type).toBe('Integral')
    const internet = b.statistics.features.find((f) => f.name === 'internet')!
    expect(internet.string_statistics!.distribution.categorical.buckets.map((x) => x.value)).toEqual(['dsl', 'fiber'])
    expect(b.constraints.features.map((f) => [f.name, f.completeness])).toEqual([
      ['tenure', 1],
      ['calls', 1],
      ['internet', 1]
    ])
    expect(b.constraints.monitoring_config.distribution_constraints.comparison_method).toBe('Robust')
  })

  it('flags a shifted numeric feature by effect size, not a same-distribution window nor a tiny shift on many rows', async () => {
    const b = await computeBaseline(conn, 'SELECT * FROM train')
    const same = await checkWindow(conn, b, 'SELECT * FROM same')
    expect(same.drifted).toBe(false)
    const shifted = await checkWindow(conn, b, 'SELECT * FROM shifted')
    const t = shifted.features.find((f) => f.name === 'tenure')!
    expect(t.drifted).toBe(true)
    expect(t.ks!).toBeGreaterThan(0.15)
    expect(t.psi).toBeGreaterThan(0.2)
    expect(shifted.features.find((f) => f.name === 'internet')!.drifted).toBe(false)
    // 200k rows shifted by 0.5 (of 72): significant p-value, negligible effect: not drift
    const tiny = await checkWindow(conn, b, 'SELECT * FROM tiny')
    const tt = tiny.features.find((f) => f.name === 'tenure')!
    expect(tt.qValue).toBeLessThan(0.05)
    expect(tt.drifted).toBe(false)
  })

  it('reports type violations and missing values', async () => {
    const b = await computeBaseline(conn, 'SELECT * FROM train')
    const r = await checkWindow(conn, b, 'SELECT * FROM mixed')
    expect(r.features.find((f) => f.name === 'tenure')!.typeViolations).toBe(2000)
    expect(r.features.find((f) => f.name === 'internet')!.missingViolation).toBe(true)
    expect(r.violations.map((v) => v.constraint_check_type)).toEqual(expect.arrayContaining(['data_type_check', 'completeness_check']))
  })

  it('statistics helpers', () => {
    expect(psi([50, 50], [50, 50])).toBe(0)
    expect(psi([50, 50], [90, 10])).toBeCloseTo(0.4 * Math.log(1.8) + -0.4 * Math.log(0.2), 6)
    // chi-square survival: P(X > 3.841 | 1 dof) = 0.05; P(X > 5.991 | 2 dof) = 0.05
    expect(gammaQ(0.5, 3.841 / 2)).toBeCloseTo(0.05, 3)
    expect(gammaQ(1, 5.991 / 2)).toBeCloseTo(0.05, 3)
    // KS: D = 0.1 with n = m = 200 → p ≈ 0.27 (scipy.stats.ks_2samp asymptotic)
    expect(ksPValue(0.1, 200, 200)).toBeGreaterThan(0.2)
    expect(ksPValue(0.1, 200, 200)).toBeLessThan(0.32)
    // sorted 0.01, 0.03, 0.04, 0.5 → 0.04, min(0.06, 0.0533), 0.0533, 0.5
    expect(benjaminiHochberg([0.01, 0.04, 0.03, 0.5]).map((v) => v.toFixed(5))).toEqual(['0.04000', '0.05333', '0.05333', '0.50000'])
  })

  it('an alarm fires exactly once after N consecutive drifted windows and clears after N clean ones', () => {
    const a = new DriftAlarm(3)
    const seq = [true, true, false, true, true, true, true, true, false, true, false, false, false]
    const got = seq.map((d) => a.observe(d))
    expect(got.filter((x) => x === 'fired')).toHaveLength(1)
    expect(got.indexOf('fired')).toBe(5)
    expect(got.indexOf('cleared')).toBe(12)
  })

  it('backtests a rule over a table split by a time column', async () => {
    await conn.run(`CREATE TABLE history AS
      SELECT DATE '2026-01-15' + INTERVAL (m) MONTH AS ts, * EXCLUDE (m) FROM (
        SELECT 0 AS m, * FROM same UNION ALL SELECT 1, * FROM same UNION ALL SELECT 2, * FROM shifted
        UNION ALL SELECT 3, * FROM shifted UNION ALL SELECT 4, * FROM shifted)`)
    const b = await computeBaseline(conn, 'SELECT * FROM train')
    const r = await backtest(conn, b, 'SELECT * FROM history', 'ts', 'month', 2)
    expect(r.map((x) => [x.drifted, x.alarm])).toEqual([
      [false, null],
      [false, null],
      [true, null],
      [true, 'fired'],
      [true, null]
    ])
    expect(r[3].driftedFeatures).toEqual(['tenure'])
  })
})
