import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { AppError, toErrorPayload, type ErrorPayload } from '../../../shared/errors'
import type { ExportResult } from '../../../shared/api'
import { toSqlError, type DuckEngine } from './engine'
import { quoteLiteral } from './sql'

/**
 * Writes a relation to CSV or Parquet with DuckDB's COPY, straight to disk. The file appears
 * under its name only when complete (temp file, then rename); progress is DuckDB's own estimate.
 */
export async function exportRelation(
  engine: DuckEngine,
  relation: string,
  format: 'csv' | 'parquet',
  path: string,
  progress: (percent: number | null, done: boolean, error?: ErrorPayload) => void
): Promise<ExportResult> {
  try {
    mkdirSync(dirname(path), { recursive: true })
  } catch (err) {
    throw new AppError('FILE_ERROR', `Cannot create the folder for ${path}: ${(err as NodeJS.ErrnoException).code}`, { path })
  }
  const tmp = `${path}.atelier-${process.pid}-${Date.now()}.tmp`
  const options = format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : '(FORMAT csv, HEADER true)'
  const conn = await engine.connect()
  const started = performance.now()
  const timer = setInterval(() => {
    const p = conn.progress.percentage
    progress(p >= 0 ? Math.min(100, p) : null, false)
  }, 200)
  try {
    const result = await conn.run(`COPY (SELECT * FROM ${relation}) TO ${quoteLiteral(tmp)} ${options}`)
    renameSync(tmp, path)
    const rows = result.rowsChanged
    progress(100, true)
    return { path, rows, bytes: statSync(path).size, elapsedMs: performance.now() - started }
  } catch (err) {
    rmSync(tmp, { force: true, recursive: true })
    const e = toSqlError(err, '')
    progress(null, true, toErrorPayload(e))
    throw e
  } finally {
    clearInterval(timer)
    conn.closeSync()
  }
}
