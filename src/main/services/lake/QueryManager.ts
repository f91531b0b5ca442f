import {
  JsonDuckDBValueConverter,
  ResultReturnType,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBResult
} from '@duckdb/node-api'
import { devNull } from 'node:os'
import { AppError, toErrorPayload, type ErrorPayload } from '../../../shared/errors'
import type { ColumnInfo, PageResult, QueryProgressEvent, QueryStarted, RowPage } from '../../../shared/api'
import { SCRATCH, isInterrupt, toSqlError, type DuckEngine } from './engine'
import { isSingleStatement, quoteIdent, quoteLiteral, statementStarts } from './sql'
import { ArrowPageBuilder, encodeArrowPage, type ChunkSlice } from './arrowPage'
import { chunkBytes, NativeMemoryPacer } from './nativeMemory'

/** How a page travels: JSON values, or an Arrow IPC stream for the doors that carry bytes. */
export type PageFormat = 'json' | 'arrow'

type Phase = QueryProgressEvent['phase']

interface LiveQuery {
  id: string
  sql: string
  conn: DuckDBConnection
  startedAt: number
  /**
   * The query's duration, fixed when it stops reading: from the start of execution until every row
   * was read and counted (or the query failed). Its reply, progress events and History all show this.
   */
  elapsedMs?: number
  phase: Phase
  /** Scratch table holding the spooled rows (null for statements without a result set). */
  table: string | null
  columns: ColumnInfo[]
  available: number
  totalRows: number | null
  error?: ErrorPayload
  cancelRequested: boolean
  /** Index of the statement being run, for error positions in scripts. */
  statement: number
  /** Settles when the query stops reading (done, error or cancelled). */
  finished: Promise<void>
  /** Rows kept in memory when a result cannot be spooled (unusual types) or has no result set. */
  memory?: unknown[][]
  /** Chunks of a result small enough to fit the first page: spooled only if an analysis needs a table. */
  held?: DuckDBDataChunk[]
  /** The connection went back to the pool when reading stopped. */
  released: boolean
  /** The connection the scratch table is appended through, while spooling. */
  spoolConn?: DuckDBConnection
  /** Set once a held small result has been written to a scratch table. */
  spooled?: Promise<void>
  waiters: Set<() => void>
}

export interface QueryManagerOptions {
  emit: (e: QueryProgressEvent) => void
  onFinished?: (q: { sql: string; elapsedMs: number; rows: number | null; error: string | null }) => void
  /** Results kept open at once; the oldest finished ones are dropped beyond this. */
  maxOpen?: number
  progressIntervalMs?: number
  /** Rows kept in memory for results that cannot be spooled to the scratch database. */
  memoryCap?: number
}

const FLUSH_ROWS = 100_000
const FLUSH_MS = 250

/** Whole milliseconds since the query started; fixed once it stopped reading. */
function elapsedOf(q: LiveQuery): number {
  return q.elapsedMs ?? Math.round(performance.now() - q.startedAt)
}

function stopClock(q: LiveQuery): void {
  q.elapsedMs ??= Math.round(performance.now() - q.startedAt)
}

/**
 * Runs SQL and pages its result. One execution per query: the result is streamed chunk by chunk,
 * the first page goes back at once, and every chunk is appended (natively, no JS conversion) into a
 * table of the disk-backed scratch database, from which any page is read by rowid. The count
 * follows when the stream ends. Cancel interrupts DuckDB.
 */
export class QueryManager {
  private readonly queries = new Map<string, LiveQuery>()
  private seq = 0
  private readers: DuckDBConnection[] = []
  private readerBusy: boolean[] = []
  private readerQueue: (() => void)[] = []

  /** Frees the JS wrappers (and so the native memory) of DuckDB chunks the lake is done with. */
  readonly pacer = new NativeMemoryPacer()
  constructor(
    private readonly engine: DuckEngine,
    private readonly opts: QueryManagerOptions
  ) {}

  async run(queryId: string, sqlText: string, pageSize = 1000, format: PageFormat = 'json'): Promise<QueryStarted> {
    if (this.queries.has(queryId)) throw new AppError('INVALID_REQUEST', `Query id already in use: ${queryId}`)
    const conn = await this.engine.acquire()
    let finish!: () => void
    const q: LiveQuery = {
      id: queryId,
      sql: sqlText,
      conn,
      startedAt: performance.now(),
      phase: 'running',
      table: null,
      columns: [],
      available: 0,
      totalRows: null,
      cancelRequested: false,
      statement: 0,
      released: false,
      finished: new Promise<void>((r) => (finish = r)),
      waiters: new Set()
    }
    this.queries.set(queryId, q)
    this.evictOld()
    const timer = setInterval(() => this.emitProgress(q), this.opts.progressIntervalMs ?? 250)
    const first = new Promise<QueryStarted>((resolve, reject) => {
      this.execute(q, pageSize, format, resolve)
        .catch((err) => {
          const stmtStart = statementStarts(sqlText)[q.statement] ?? 0
          q.error = toErrorPayload(
            isInterrupt(err) || q.cancelRequested ? new AppError('CANCELLED', 'Query cancelled') : toSqlError(err, sqlText, stmtStart)
          )
          q.phase = q.error.code === 'CANCELLED' ? 'cancelled' : 'error'
          stopClock(q)
          reject(new AppError(q.error.code, q.error.message, q.error.details))
        })
        .finally(() => {
          clearInterval(timer)
          q.released = true
          this.engine.release(conn)
          if (q.phase === 'running' || q.phase === 'reading') q.phase = 'done'
          stopClock(q)
          this.wake(q)
          finish()
          // The reply (with the first page when the whole result fitted in it) goes out before the
          // final progress event and the History row, which follow on the next turn of the loop.
          setImmediate(() => {
            this.opts.onFinished?.({
              sql: sqlText,
              elapsedMs: elapsedOf(q),
              rows: q.totalRows,
              error: q.error && q.error.code !== 'CANCELLED' ? q.error.message : null
            })
            this.emitProgress(q)
          })
        })
    })
    return first
  }

  private async execute(q: LiveQuery, pageSize: number, format: PageFormat, started: (s: QueryStarted) => void): Promise<void> {
    const result = isSingleStatement(q.sql) ? await q.conn.stream(q.sql) : await this.runLeadingStatements(q)
    const names = result.deduplicatedColumnNames()
    const types = result.columnTypes()
    q.columns = names.map((name, i) => ({ name, type: types[i].toString() }))

    if (result.returnType !== ResultReturnType.QUERY_RESULT) {
      // DDL, INSERT, COPY…: a small result (a count or nothing) kept in memory.
      const chunks = await result.fetchAllChunks()
      q.memory = q.columns.map(() => [])
      for (const c of chunks) appendColumns(q.memory, c.convertColumns(JsonDuckDBValueConverter))
      q.available = q.totalRows = q.memory[0]?.length ?? 0
      q.phase = 'done'
      stopClock(q)
      started(this.startedPayload(q, { offset: 0, columns: q.memory, rowCount: q.available }, describeStatement(result)))
      return
    }

    // Chunks are held (natively, unconverted) until the result outgrows the first page: a small
    // result never touches the scratch database unless profile, chart or export asks for it.
    let appender: DuckDBAppender | null = null
    let held: DuckDBDataChunk[] | null = []
    // The first page: JSON values, or (Arrow) its record batches, each encoded as its chunk arrives.
    let pending: unknown[][] | null = q.columns.map(() => [])
    const firstArrow = format === 'arrow' ? new ArrowPageBuilder(q.columns.map((c) => c.name)) : null
    let pendingRows = 0
    let read = 0
    let unflushed = 0
    let lastFlush = performance.now()
    const deliverFirst = () => {
      if (!pending) return
      if (q.phase === 'running') q.phase = 'reading'
      const first: RowPage = firstArrow
        ? { offset: 0, columns: [], rowCount: pendingRows, arrow: firstArrow.finish() }
        : { offset: 0, columns: pending, rowCount: pendingRows }
      started(this.startedPayload(q, first))
      pending = null
    }
    // Each chunk is asked for before the one before it is handled: DuckDB produces it on its own
    // threads while this one is encoded or appended to the spool.
    const fetchNext = () => {
      const p = result.fetchChunk()
      p.catch(() => undefined) // awaited below; a failure while another await is pending is not unhandled
      return p
    }
    let next: Promise<DuckDBDataChunk | null> | null = fetchNext()
    try {
      for (;;) {
        if (q.cancelRequested) throw new AppError('CANCELLED', 'Query cancelled')
        const chunk: DuckDBDataChunk | null = await next
        next = null
        if (!chunk || chunk.rowCount === 0) break
        next = fetchNext()
        read += chunk.rowCount
        if (pending) {
          const take = Math.min(chunk.rowCount, pageSize - pendingRows)
          if (firstArrow) {
            firstArrow.add({ chunk, rows: take })
          } else {
            const cols = chunk.convertColumns(JsonDuckDBValueConverter)
            appendColumns(pending, take === chunk.rowCount ? cols : cols.map((c) => c.slice(0, take)))
          }
          pendingRows += take
          // The first page goes back before anything else is done with the chunk.
          if (pendingRows >= pageSize && read > pageSize) deliverFirst()
        }
        if (held) {
          held.push(chunk)
          if (read <= pageSize) continue
          appender = await this.createSpool(q)
          let upTo = 0
          for (const h of held) {
            upTo += h.rowCount
            if (appender) appender.appendDataChunk(h)
            else this.keepInMemory(q, h, upTo)
          }
          held = null
          unflushed = read
        } else if (appender) {
          appender.appendDataChunk(chunk)
          this.pacer.released(chunkBytes(chunk.rowCount, chunk.columnCount))
          unflushed += chunk.rowCount
        } else {
          this.keepInMemory(q, chunk, read)
        }
        const now = performance.now()
        if (appender && (unflushed >= FLUSH_ROWS || now - lastFlush >= FLUSH_MS)) {
          appender.flushSync()
          q.available = read
          unflushed = 0
          lastFlush = now
          this.wake(q)
        }
      }
      if (q.cancelRequested) throw new AppError('CANCELLED', 'Query cancelled')
      // DuckDB's Node API ends a stream that failed as if it had finished (no error, no more chunks);
      // only the result's type, INVALID afterwards, tells the two apart.
      if ((result.returnType as ResultReturnType) === ResultReturnType.INVALID) throw await this.streamFailure(q, read)
    } catch (err) {
      // rows read before a failure or a cancel stay pageable
      if (appender) {
        try {
          appender.flushSync()
          appender.closeSync()
          q.available = read
        } catch {
          // the spool keeps what was flushed before
        }
        this.closeSpoolConn(q)
      }
      throw err
    } finally {
      // the connection goes back to the pool only once no fetch runs on it
      if (next) await next.catch(() => null)
    }
    if (appender) {
      appender.flushSync()
      appender.closeSync()
      this.closeSpoolConn(q)
    }
    if (held) {
      // The whole result fitted in the first page (kept as chunks; JSON values made only if a page asks).
      q.held = held
      if (format === 'json') q.memory = pending ?? q.columns.map(() => [])
    }
    q.available = appender || held ? read : Math.min(read, this.memoryCap)
    q.totalRows = read
    q.phase = 'done'
    stopClock(q)
    deliverFirst()
  }

  /**
   * The error of a stream that stopped with one. DuckDB's Node API does not pass its message on, so
   * the statement runs once more with its rows written to the null device, and DuckDB says it then.
   */
  private async streamFailure(q: LiveQuery, read: number): Promise<AppError> {
    const start = statementStarts(q.sql)[q.statement] ?? 0
    const text = q.sql.slice(start).trim().replace(/;\s*$/, '')
    const unknown = new AppError('SQL_ERROR', `The query failed after ${read.toLocaleString('en-US')} rows; DuckDB did not say why.`, { rowsRead: read })
    try {
      await q.conn.run(`COPY (${text}) TO ${quoteLiteral(devNull)} (FORMAT csv)`)
      return unknown
    } catch (err) {
      if (err instanceof Error && err.message.includes(devNull)) return unknown
      const e = toSqlError(err, q.sql, start)
      return e.code === 'SQL_ERROR' ? new AppError('SQL_ERROR', e.message, { ...e.details, rowsRead: read }) : e
    }
  }

  /** Runs every statement but the last and streams the last (multi-statement SQL). */
  private async runLeadingStatements(q: LiveQuery) {
    const extracted = await q.conn.extractStatements(q.sql)
    if (extracted.count === 0) throw new AppError('SQL_ERROR', 'Nothing to run: the SQL has no statement')
    for (let i = 0; i < extracted.count - 1; i++) {
      q.statement = i
      const stmt = await extracted.prepare(i)
      await stmt.run()
      if (q.cancelRequested) throw new AppError('CANCELLED', 'Query cancelled')
    }
    q.statement = extracted.count - 1
    const last = await extracted.prepare(q.statement)
    return last.stream()
  }

  private get memoryCap(): number {
    return this.opts.memoryCap ?? 200_000
  }

  /** Fallback for results whose types a table cannot hold: a bounded copy in memory. */
  private keepInMemory(q: LiveQuery, chunk: DuckDBDataChunk, read: number): void {
    if (!q.memory) return
    const room = this.memoryCap - q.available
    if (room > 0) {
      const cols = chunk.convertColumns(JsonDuckDBValueConverter)
      appendColumns(q.memory, room >= chunk.rowCount ? cols : cols.map((c) => c.slice(0, room)))
    }
    q.available = Math.min(this.memoryCap, read)
  }

  /** A scratch table shaped like the result, and an appender on its own connection. */
  private async createSpool(q: LiveQuery): Promise<DuckDBAppender | null> {
    const table = `q_${++this.seq}`
    const conn = await this.engine.connect()
    q.spoolConn = conn
    try {
      const cols = q.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')
      await conn.run(`CREATE TABLE ${SCRATCH}.${table} (${cols})`)
      q.table = table
      const appender = await conn.createAppender(table, 'main', SCRATCH)
      return appender
    } catch {
      // Types DuckDB cannot store in a table (e.g. a bare NULL column): keep a bounded copy in memory.
      q.memory ??= q.columns.map(() => [])
      if (q.table) await conn.run(`DROP TABLE IF EXISTS ${SCRATCH}.${q.table}`).catch(() => undefined)
      q.table = null
      this.closeSpoolConn(q)
      return null
    }
  }

  private closeSpoolConn(q: LiveQuery): void {
    q.spoolConn?.closeSync()
    q.spoolConn = undefined
  }

  private startedPayload(q: LiveQuery, first: RowPage, message?: string): QueryStarted {
    return {
      queryId: q.id,
      columns: q.columns,
      first,
      available: Math.max(q.available, first.rowCount),
      totalRows: q.totalRows,
      done: q.phase === 'done',
      elapsedMs: elapsedOf(q),
      ...(message ? { message } : {})
    }
  }

  private emitProgress(q: LiveQuery): void {
    let percent: number | null = null
    if (q.phase === 'running') {
      try {
        const p = q.conn.progress.percentage
        percent = p >= 0 ? Math.min(100, p) : null
      } catch {
        percent = null
      }
    } else if (q.phase === 'done') percent = 100
    this.opts.emit({
      queryId: q.id,
      phase: q.phase,
      percent,
      available: q.available,
      totalRows: q.totalRows,
      elapsedMs: elapsedOf(q),
      ...(q.error ? { error: q.error } : {})
    })
  }

  private wake(q: LiveQuery): void {
    for (const w of q.waiters) w()
    q.waiters.clear()
  }

  has(queryId: string): boolean {
    return this.queries.has(queryId)
  }

  private get(queryId: string): LiveQuery {
    const q = this.queries.get(queryId)
    if (!q) throw new AppError('NOT_FOUND', `No open result for query ${queryId}; run it again`)
    return q
  }

  async page(queryId: string, offset: number, limit: number, format: PageFormat = 'json'): Promise<PageResult> {
    const q = this.get(queryId)
    // Wait until the requested rows are spooled or the query stops reading.
    while (q.available < offset + limit && q.phase !== 'done' && q.phase !== 'error' && q.phase !== 'cancelled') {
      await new Promise<void>((r) => q.waiters.add(r))
    }
    const end = Math.min(offset + limit, q.available)
    const base = { offset, available: q.available, totalRows: q.totalRows }
    if (end <= offset) return { ...base, columns: q.columns.map(() => []), rowCount: 0 }
    if (!q.table) {
      if (!q.memory && q.held) {
        q.memory = q.columns.map(() => [])
        for (const h of q.held) appendColumns(q.memory, h.convertColumns(JsonDuckDBValueConverter))
      }
      const cols = (q.memory ?? []).map((c) => c.slice(offset, end))
      return { ...base, columns: cols, rowCount: end - offset }
    }
    const sql = `SELECT * FROM ${SCRATCH}.${q.table} WHERE rowid >= ${offset} AND rowid < ${end} ORDER BY rowid`
    if (format === 'arrow') {
      const arrow = await this.withReader(async (conn) => {
        const result = await conn.run(sql)
        const slices: ChunkSlice[] = []
        for (let k = 0; k < result.chunkCount; k++) {
          const chunk = result.getChunk(k)
          slices.push({ chunk, rows: chunk.rowCount })
        }
        const page = encodeArrowPage(q.columns.map((c) => c.name), slices)
        // the result and its chunks are done with: counted twice (materialised result + chunk copies)
        this.pacer.released(2 * chunkBytes(end - offset, q.columns.length))
        return page
      })
      return { ...base, columns: [], rowCount: end - offset, arrow }
    }
    const columns = await this.withReader(async (conn) => {
      const reader = await conn.runAndReadAll(sql)
      return reader.getColumnsJson() as unknown[][]
    })
    return { ...base, columns, rowCount: end - offset }
  }

  /** The scratch table of a finished result, for profile/chart/export; waits for reading to end. */
  async resultTable(queryId: string): Promise<{ table: string; columns: ColumnInfo[]; rows: number }> {
    const q = this.get(queryId)
    await q.finished
    if (q.phase === 'error') throw new AppError(q.error!.code, q.error!.message, q.error!.details)
    if (!q.table && q.held) {
      q.spooled ??= this.spoolHeld(q)
      await q.spooled
    }
    if (!q.table) throw new AppError('UNSUPPORTED', 'This result cannot be analysed (its column types cannot be stored in a table)')
    return { table: `${SCRATCH}.${q.table}`, columns: q.columns, rows: q.available }
  }

  private async spoolHeld(q: LiveQuery): Promise<void> {
    const appender = await this.createSpool(q)
    if (!appender) return
    for (const h of q.held ?? []) appender.appendDataChunk(h)
    appender.flushSync()
    appender.closeSync()
    this.closeSpoolConn(q)
    q.held = undefined
  }

  cancel(queryId: string): boolean {
    const q = this.queries.get(queryId)
    if (!q || q.released || q.phase === 'done' || q.phase === 'error' || q.phase === 'cancelled') return false
    q.cancelRequested = true
    q.conn.interrupt()
    return true
  }

  async close(queryId: string): Promise<void> {
    const q = this.queries.get(queryId)
    if (!q) return
    this.cancel(queryId)
    await q.finished
    this.queries.delete(queryId)
    this.closeSpoolConn(q)
    if (q.table) await this.engine.run(`DROP TABLE IF EXISTS ${SCRATCH}.${q.table}`)
  }

  private evictOld(): void {
    const max = this.opts.maxOpen ?? 24
    if (this.queries.size <= max) return
    for (const q of this.queries.values()) {
      if (this.queries.size <= max) break
      if (q.phase !== 'running' && q.phase !== 'reading') void this.close(q.id)
    }
  }

  private async withReader<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.readers.length === 0) {
      this.readers = await Promise.all([this.engine.connect(), this.engine.connect()])
      this.readerBusy = this.readers.map(() => false)
    }
    let idx = this.readerBusy.indexOf(false)
    while (idx < 0) {
      await new Promise<void>((r) => this.readerQueue.push(r))
      idx = this.readerBusy.indexOf(false)
    }
    this.readerBusy[idx] = true
    try {
      return await fn(this.readers[idx])
    } finally {
      this.readerBusy[idx] = false
      this.readerQueue.shift()?.()
    }
  }

  async dispose(): Promise<void> {
    for (const id of [...this.queries.keys()]) await this.close(id)
    for (const r of this.readers) r.closeSync()
    this.readers = []
  }
}

function appendColumns(target: unknown[][], cols: unknown[][]): void {
  for (let i = 0; i < cols.length; i++) {
    const t = target[i]
    for (const v of cols[i]) t.push(v)
  }
}

function describeStatement(result: DuckDBResult): string {
  if (result.returnType === ResultReturnType.CHANGED_ROWS) return `${result.rowsChanged} rows changed`
  return 'OK'
}
