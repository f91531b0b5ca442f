import { StatementType, type DuckDBConnection } from '@duckdb/node-api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { DuckEngine, toSqlError } from './engine'
import { QueryManager, type PageFormat, type QueryManagerOptions } from './QueryManager'
import { quoteIdent, quoteLiteral, statementStarts } from './sql'

/** A source as the read-only lake shows it: a view over files, or an attached database file. */
export type ReaderSource =
  | { name: string; view: string; allowPath?: string; allowDirectory?: string }
  | { name: string; attach: string }

export interface ReadOnlyLakeOptions extends QueryManagerOptions {
  scratchDir: string
  memoryLimit?: string
  /** The sources to expose, read when the lake is (re)built. */
  sources: () => ReaderSource[]
  log: Logger
}

/** Statement kinds a read-only caller may run. */
const ALLOWED = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN])

/**
 * The lake for callers who may not write (viewers, reviewers): a second DuckDB instance holding
 * the same sources (views over the same files, the same database files attached READ_ONLY), then
 * locked down: `enable_external_access=false` (no file but the sources' own, no network, no
 * extension install), `lock_configuration=true` (no SET). Each statement is checked by the type
 * DuckDB gives it when prepared: only SELECT and EXPLAIN run, so COPY … TO, ATTACH, SET, PRAGMA,
 * INSTALL/LOAD, CREATE/INSERT/UPDATE/DELETE/DROP are refused before anything executes. It is
 * rebuilt on the first call after the catalog changes.
 */
export class ReadOnlyLake {
  private current: { engine: DuckEngine; queries: QueryManager } | null = null
  private building: Promise<{ engine: DuckEngine; queries: QueryManager }> | null = null
  private stale = true
  private gen = 0

  constructor(private readonly o: ReadOnlyLakeOptions) {}

  invalidate(): void {
    this.stale = true
  }

  async get(): Promise<{ engine: DuckEngine; queries: QueryManager }> {
    if (this.current && !this.stale) return this.current
    if (this.building) return this.building
    this.stale = false
    this.building = this.build()
      .then((next) => {
        const old = this.current
        this.current = next
        if (old) void this.close(old)
        return next
      })
      .finally(() => (this.building = null))
    return this.building
  }

  /** The manager holding a result, when this lake ran it. */
  owner(queryId: string): { engine: DuckEngine; queries: QueryManager } | null {
    return this.current?.queries.has(queryId) ? this.current : null
  }

  async run(queryId: string, sql: string, pageSize?: number, format?: PageFormat) {
    const lake = await this.get()
    const conn = await lake.engine.acquire()
    try {
      await checkReadOnly(conn, sql)
    } finally {
      lake.engine.release(conn)
    }
    return lake.queries.run(queryId, sql, pageSize, format)
  }

  async dispose(): Promise<void> {
    const c = this.current
    this.current = null
    if (c) await this.close(c)
  }

  private async build(): Promise<{ engine: DuckEngine; queries: QueryManager }> {
    const sources = this.o.sources()
    const log = this.o.log
    const engine = await DuckEngine.create({
      scratchDir: this.o.scratchDir,
      scratchFile: `results-ro-${process.pid}-${++this.gen}.duckdb`,
      memoryLimit: this.o.memoryLimit ?? '2GB',
      async setup(meta) {
        const paths: string[] = []
        const dirs: string[] = []
        for (const s of sources) {
          try {
            if ('attach' in s) await meta.run(`ATTACH ${quoteLiteral(s.attach)} AS ${quoteIdent(s.name)} (READ_ONLY)`)
            else {
              await meta.run(`CREATE VIEW ${quoteIdent(s.name)} AS SELECT * FROM ${s.view}`)
              if (s.allowPath) paths.push(s.allowPath)
              if (s.allowDirectory) dirs.push(s.allowDirectory)
            }
          } catch (err) {
            log.warn(`read-only lake: source ${s.name} left out: ${(err as Error).message}`)
          }
        }
        const list = (xs: string[]) => `[${xs.map(quoteLiteral).join(', ')}]`
        await meta.run(`SET allowed_paths = ${list(paths)}`)
        await meta.run(`SET allowed_directories = ${list(dirs)}`)
        await meta.run('SET autoload_known_extensions = false')
        await meta.run('SET enable_external_access = false')
        await meta.run('SET lock_configuration = true')
      }
    })
    const queries = new QueryManager(engine, this.o)
    return { engine, queries }
  }

  private async close(lake: { engine: DuckEngine; queries: QueryManager }): Promise<void> {
    try {
      await lake.queries.dispose()
    } finally {
      lake.engine.close()
    }
  }
}

/**
 * Refuses SQL that is anything but reading: every statement is prepared (bound, not run) and its
 * statement type checked. SQL_FORBIDDEN names the first statement that is not allowed.
 */
export async function checkReadOnly(conn: DuckDBConnection, sql: string): Promise<void> {
  let extracted
  try {
    extracted = await conn.extractStatements(sql)
  } catch (err) {
    throw toSqlError(err, sql)
  }
  const starts = statementStarts(sql)
  for (let k = 0; k < extracted.count; k++) {
    let type: number
    try {
      const prepared = await extracted.prepare(k)
      type = prepared.statementType
      prepared.destroySync()
    } catch (err) {
      const e = toSqlError(err, sql, starts[k] ?? 0)
      // Binding a write or a file access already fails with a permission error here: say so plainly.
      if (/Permission Error|configuration has been locked|disabled by configuration/i.test(String(e.details?.duckdb ?? e.message))) {
        throw new AppError('SQL_FORBIDDEN', `Read-only access: ${e.message}`, { statement: k, duckdb: e.details?.duckdb })
      }
      throw e
    }
    if (!ALLOWED.has(type)) {
      const name = (StatementType as unknown as Record<number, string>)[type] ?? String(type)
      throw new AppError(
        'SQL_FORBIDDEN',
        `Read-only access: ${name} statements are not allowed (statement ${k + 1}); only SELECT and EXPLAIN run.`,
        { statement: k, statementType: name }
      )
    }
  }
}
