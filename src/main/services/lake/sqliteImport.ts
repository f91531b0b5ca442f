import { createRequire } from 'node:module'
import { rmSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { AppError } from '../../../shared/errors'
import { sqliteOptions } from '../../db/native'

export interface SqliteImportProgress {
  /** Rows copied so far, over all tables. */
  rows: number
  /** Rows in the file (counted before copying). */
  totalRows: number
}

export interface SqliteImportJob {
  /** Resolves with the number of tables once `out` holds the whole copy. */
  done: Promise<number>
  /** Stops the copy and removes the partial file; `done` rejects with CANCELLED. */
  cancel(): void
}

/**
 * Copies a SQLite file into a DuckDB database file `out`, off the main thread. DuckDB's own sqlite
 * extension is downloaded at run time and so is missing offline; instead a worker thread reads the
 * file with better-sqlite3 and appends each table with its own DuckDB instance. The caller attaches
 * `out` read-only when done, so the event loop never runs the copy. Column types come from the
 * values actually stored (SQLite is dynamically typed), so nothing is coerced or lost: a column that
 * mixes kinds becomes VARCHAR.
 */
export function importSqlite(file: string, out: string, onProgress?: (p: SqliteImportProgress) => void): SqliteImportJob {
  const req = createRequire(import.meta.url)
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      out,
      sqlite: req.resolve('better-sqlite3'),
      duckdb: req.resolve('@duckdb/node-api'),
      sqliteOptions: sqliteOptions({ readonly: true, fileMustExist: true })
    }
  })
  let cancelled = false
  const done = new Promise<number>((resolve, reject) => {
    let settled = false
    const fail = (err: AppError) => {
      if (settled) return
      settled = true
      rmSync(out, { force: true })
      rmSync(out + '.wal', { force: true })
      reject(err)
    }
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress?.({ rows: m.rows, totalRows: m.totalRows })
      else if (m.type === 'done') {
        settled = true
        resolve(m.tables)
        void worker.terminate()
      } else if (m.type === 'error') {
        fail(
          m.notSqlite
            ? new AppError('FILE_ERROR', `${file} is not a readable SQLite database: ${m.message}`, { path: file })
            : new AppError('FILE_ERROR', `Cannot import ${file}: ${m.message}`, { path: file })
        )
      }
    })
    worker.on('error', (err) => fail(new AppError('FILE_ERROR', `Cannot import ${file}: ${err.message}`, { path: file })))
    worker.on('exit', () => {
      if (cancelled) fail(new AppError('CANCELLED', `Import of ${file} cancelled`, { path: file }))
      else fail(new AppError('FILE_ERROR', `Cannot import ${file}: the import stopped`, { path: file }))
    })
  })
  return {
    done,
    cancel() {
      cancelled = true
      void worker.terminate()
    }
  }
}

type WorkerMessage =
  | { type: 'progress'; rows: number; totalRows: number }
  | { type: 'done'; tables: number }
  | { type: 'error'; message: string; notSqlite: boolean }

/** The worker (plain CommonJS, run with `eval` so that it needs no separate build entry). */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.sqlite)
const duck = require(workerData.duckdb)
const BATCH = 2048
const quoteIdent = (s) => '"' + String(s).replace(/"/g, '""') + '"'
const TYPES = { BIGINT: duck.BIGINT, DOUBLE: duck.DOUBLE, VARCHAR: duck.VARCHAR, BLOB: duck.BLOB }

function planTable(src, table) {
  const info = src.prepare('PRAGMA table_info(' + quoteIdent(table) + ')').all()
  return info.map((c) => {
    const kinds = src
      .prepare('SELECT DISTINCT typeof(' + quoteIdent(c.name) + ') AS k FROM ' + quoteIdent(table))
      .all()
      .map((r) => r.k)
      .filter((k) => k !== 'null')
    let sqlType = 'VARCHAR'
    if (kinds.length === 0) sqlType = 'VARCHAR'
    else if (kinds.every((k) => k === 'integer')) sqlType = 'BIGINT'
    else if (kinds.every((k) => k === 'integer' || k === 'real')) sqlType = 'DOUBLE'
    else if (kinds.every((k) => k === 'blob')) sqlType = 'BLOB'
    return { name: c.name, sqlType, type: TYPES[sqlType] }
  })
}

function convert(v, t) {
  if (v === null || v === undefined) return null
  switch (t) {
    case 'BIGINT': return typeof v === 'bigint' ? v : BigInt(v)
    case 'DOUBLE': return Number(v)
    case 'BLOB': return duck.blobValue(v)
    default: return Buffer.isBuffer(v) ? v.toString('hex') : String(v)
  }
}

async function main() {
  let src
  try {
    src = new Database(workerData.file, workerData.sqliteOptions)
    src.pragma('schema_version')
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: err.message, notSqlite: true })
    return
  }
  const instance = await duck.DuckDBInstance.create(workerData.out, { threads: '1', memory_limit: '1GB' })
  const conn = await instance.connect()
  try {
    src.defaultSafeIntegers(true)
    const tables = src
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((t) => t.name)
    let totalRows = 0
    for (const t of tables) totalRows += Number(src.prepare('SELECT count(*) FROM ' + quoteIdent(t)).pluck().get())
    let rows = 0
    let lastReport = 0
    parentPort.postMessage({ type: 'progress', rows, totalRows })
    for (const t of tables) {
      const plan = planTable(src, t)
      await conn.run('CREATE TABLE ' + quoteIdent(t) + ' (' + plan.map((c) => quoteIdent(c.name) + ' ' + c.sqlType).join(', ') + ')')
      const appender = await conn.createAppender(t, 'main')
      const types = plan.map((c) => c.type)
      let cols = types.map(() => [])
      const flush = () => {
        if (cols.length === 0 || cols[0].length === 0) return
        const chunk = duck.DuckDBDataChunk.create(types, cols[0].length)
        chunk.setColumns(cols)
        appender.appendDataChunk(chunk)
        rows += cols[0].length
        cols = types.map(() => [])
        const now = Date.now()
        if (now - lastReport > 250) {
          lastReport = now
          parentPort.postMessage({ type: 'progress', rows, totalRows })
        }
      }
      if (types.length > 0) {
        const stmt = src.prepare('SELECT * FROM ' + quoteIdent(t)).raw(true)
        for (const row of stmt.iterate()) {
          for (let i = 0; i < types.length; i++) cols[i].push(convert(row[i], plan[i].sqlType))
          if (cols[0].length >= BATCH) flush()
        }
        flush()
      }
      appender.closeSync()
    }
    await conn.run('CHECKPOINT')
    parentPort.postMessage({ type: 'progress', rows, totalRows })
    conn.closeSync()
    instance.closeSync()
    parentPort.postMessage({ type: 'done', tables: tables.length })
  } catch (err) {
    try { conn.closeSync(); instance.closeSync() } catch {}
    parentPort.postMessage({ type: 'error', message: err.message, notSqlite: false })
  } finally {
    src.close()
  }
}
main().catch((err) => {
  parentPort.postMessage({ type: 'error', message: String((err && err.message) || err), notSqlite: false })
})
`
