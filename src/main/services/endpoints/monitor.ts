/**
 * Drift monitoring of one endpoint: a baseline from a Data room table (written as
 * `statistics.json` and `constraints.json` under `<dataDir>/endpoints/<name>/monitor/`), and a
 * schedule that checks each window of captured requests (the rows since the previous check) against
 * it, keeps a history of reports, writes each window's violations, and raises an alarm with
 * hysteresis (N consecutive drifted windows) that is shown in the app and POSTed to a webhook.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BacktestResult, DriftWindow, MonitorInfo } from '../../../shared/endpoints'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { sqlString } from './capture'
import { backtest, checkWindow, computeBaseline, DEFAULT_THRESHOLDS, DriftAlarm, type Baseline, type DriftThresholds } from './drift'

interface MonitorFile {
  table: string | null
  windowMinutes: number
  consecutive: number
  webhookUrl: string | null
  thresholds: DriftThresholds
  lastCheckAt: number
  alarm: { streak: number; cleanStreak: number; firing: boolean }
  history: DriftWindow[]
}

const quoteTable = (t: string) =>
  t
    .split('.')
    .map((p) => `"${p.replace(/^"|"$/g, '').replace(/"/g, '""')}"`)
    .join('.')

export class EndpointMonitor {
  private timer: NodeJS.Timeout | null = null
  private state: MonitorFile
  private running: Promise<unknown> = Promise.resolve()

  constructor(
    readonly name: string,
    private readonly dir: string,
    private readonly captureDir: string,
    private readonly o: {
      connect: () => Promise<DuckDBConnection>
      flushCapture: () => Promise<void>
      onAlarm: (w: DriftWindow, info: MonitorInfo) => void
      log: Logger
      now?: () => number
    }
  ) {
    this.state = this.load()
    this.schedule()
  }

  private get now() {
    return (this.o.now ?? Date.now)()
  }

  private load(): MonitorFile {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'monitor.json'), 'utf8')) as MonitorFile
    } catch {
      return {
        table: null,
        windowMinutes: 60,
        consecutive: 3,
        webhookUrl: null,
        thresholds: DEFAULT_THRESHOLDS,
        lastCheckAt: 0,
        alarm: { streak: 0, cleanStreak: 0, firing: false },
        history: []
      }
    }
  }

  private save() {
    mkdirSync(this.dir, { recursive: true })
    writeFileSync(join(this.dir, 'monitor.json.tmp'), JSON.stringify(this.state, null, 1))
    renameSync(join(this.dir, 'monitor.json.tmp'), join(this.dir, 'monitor.json'))
  }

  private schedule() {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    if (!this.baseline()) return
    this.timer = setInterval(() => void this.check().catch((err) => this.o.log.warn(`drift check of ${this.name} failed`, err)), this.state.windowMinutes * 60_000)
    this.timer.unref()
  }

  baseline(): Baseline | null {
    try {
      return {
        statistics: JSON.parse(readFileSync(join(this.dir, 'statistics.json'), 'utf8')),
        constraints: JSON.parse(readFileSync(join(this.dir, 'constraints.json'), 'utf8'))
      }
    } catch {
      return null
    }
  }

  info(): MonitorInfo {
    const b = this.baseline()
    return {
      table: this.state.table,
      baselineRows: b?.statistics.dataset.item_count ?? null,
      features: b?.statistics.features.map((f) => ({ name: f.name, type: f.inferred_type })) ?? [],
      windowMinutes: this.state.windowMinutes,
      consecutive: this.state.consecutive,
      webhookUrl: this.state.webhookUrl,
      thresholds: this.state.thresholds,
      alarmFiring: this.state.alarm.firing,
      history: this.state.history
    }
  }

  configure(p: { windowMinutes?: number; consecutive?: number; webhookUrl?: string | null; thresholds?: Partial<DriftThresholds> }): MonitorInfo {
    if (p.windowMinutes !== undefined) this.state.windowMinutes = p.windowMinutes
    if (p.consecutive !== undefined) this.state.consecutive = p.consecutive
    if (p.webhookUrl !== undefined) this.state.webhookUrl = p.webhookUrl
    if (p.thresholds) this.state.thresholds = { ...this.state.thresholds, ...p.thresholds }
    this.save()
    this.schedule()
    return this.info()
  }

  /** Computes the baseline from a Data room table (`source.table`). */
  async setBaseline(table: string): Promise<MonitorInfo> {
    const conn = await this.o.connect()
    try {
      const baseline = await computeBaseline(conn, `SELECT * FROM ${quoteTable(table)}`).catch((err: Error) => {
        throw new AppError('INVALID_REQUEST', `Could not read table ${table}: ${err.message}`)
      })
      mkdirSync(this.dir, { recursive: true })
      writeFileSync(join(this.dir, 'statistics.json'), JSON.stringify(baseline.statistics, null, 2))
      writeFileSync(join(this.dir, 'constraints.json'), JSON.stringify(baseline.constraints, null, 2))
      this.state.table = table
      this.state.lastCheckAt = this.now
      this.state.alarm = { streak: 0, cleanStreak: 0, firing: false }
      this.state.history = []
      this.save()
      this.schedule()
      return this.info()
    } finally {
      conn.closeSync()
    }
  }

  /**
   * Would the alarm have fired on history? A Data room table split by `timeColumn` into periods,
   * each checked against this endpoint's baseline, through an alarm with the rule's hysteresis.
   */
  async backtest(p: {
    table: string
    timeColumn: string
    period: BacktestResult['period']
    consecutive?: number
    thresholds?: Partial<DriftThresholds>
  }): Promise<BacktestResult> {
    const baseline = this.baseline()
    if (!baseline) throw new AppError('INVALID_STATE', `Endpoint '${this.name}' has no drift baseline yet (pick its training table first)`)
    const consecutive = p.consecutive ?? this.state.consecutive
    const thresholds = { ...this.state.thresholds, ...p.thresholds }
    const conn = await this.o.connect()
    try {
      const sql = `SELECT * FROM ${quoteTable(p.table)}`
      const cols = await conn.runAndReadAll(`DESCRIBE (${sql})`).catch((err: Error) => {
        throw new AppError('INVALID_REQUEST', `Could not read table ${p.table}: ${err.message}`)
      })
      const names = (cols.getRowObjectsJson() as { column_name: string }[]).map((c) => String(c.column_name))
      if (!names.includes(p.timeColumn)) throw new AppError('INVALID_REQUEST', `Table ${p.table} has no column '${p.timeColumn}' (it has ${names.join(', ')})`)
      const periods = await backtest(conn, baseline, sql, p.timeColumn, p.period, consecutive, thresholds).catch((err: Error) => {
        throw new AppError('INVALID_REQUEST', `Could not split ${p.table} by ${p.timeColumn}: ${err.message}`)
      })
      return {
        table: p.table,
        timeColumn: p.timeColumn,
        period: p.period,
        consecutive,
        thresholds,
        windows: periods.map(({ driftedFeatures: _, ...w }) => w)
      }
    } finally {
      conn.closeSync()
    }
  }

  /** Checks the requests captured since the last check; null when there were none. */
  check(): Promise<DriftWindow | null> {
    const run = this.running.then(() => this.checkNow())
    this.running = run.catch(() => undefined)
    return run
  }

  private async checkNow(): Promise<DriftWindow | null> {
    const baseline = this.baseline()
    if (!baseline) throw new AppError('INVALID_STATE', `Endpoint '${this.name}' has no drift baseline yet (pick its training table first)`)
    await this.o.flushCapture()
    const from = this.state.lastCheckAt
    const to = this.now
    if (!existsSync(this.captureDir) || !readdirSync(this.captureDir).some((f) => f.endsWith('.parquet'))) return null
    const schema = JSON.stringify([Object.fromEntries(baseline.statistics.features.map((f) => [f.name, 'VARCHAR']))])
    const window = `SELECT unnest(rec) FROM (
      SELECT unnest(from_json(inputs, ${sqlString(schema)})) AS rec FROM read_parquet(${sqlString(join(this.captureDir, '*.parquet'))})
      WHERE NOT shadow AND inputs IS NOT NULL AND inputs <> 'null' AND time > make_timestamp(${from * 1000}::BIGINT) AND time <= make_timestamp(${to * 1000}::BIGINT))`
    const conn = await this.o.connect()
    let w: DriftWindow
    try {
      const report = await checkWindow(conn, baseline, window, this.state.thresholds)
      this.state.lastCheckAt = to
      if (report.rows === 0) {
        this.save()
        return null
      }
      const alarm = new DriftAlarm(this.state.consecutive, this.state.alarm)
      const event = alarm.observe(report.drifted)
      this.state.alarm = { streak: alarm.streak, cleanStreak: alarm.cleanStreak, firing: alarm.firing }
      w = {
        from,
        to,
        rows: report.rows,
        drifted: report.drifted,
        alarm: event,
        features: report.features.map((f) => ({ name: f.name, psi: f.psi, ks: f.ks ?? null, cohenW: f.cohenW ?? null, pValue: f.pValue, qValue: f.qValue, drifted: f.drifted, typeViolations: f.typeViolations, completeness: f.completeness })),
        violations: report.violations.map((v) => v.description)
      }
      writeFileSync(join(this.dir, `violations-${to}.json`), JSON.stringify({ violations: report.violations }, null, 2))
      this.state.history = [...this.state.history, w].slice(-500)
      this.save()
    } finally {
      conn.closeSync()
    }
    if (w.alarm === 'fired') {
      this.o.onAlarm(w, this.info())
      if (this.state.webhookUrl) await this.postWebhook(w)
    }
    return w
  }

  private async postWebhook(w: DriftWindow) {
    try {
      const r = await fetch(this.state.webhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ endpoint: this.name, alarm: 'drift', window: { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), rows: w.rows }, violations: w.violations }),
        signal: AbortSignal.timeout(10_000)
      })
      if (!r.ok) this.o.log.warn(`drift webhook for ${this.name} answered ${r.status}`)
    } catch (err) {
      this.o.log.warn(`drift webhook for ${this.name} failed`, err)
    }
  }

  dispose() {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}
