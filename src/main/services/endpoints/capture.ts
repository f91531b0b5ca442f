/**
 * Data capture: a sample of each endpoint's requests and answers (inputs as records, outputs,
 * latency, variant, time) buffered in memory and appended to the data dir as rolling Parquet files
 * (one file per flush, named by time) written with DuckDB. A Data room source over
 * `<dir>/*.parquet` reads them all.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../log'

export interface CaptureRow {
  ts: number
  variant: string
  shadow: boolean
  status: number
  latency_ms: number
  content_type: string
  /** The request's rows as JSON records (null when it could not be read as a table). */
  inputs: string | null
  request: string
  response: string
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/** The rows of an MLflow scoring request as records, or null (CSV is left as text). */
export function requestRecords(body: string, contentType: string): Record<string, unknown>[] | null {
  if (!contentType.startsWith('application/json')) return null
  try {
    const doc = JSON.parse(body) as Record<string, unknown>
    if (doc.dataframe_split && typeof doc.dataframe_split === 'object') {
      const { columns, data } = doc.dataframe_split as { columns?: string[]; data?: unknown[][] }
      if (!Array.isArray(columns) || !Array.isArray(data)) return null
      return data.map((row) => Object.fromEntries(columns.map((c, i) => [c, (row as unknown[])[i]])))
    }
    const list = doc.dataframe_records ?? doc.instances ?? doc.inputs
    if (Array.isArray(list) && list.every((r) => r && typeof r === 'object' && !Array.isArray(r))) return list as Record<string, unknown>[]
    if (list && typeof list === 'object' && !Array.isArray(list)) {
      const cols = Object.entries(list as Record<string, unknown>)
      const n = Math.max(0, ...cols.map(([, v]) => (Array.isArray(v) ? v.length : 1)))
      return Array.from({ length: n }, (_, i) => Object.fromEntries(cols.map(([k, v]) => [k, Array.isArray(v) ? v[i] : v])))
    }
    return null
  } catch {
    return null
  }
}

export class CaptureWriter {
  private rows: CaptureRow[] = []
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private db: Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> | null = null
  private seq = 0

  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly o: { flushMs?: number; maxRows?: number } = {}
  ) {}

  add(row: CaptureRow): void {
    this.rows.push(row)
    if (this.rows.length >= (this.o.maxRows ?? 5000)) void this.flush()
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.o.flushMs ?? 2000)
  }

  /** Writes what is buffered as one new Parquet file. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const rows = this.rows
    this.rows = []
    if (rows.length === 0) return this.flushing
    this.flushing = this.flushing.then(() => this.write(rows)).catch((err) => this.log.warn('capture: could not write Parquet', err))
    return this.flushing
  }

  private async write(rows: CaptureRow[]): Promise<void> {
    // one thread: capture must not take CPU from the scoring servers it records
    if (!this.db) this.db = DuckDBInstance.create(':memory:', { threads: '1' }).then(async (instance) => ({ instance, conn: await instance.connect() }))
    const { conn } = await this.db
    mkdirSync(this.dir, { recursive: true })
    const stamp = new Date(rows[0].ts).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
    const base = `capture-${stamp}-${process.pid}-${String(this.seq++).padStart(6, '0')}`
    const tmp = join(this.dir, `.${base}.jsonl`)
    // the request's rows as records are worked out here, off the request path
    writeFileSync(tmp, rows.map((r) => JSON.stringify(r.inputs === null ? { ...r, inputs: JSON.stringify(requestRecords(r.request, r.content_type)) } : r)).join('\n') + '\n')
    try {
      await conn.run(
        `COPY (SELECT make_timestamp(ts * 1000) AS time, variant, shadow, status, latency_ms, content_type, inputs, request, response
           FROM read_json(${sqlString(tmp)}, format = 'newline_delimited', columns = {ts: 'BIGINT', variant: 'VARCHAR', shadow: 'BOOLEAN', status: 'INTEGER', latency_ms: 'DOUBLE', content_type: 'VARCHAR', inputs: 'VARCHAR', request: 'VARCHAR', response: 'VARCHAR'}))
         TO ${sqlString(join(this.dir, `${base}.parquet`))} (FORMAT parquet)`
      )
    } finally {
      rmSync(tmp, { force: true })
    }
  }

  async close(): Promise<void> {
    await this.flush()
    await this.flushing
    if (this.db) {
      const { conn, instance } = await this.db
      conn.closeSync()
      instance.closeSync()
    }
    this.db = null
  }
}
