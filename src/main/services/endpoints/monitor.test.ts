import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { silentLogger } from '../../log'
import { EndpointMonitor } from './monitor'

let db: DuckDBInstance
let dir: string
const monitors: EndpointMonitor[] = []
const make = (name: string) => {
  const m = new EndpointMonitor(name, join(dir, name), join(dir, name, 'capture'), {
    connect: () => db.connect(),
    flushCapture: async () => undefined,
    onAlarm: () => undefined,
    log: silentLogger
  })
  monitors.push(m)
  return m
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atelier-monitor-'))
  db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  const gen = (n: number, shift: number, seed: number) =>
    `SELECT ((hash(i * 7 + ${seed}) % 1000000) / 1000000.0) * 72 + ${shift} AS tenure, (hash(i * 13 + ${seed}) % 5)::INTEGER AS calls FROM range(${n}) t(i)`
  await c.run(`CREATE TABLE train AS ${gen(50000, 0, 1)}`)
  // seven months of history: two like training, three shifted by 15, two like training again
  const months = [0, 0, 15, 15, 15, 0, 0]
  const rows = (n: number, shift: number, seed: number, m: number) =>
    `SELECT TIMESTAMP '2026-01-10 08:00:00' + INTERVAL (${m}) MONTH + INTERVAL (i % 15) DAY AS ts,
            ((hash(i * 7 + ${seed}) % 1000000) / 1000000.0) * 72 + ${shift} AS tenure, (hash(i * 13 + ${seed}) % 5)::INTEGER AS calls FROM range(${n}) t(i)`
  await c.run(`CREATE TABLE history AS ${months.map((shift, m) => rows(5000, shift, 10 + m, m)).join(' UNION ALL ')}`)
  c.closeSync()
})
afterAll(() => {
  for (const m of monitors) m.dispose()
  db?.closeSync()
  rmSync(dir, { recursive: true, force: true })
})

describe('backtest of an alarm rule', () => {
  it('splits a table by its time column and shows where the alarm, with its hysteresis, would have fired and cleared', async () => {
    const m = make('churn')
    await m.setBaseline('train')
    m.configure({ consecutive: 2 })
    const r = await m.backtest({ table: 'history', timeColumn: 'ts', period: 'month' })
    expect(r.consecutive).toBe(2)
    expect(r.windows.map((w) => w.period.slice(0, 7))).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07'])
    expect(r.windows.map((w) => w.rows)).toEqual([5000, 5000, 5000, 5000, 5000, 5000, 5000])
    expect(r.windows.map((w) => w.drifted)).toEqual([false, false, true, true, true, false, false])
    // fires on the second drifted month, not the first; clears after two clean months
    expect(r.windows.map((w) => w.alarm)).toEqual([null, null, null, 'fired', null, null, 'cleared'])
    expect(r.windows.map((w) => w.firing)).toEqual([false, false, false, true, true, true, false])
    const tenure = (i: number) => r.windows[i].features.find((f) => f.name === 'tenure')!
    expect(tenure(0).psi).toBeLessThan(0.05)
    expect(tenure(2).psi).toBeGreaterThan(0.2)
    expect(tenure(2).ks!).toBeGreaterThan(0.15)
    expect(r.windows[0].features.map((f) => f.name).sort()).toEqual(['calls', 'tenure'])

    // a stricter rule (3 windows) fires one month later; the saved rule is untouched
    const strict = await m.backtest({ table: 'history', timeColumn: 'ts', period: 'month', consecutive: 3 })
    expect(strict.windows.map((w) => w.alarm)).toEqual([null, null, null, null, 'fired', null, null])
    expect(m.info().consecutive).toBe(2)
    // a PSI threshold above the shift's effect size: KS alone still flags it; both raised: nothing fires
    const loose = await m.backtest({ table: 'history', timeColumn: 'ts', period: 'month', thresholds: { psi: 100, ks: 0.99, cohenW: 100 } })
    expect(loose.windows.every((w) => w.alarm === null)).toBe(true)
  })

  it('refuses without a baseline, and names the columns when the time column is wrong', async () => {
    await expect(make('fresh').backtest({ table: 'history', timeColumn: 'ts', period: 'month' })).rejects.toMatchObject({ code: 'INVALID_STATE' })
    const m = make('churn2')
    await m.setBaseline('train')
    await expect(m.backtest({ table: 'history', timeColumn: 'when', period: 'month' })).rejects.toThrow(/no column 'when' \(it has ts, tenure, calls\)/)
    await expect(m.backtest({ table: 'nope', timeColumn: 'ts', period: 'month' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })
})
