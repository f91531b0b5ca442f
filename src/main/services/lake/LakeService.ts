import { randomUUID } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import { AppError, toErrorPayload, type ErrorPayload } from '../../../shared/errors'
import type {
  AddSourceParams,
  CatalogSource,
  CatalogTable,
  Completion,
  Events,
  FileFormat,
  HistoryEntry,
  SourceInfo,
  SourceKind
} from '../../../shared/api'
import type { AppDatabase } from '../../db'
import type { Logger } from '../../log'
import type { SecretStore } from '../secrets/SecretStore'
import type { WorkspaceService } from '../workspace/WorkspaceService'
import { DuckEngine, SCRATCH, toSqlError } from './engine'
import { QueryManager, type PageFormat } from './QueryManager'
import { readerSql, resolveSource, type ResolvedSource } from './sources'
import { importSqlite } from './sqliteImport'
import { deriveName, quoteIdent, quoteLiteral } from './sql'
import { chartData, profileRelation, type ChartRequest } from './analysis'
import { exportRelation } from './export'

interface SourceRow {
  id: string
  name: string
  kind: SourceKind
  location: string
  options: string
  added_at: string
}

interface SourceOptions {
  format?: FileFormat
  hivePartitioning?: boolean
  s3?: { region?: string; endpoint?: string; accessKeyId?: string; urlStyle?: 'path' | 'vhost' }
}

interface LoadedSource {
  row: SourceRow
  resolved?: ResolvedSource
  error?: ErrorPayload
  watcher?: FSWatcher
  /** Cached row counts, invalidated when the files change. */
  counts: Map<string, number | null>
}

type Emit = <E extends keyof Events>(event: E, payload: Events[E]) => void

export interface LakeServiceOptions {
  db: AppDatabase
  engine: DuckEngine
  workspace: WorkspaceService
  secrets: SecretStore
  emit: Emit
  log: Logger
  watchDebounceMs?: number
}

/** Sources, catalog, SQL, paging, profile, chart and export over one in-process DuckDB. */
export class LakeService {
  readonly queries: QueryManager
  private readonly sources = new Map<string, LoadedSource>()
  private loading: Promise<void> = Promise.resolve()

  constructor(private readonly o: LakeServiceOptions) {
    this.queries = new QueryManager(o.engine, {
      emit: (e) => o.emit('query.progress', e),
      onFinished: (h) => this.recordHistory(h)
    })
    o.workspace.onChange(() => {
      this.loading = this.loading.then(() => this.loadWorkspaceSources())
    })
  }

  get engine(): DuckEngine {
    return this.o.engine
  }

  /** Resolves when the current workspace's sources are registered in DuckDB. */
  ready(): Promise<void> {
    return this.loading
  }

  private requireWorkspace(): number {
    const id = this.o.workspace.id
    if (id === null) throw new AppError('INVALID_REQUEST', 'Open a workspace first')
    return id
  }

  // ---------- sources ----------

  private async loadWorkspaceSources(): Promise<void> {
    for (const s of this.sources.values()) await this.unregister(s)
    this.sources.clear()
    const wid = this.o.workspace.id
    if (wid === null) return
    const rows = this.o.db
      .prepare('SELECT id, name, kind, location, options, added_at FROM lake_sources WHERE workspace_id = ? ORDER BY added_at')
      .all(wid) as SourceRow[]
    for (const row of rows) {
      const s: LoadedSource = { row, counts: new Map() }
      this.sources.set(row.id, s)
      try {
        await this.register(s)
      } catch (err) {
        s.error = toErrorPayload(err)
        this.o.log.warn(`source ${row.name} could not be loaded: ${s.error.message}`)
      }
      this.watchSource(s)
    }
    this.o.emit('catalog.changed', { sourceId: null })
  }

  async addSource(p: AddSourceParams): Promise<SourceInfo> {
    await this.loading
    const wid = this.requireWorkspace()
    const name = p.name ?? deriveName(p.location)
    const taken = [...this.sources.values()].some((s) => s.row.name === name)
    if (taken || name === SCRATCH || name === 'memory' || name === 'main') {
      throw new AppError('INVALID_REQUEST', `A source named "${name}" already exists; choose another table name`, { name })
    }
    const location = /^[a-z0-9]+:\/\//i.test(p.location) ? p.location : this.absolute(p.location)
    const options: SourceOptions = { format: p.format, hivePartitioning: p.hivePartitioning }
    const id = randomUUID()
    if (p.s3) {
      const { secretAccessKey, ...rest } = p.s3
      options.s3 = rest
      if (secretAccessKey) this.o.secrets.set(`lake.s3.${id}`, secretAccessKey)
    }
    const row: SourceRow = { id, name, kind: p.kind, location, options: JSON.stringify(options), added_at: new Date().toISOString() }
    const s: LoadedSource = { row, counts: new Map() }
    try {
      await this.register(s)
    } catch (err) {
      this.o.secrets.delete(`lake.s3.${id}`)
      await this.unregister(s).catch(() => undefined)
      throw err
    }
    this.o.db
      .prepare('INSERT INTO lake_sources (id, workspace_id, name, kind, location, options, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.id, wid, row.name, row.kind, row.location, row.options, row.added_at)
    this.sources.set(id, s)
    this.watchSource(s)
    this.o.emit('catalog.changed', { sourceId: id })
    return this.info(s)
  }

  async removeSource(id: string): Promise<void> {
    await this.loading
    const s = this.sources.get(id)
    if (!s) throw new AppError('NOT_FOUND', `No source with id ${id}`)
    await this.unregister(s)
    this.sources.delete(id)
    this.o.db.prepare('DELETE FROM lake_sources WHERE id = ?').run(id)
    this.o.secrets.delete(`lake.s3.${id}`)
    this.o.emit('catalog.changed', { sourceId: id })
  }

  async refresh(id?: string): Promise<void> {
    await this.loading
    const targets = id ? [this.sources.get(id)] : [...this.sources.values()]
    for (const s of targets) {
      if (!s) throw new AppError('NOT_FOUND', `No source with id ${id}`)
      await this.reload(s)
    }
  }

  async listSources(): Promise<SourceInfo[]> {
    await this.loading
    return [...this.sources.values()].map((s) => this.info(s))
  }

  private info(s: LoadedSource): SourceInfo {
    const opts = JSON.parse(s.row.options) as SourceOptions
    return {
      id: s.row.id,
      name: s.row.name,
      kind: s.row.kind,
      location: s.row.location,
      format: s.resolved?.format ?? opts.format,
      hivePartitioning: s.resolved?.hive,
      status: s.error ? 'error' : 'ready',
      ...(s.error ? { error: s.error } : {}),
      addedAt: s.row.added_at
    }
  }

  private absolute(p: string): string {
    const base = this.o.workspace.path ?? process.cwd()
    return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) ? p : `${base}/${p}`
  }

  /** Makes the source queryable under its name: a view over files, or an attached database. */
  private async register(s: LoadedSource): Promise<void> {
    const { row } = s
    const opts = JSON.parse(row.options) as SourceOptions
    const resolved = await resolveSource(row.kind, row.location, opts.format, opts.hivePartitioning)
    for (const ext of resolved.extensions) await this.o.engine.ensureExtension(ext)
    const name = quoteIdent(row.name)
    switch (row.kind) {
      case 'file':
      case 'folder':
      case 's3': {
        if (row.kind === 's3') await this.createS3Secret(row.id, opts)
        await this.createView(name, readerSql(resolved.format!, resolved.target, resolved.hive), resolved.target)
        // Reading the schema touches the files: a corrupt or unreadable file fails here, by name.
        await this.describe(row.name, resolved.target)
        break
      }
      case 'iceberg':
        await this.createView(name, `iceberg_scan(${quoteLiteral(resolved.target)})`, resolved.target)
        await this.describe(row.name, resolved.target)
        break
      case 'delta':
        await this.createView(name, `delta_scan(${quoteLiteral(resolved.target)})`, resolved.target)
        await this.describe(row.name, resolved.target)
        break
      case 'duckdb':
        try {
          await this.o.engine.run(`ATTACH ${quoteLiteral(resolved.target)} AS ${name} (READ_ONLY)`)
        } catch (err) {
          throw fileError(err, resolved.target)
        }
        break
      case 'sqlite':
        await importSqlite(this.o.engine, resolved.target, row.name)
        break
    }
    s.resolved = resolved
    s.error = undefined
  }

  private async createS3Secret(id: string, opts: SourceOptions): Promise<void> {
    const secret = this.o.secrets.get(`lake.s3.${id}`)
    const parts = ['TYPE s3']
    if (opts.s3?.accessKeyId) parts.push(`KEY_ID ${quoteLiteral(opts.s3.accessKeyId)}`)
    if (secret) parts.push(`SECRET ${quoteLiteral(secret)}`)
    if (opts.s3?.region) parts.push(`REGION ${quoteLiteral(opts.s3.region)}`)
    if (opts.s3?.endpoint) parts.push(`ENDPOINT ${quoteLiteral(opts.s3.endpoint)}`)
    if (opts.s3?.urlStyle) parts.push(`URL_STYLE ${quoteLiteral(opts.s3.urlStyle)}`)
    await this.o.engine.run(`CREATE OR REPLACE SECRET ${quoteIdent('s3_' + id.replace(/-/g, ''))} (${parts.join(', ')})`)
  }

  /** DuckDB binds a view when it is created, reading the files: a bad file fails here, by name. */
  private async createView(name: string, reader: string, target: string): Promise<void> {
    try {
      await this.o.engine.run(`CREATE OR REPLACE VIEW ${name} AS SELECT * FROM ${reader}`)
    } catch (err) {
      throw fileError(err, target)
    }
  }

  private async describe(view: string, target: string) {
    try {
      return await this.o.engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${quoteIdent(view)}`)
    } catch (err) {
      await this.o.engine.run(`DROP VIEW IF EXISTS ${quoteIdent(view)}`).catch(() => undefined)
      throw fileError(err, target)
    }
  }

  private async unregister(s: LoadedSource): Promise<void> {
    s.watcher?.close()
    s.watcher = undefined
    const name = quoteIdent(s.row.name)
    if (s.row.kind === 'duckdb' || s.row.kind === 'sqlite') {
      await this.o.engine.run(`DETACH DATABASE IF EXISTS ${name}`).catch(() => undefined)
    } else {
      await this.o.engine.run(`DROP VIEW IF EXISTS ${name}`).catch(() => undefined)
    }
  }

  private async reload(s: LoadedSource): Promise<void> {
    s.counts.clear()
    if (s.row.kind === 'duckdb' || s.row.kind === 'sqlite') await this.unregister(s)
    try {
      await this.register(s)
    } catch (err) {
      s.error = toErrorPayload(err)
    }
    if (!s.watcher) this.watchSource(s)
    this.o.emit('catalog.changed', { sourceId: s.row.id })
  }

  /** Re-reads a local source when its files change (debounced). */
  private watchSource(s: LoadedSource): void {
    if (!['file', 'folder', 'duckdb', 'sqlite'].includes(s.row.kind)) return
    let timer: NodeJS.Timeout | undefined
    const target = s.row.kind === 'folder' ? s.row.location : dirname(s.row.location)
    try {
      s.watcher = watch(target, { recursive: s.row.kind === 'folder', persistent: false }, (_e, file) => {
        if (s.row.kind !== 'folder' && file && !s.row.location.endsWith(String(file))) return
        clearTimeout(timer)
        timer = setTimeout(() => {
          void this.reload(s).catch((err) => this.o.log.warn('reload failed', err))
        }, this.o.watchDebounceMs ?? 300)
      })
      s.watcher.on('error', () => undefined)
    } catch {
      // A folder that vanished: the source shows its error; refresh brings it back.
    }
  }

  // ---------- catalog ----------

  async catalog(): Promise<CatalogSource[]> {
    await this.loading
    const out: CatalogSource[] = []
    for (const s of this.sources.values()) {
      let tables: CatalogTable[] = []
      if (!s.error) {
        try {
          tables = await this.tablesOf(s)
        } catch (err) {
          s.error = toErrorPayload(err)
        }
      }
      out.push({ ...this.info(s), tables })
    }
    return out
  }

  private async tablesOf(s: LoadedSource): Promise<CatalogTable[]> {
    const e = this.o.engine
    if (s.row.kind === 'duckdb' || s.row.kind === 'sqlite') {
      const db = quoteLiteral(s.row.name)
      const tables = await e.rows<{ schema_name: string; table_name: string; n: string | null }>(
        `SELECT schema_name, table_name, estimated_size::BIGINT AS n FROM duckdb_tables() WHERE database_name = ${db}
         UNION ALL SELECT schema_name, view_name, NULL FROM duckdb_views() WHERE database_name = ${db} AND NOT internal
         ORDER BY 1, 2`
      )
      const cols = await e.rows<{ schema_name: string; table_name: string; column_name: string; data_type: string }>(
        `SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = ${db}
         ORDER BY schema_name, table_name, column_index`
      )
      return tables.map((t) => ({
        sqlName: `${quoteIdent(s.row.name)}.${quoteIdent(t.schema_name)}.${quoteIdent(t.table_name)}`,
        name: t.schema_name === 'main' ? t.table_name : `${t.schema_name}.${t.table_name}`,
        rowCount: t.n === null ? null : Number(t.n),
        columns: cols
          .filter((c) => c.schema_name === t.schema_name && c.table_name === t.table_name)
          .map((c) => ({ name: c.column_name, type: c.data_type }))
      }))
    }
    const cols = await this.describe(s.row.name, s.row.location)
    return [
      {
        sqlName: /^[a-z_][a-z0-9_]*$/.test(s.row.name) ? s.row.name : quoteIdent(s.row.name),
        name: s.row.name,
        rowCount: await this.rowCount(s),
        columns: cols.map((c) => ({ name: c.column_name, type: c.column_type }))
      }
    ]
  }

  private async rowCount(s: LoadedSource): Promise<number | null> {
    if (s.counts.has(s.row.name)) return s.counts.get(s.row.name)!
    let n: number | null = null
    const r = s.resolved
    if (r?.format === 'parquet' && (s.row.kind === 'file' || s.row.kind === 'folder')) {
      // From the Parquet footers: no scan.
      const [row] = await this.o.engine.rows<{ n: string | null }>(
        `SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${quoteLiteral(r.target)})`
      )
      n = row.n === null ? 0 : Number(row.n)
    } else if (s.row.kind === 'file' || s.row.kind === 'folder') {
      const [row] = await this.o.engine.rows<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(s.row.name)}`)
      n = Number(row.n)
    }
    s.counts.set(s.row.name, n)
    return n
  }

  // ---------- queries ----------

  runQuery(queryId: string, sql: string, pageSize?: number, format?: PageFormat) {
    return this.loading.then(() => this.queries.run(queryId, sql, pageSize, format))
  }

  async complete(sql: string, position: number): Promise<Completion[]> {
    const prefix = sql.slice(0, position)
    let rows: { suggestion: string; suggestion_start: number; suggestion_type: string }[]
    try {
      rows = await this.o.engine.rows(
        `SELECT suggestion, suggestion_start, suggestion_type FROM sql_auto_complete(${quoteLiteral(prefix)}) LIMIT 50`
      )
    } catch {
      return []
    }
    const kinds: Record<string, Completion['kind']> = {
      keyword: 'keyword',
      table: 'table',
      column: 'column',
      function: 'function',
      catalog: 'table',
      schema: 'table',
      file_name: 'other',
      directory: 'other'
    }
    return rows.map((r) => ({
      label: r.suggestion.trimEnd(),
      kind: kinds[r.suggestion_type] ?? 'other',
      start: Number(r.suggestion_start)
    }))
  }

  async profile(p: { queryId?: string; table?: string; column?: string }) {
    const { relation, columns } = await this.relationFor(p)
    return profileRelation(this.o.engine, relation, columns, p.column)
  }

  async chart(queryId: string, req: ChartRequest) {
    const r = await this.queries.resultTable(queryId)
    return chartData(this.o.engine, r.table, r.columns, r.rows, req)
  }

  async export(p: { exportId: string; queryId?: string; table?: string; format: 'csv' | 'parquet'; path: string }) {
    const { relation } = await this.relationFor(p)
    return exportRelation(this.o.engine, relation, p.format, this.absolute(p.path), (percent, done, error) =>
      this.o.emit('export.progress', { exportId: p.exportId, percent, done, ...(error ? { error } : {}) })
    )
  }

  /** A finished query result, or a catalog table by its SQL name. */
  private async relationFor(p: { queryId?: string; table?: string }) {
    if (p.queryId) {
      const r = await this.queries.resultTable(p.queryId)
      return { relation: r.table, columns: r.columns }
    }
    await this.loading
    const rel = p.table!
    try {
      const cols = await this.o.engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${rel}`)
      return { relation: rel, columns: cols.map((c) => ({ name: c.column_name, type: c.column_type })) }
    } catch (err) {
      throw toSqlError(err, rel)
    }
  }

  // ---------- history ----------

  private recordHistory(h: { sql: string; elapsedMs: number; rows: number | null; error: string | null }): void {
    try {
      this.o.db
        .prepare('INSERT INTO query_history (workspace_id, sql, elapsed_ms, row_count, error) VALUES (?, ?, ?, ?, ?)')
        .run(this.o.workspace.id, h.sql, h.elapsedMs, h.rows, h.error)
    } catch (err) {
      this.o.log.warn('could not record query history', err)
    }
  }

  history(limit = 100): HistoryEntry[] {
    return this.o.db
      .prepare(
        `SELECT id, sql, ran_at AS ranAt, elapsed_ms AS elapsedMs, row_count AS rows, error FROM query_history
         WHERE workspace_id IS ? ORDER BY id DESC LIMIT ?`
      )
      .all(this.o.workspace.id, limit) as HistoryEntry[]
  }

  async dispose(): Promise<void> {
    for (const s of this.sources.values()) s.watcher?.close()
    await this.queries.dispose()
  }
}

function fileError(err: unknown, target: string): AppError {
  const e = toSqlError(err, '')
  if (e.code === 'CANCELLED') return e
  return new AppError('FILE_ERROR', `Cannot read ${target}: ${e.message}`, { ...e.details, path: target })
}
