/**
 * Batch prediction: a Data room table sent through an endpoint in chunks (through its proxy, so
 * metrics see it), with progress and cancel; the rows and their predictions are written as one
 * Parquet file and added to the Data room as a new table.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BatchStatus, InvokeResult } from '../../../shared/endpoints'
import { AppError } from '../../../shared/errors'
import { sqlString } from './capture'

export interface BatchDeps {
  connect: () => Promise<DuckDBConnection>
  invoke: (body: string) => Promise<InvokeResult>
  /** Adds the result file to the Data room; returns the table's name. */
  publish: (file: string, name: string) => Promise<string>
  onStatus: (s: BatchStatus) => void
  chunkRows?: number
}

const quote = (t: string) =>
  t
    .split('.')
    .map((p) => `"${p.replace(/^"|"$/g, '').replace(/"/g, '""')}"`)
    .join('.')

export class BatchRun {
  readonly status: BatchStatus
  private cancelled = false

  constructor(
    endpoint: string,
    private readonly table: string,
    private readonly outDir: string,
    private readonly output: string,
    private readonly d: BatchDeps
  ) {
    this.status = { batchId: randomUUID(), endpoint, state: 'running', rowsDone: 0, rowsTotal: 0, table: null }
  }

  cancel(): BatchStatus {
    this.cancelled = true
    return this.status
  }

  private update(patch: Partial<BatchStatus>) {
    Object.assign(this.status, patch)
    this.d.onStatus({ ...this.status })
  }

  async run(columns: string[]): Promise<void> {
    const conn = await this.d.connect()
    const tmp = join(this.outDir, `.${this.status.batchId}.jsonl`)
    try {
      const src = quote(this.table)
      const [{ n }] = (await conn.runAndReadAll(`SELECT count(*) AS n FROM ${src}`).catch((err: Error) => {
        throw new AppError('INVALID_REQUEST', `Could not read table ${this.table}: ${err.message}`)
      })).getRowObjectsJson() as { n: string }[]
      const total = Number(n)
      this.update({ rowsTotal: total })
      mkdirSync(this.outDir, { recursive: true })
      const lines: string[] = []
      const chunk = this.d.chunkRows ?? 500
      for (let offset = 0; offset < total; offset += chunk) {
        if (this.cancelled) return this.update({ state: 'cancelled' })
        const r = await conn.runAndReadAll(`SELECT * FROM ${src} LIMIT ${chunk} OFFSET ${offset}`)
        const rows = r.getRowObjectsJson() as Record<string, unknown>[]
        const cols = columns.length ? columns : r.columnNames()
        const data = rows.map((row) => cols.map((c) => coerce(row[c])))
        const res = await this.d.invoke(JSON.stringify({ dataframe_split: { columns: cols, data } }))
        if (res.status !== 200) {
          const message = (res.body as { message?: string } | null)?.message ?? JSON.stringify(res.body)
          throw new AppError('ENDPOINT_ERROR', `Rows ${offset + 1}–${offset + rows.length}: HTTP ${res.status}: ${message}`)
        }
        const preds = (res.body as { predictions: unknown[] }).predictions
        rows.forEach((row, i) => lines.push(JSON.stringify({ ...row, prediction: JSON.stringify(preds[i]) })))
        this.update({ rowsDone: offset + rows.length })
      }
      if (this.cancelled) return this.update({ state: 'cancelled' })
      writeFileSync(tmp, lines.join('\n') + '\n')
      const file = join(this.outDir, `${this.output}.parquet`)
      await conn.run(`COPY (SELECT * REPLACE (TRY_CAST(prediction AS DOUBLE) AS prediction) FROM read_json_auto(${sqlString(tmp)})) TO ${sqlString(file)} (FORMAT parquet)`)
      const table = await this.d.publish(file, this.output)
      this.update({ state: 'succeeded', table })
    } catch (err) {
      this.update({ state: 'failed', error: (err as Error).message })
    } finally {
      rmSync(tmp, { force: true })
      conn.closeSync()
    }
  }
}

/** JSON-safe cell values (DuckDB hands big integers and decimals as strings). */
function coerce(v: unknown): unknown {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v)) return Number(v)
  return v
}
