/** The time series' hot path: a batch's points into tracking_metrics, inside the caller's transaction. */
import type { Statement } from 'better-sqlite3'
import type { AppDatabase } from '../../db'
import type { MetricIn } from './validate'

export class PointWriter {
  /** Prepared once per row count. */
  private readonly insertSeries = new Map<number, Statement>()
  private readonly insertMetrics = new Map<number, Statement>()

  constructor(private readonly db: AppDatabase) {}

  /**
   * Returns rows added. Finite points are grouped by key and written 250 at a time by one statement
   * that binds the run and key once and three values per point (`SELECT ?, ?, column1… FROM (VALUES …)`),
   * which halves the values bound; NaNs (stored as 0 with is_nan = 1) take the plain multi-row INSERT.
   */
  insert(runId: number, metrics: readonly MetricIn[]): number {
    const byKey = new Map<string, MetricIn[]>()
    const nans: MetricIn[] = []
    for (const m of metrics) {
      if (Number.isNaN(m.value)) nans.push(m)
      else {
        const list = byKey.get(m.key)
        if (list) list.push(m)
        else byKey.set(m.key, [m])
      }
    }
    let added = 0
    const CHUNK = 250
    for (const [key, list] of byKey) {
      for (let i = 0; i < list.length; i += CHUNK) {
        const n = Math.min(CHUNK, list.length - i)
        let stmt = this.insertSeries.get(n)
        if (!stmt) {
          stmt = this.db.prepare(
            `INSERT OR IGNORE INTO tracking_metrics (run_id, key, step, timestamp, value, is_nan)
             SELECT ?, ?, column1, column2, column3, 0 FROM (VALUES ${Array(n).fill('(?, ?, ?)').join(', ')})`
          )
          this.insertSeries.set(n, stmt)
        }
        const args: (string | number | bigint)[] = new Array(2 + n * 3)
        args[0] = runId
        args[1] = key
        for (let k = 0; k < n; k++) {
          const m = list[i + k]
          args[2 + k * 3] = m.step
          args[3 + k * 3] = m.timestamp
          args[4 + k * 3] = m.value
        }
        added += stmt.run(args).changes
      }
    }
    const ROWS = 100
    for (let i = 0; i < nans.length; i += ROWS) {
      const n = Math.min(ROWS, nans.length - i)
      let stmt = this.insertMetrics.get(n)
      if (!stmt) {
        stmt = this.db.prepare(
          `INSERT OR IGNORE INTO tracking_metrics (run_id, key, step, timestamp, value, is_nan) VALUES ${Array(n).fill('(?, ?, ?, ?, 0, 1)').join(', ')}`
        )
        this.insertMetrics.set(n, stmt)
      }
      const args: (string | number | bigint)[] = new Array(n * 4)
      for (let k = 0; k < n; k++) {
        const m = nans[i + k]
        args[k * 4] = runId
        args[k * 4 + 1] = m.key
        args[k * 4 + 2] = m.step
        args[k * 4 + 3] = m.timestamp
      }
      added += stmt.run(args).changes
    }
    return added
  }
}
