import Database from 'better-sqlite3'
import { BIGINT, BLOB, DOUBLE, VARCHAR, DuckDBDataChunk, blobValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api'
import { AppError } from '../../../shared/errors'
import type { DuckEngine } from './engine'
import { sqliteOptions } from '../../db/native'
import { quoteIdent } from './sql'

const BATCH = 2048

interface Plan {
  name: string
  columns: { name: string; sqlType: 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'BLOB'; type: DuckDBType }[]
}

/**
 * Attaches a SQLite file without DuckDB's sqlite extension (which is downloaded at run time and so
 * is missing offline): reads it with better-sqlite3 and appends each table into an in-memory DuckDB
 * database of the same name. Column types come from the values actually stored (SQLite is dynamically
 * typed), so nothing is coerced or lost: a column that mixes kinds becomes VARCHAR.
 */
export async function importSqlite(engine: DuckEngine, file: string, dbName: string): Promise<number> {
  let src: Database.Database
  try {
    src = new Database(file, sqliteOptions({ readonly: true, fileMustExist: true }))
    src.pragma('schema_version') // throws on a file that is not SQLite
  } catch (err) {
    throw new AppError('FILE_ERROR', `${file} is not a readable SQLite database: ${(err as Error).message}`, { path: file })
  }
  try {
    src.defaultSafeIntegers(true)
    const tables = src
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
    await engine.run(`ATTACH ':memory:' AS ${quoteIdent(dbName)}`)
    const conn = await engine.connect()
    try {
      for (const t of tables) {
        const plan = planTable(src, t.name)
        await conn.run(
          `CREATE TABLE ${quoteIdent(dbName)}.main.${quoteIdent(t.name)} (${plan.columns
            .map((c) => `${quoteIdent(c.name)} ${c.sqlType}`)
            .join(', ')})`
        )
        const appender = await conn.createAppender(t.name, 'main', dbName)
        const types = plan.columns.map((c) => c.type)
        let cols: DuckDBValue[][] = types.map(() => [])
        const flush = () => {
          if (cols[0].length === 0) return
          const chunk = DuckDBDataChunk.create(types, cols[0].length)
          chunk.setColumns(cols)
          appender.appendDataChunk(chunk)
          cols = types.map(() => [])
        }
        const stmt = src.prepare(`SELECT * FROM ${quoteIdent(t.name)}`).raw(true)
        for (const row of stmt.iterate() as Iterable<unknown[]>) {
          for (let i = 0; i < types.length; i++) cols[i].push(convert(row[i], plan.columns[i].sqlType))
          if (cols[0].length >= BATCH) flush()
        }
        flush()
        appender.closeSync()
      }
    } finally {
      conn.closeSync()
    }
    return tables.length
  } finally {
    src.close()
  }
}

function planTable(src: Database.Database, table: string): Plan {
  const info = src.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as { name: string }[]
  const columns = info.map((c) => {
    const kinds = (
      src
        .prepare(`SELECT DISTINCT typeof(${quoteIdent(c.name)}) AS k FROM ${quoteIdent(table)}`)
        .all() as { k: string }[]
    )
      .map((r) => r.k)
      .filter((k) => k !== 'null')
    let sqlType: Plan['columns'][number]['sqlType'] = 'VARCHAR'
    if (kinds.length === 0) sqlType = 'VARCHAR'
    else if (kinds.every((k) => k === 'integer')) sqlType = 'BIGINT'
    else if (kinds.every((k) => k === 'integer' || k === 'real')) sqlType = 'DOUBLE'
    else if (kinds.every((k) => k === 'blob')) sqlType = 'BLOB'
    const type = { BIGINT, DOUBLE, VARCHAR, BLOB }[sqlType]
    return { name: c.name, sqlType, type }
  })
  return { name: table, columns }
}

function convert(v: unknown, t: Plan['columns'][number]['sqlType']): DuckDBValue {
  if (v === null || v === undefined) return null
  switch (t) {
    case 'BIGINT':
      return typeof v === 'bigint' ? v : BigInt(v as number)
    case 'DOUBLE':
      return Number(v)
    case 'BLOB':
      return blobValue(v as Uint8Array)
    case 'VARCHAR':
      return Buffer.isBuffer(v) ? v.toString('hex') : String(v)
  }
}
