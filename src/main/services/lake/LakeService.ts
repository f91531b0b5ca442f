import { randomUUID } from 'node:crypto'
import { realpathSync, watch, type FSWatcher } from 'node:fs'
import { dirname, join } from 'node:path'
import { rmSync } from 'node:fs'
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
import { importSqlite, type SqliteImportJob } from './sqliteImport'
import { deriveName, quoteIdent, quoteLiteral } from './sql'
import { chartData, profileRelation, type ChartRequest } from './analysis'
import { EXPORT_DOWNLOAD_PREFIX, isInside, type DownloadableExport } from './exportDownload'
import { exportRelation } from './export'
import { ReadOnlyLake, type ReaderSource } from './readOnly'
import { LOCAL_PRINCIPAL, type Principal } from '../../../shared/auth'
import { checkPath, isReadOnlyRole, pathAccess } from '../workspace/access'
import { existsSync } from 'node:fs'

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
  /** A SQLite source being copied in the background: status 'loading' until it is attached. */
  loading?: { rows: number; totalRows: number | null; job?: SqliteImportJob }
  /** The DuckDB copy of a SQLite source that is attached now. */
  copy?: string
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
  /** The app's data folder: exports written under it (or the workspace) can be downloaded over HTTP. */
  dataDir?: string
}

/** Sources, catalog, SQL, paging, profile, chart and export over one in-process DuckDB. */
export class LakeService {
  readonly queries: QueryManager
  private readonly sources = new Map<string, LoadedSource>()
  private loading: Promise<void> = Promise.resolve()
  private readonly downloads = new Map<string, DownloadableExport>()

  /** Where viewers' and reviewers' SQL runs: the same sources, locked read-only. */
  private readonly reader: ReadOnlyLake

  constructor(private readonly o: LakeServiceOptions) {
    this.queries = new QueryManager(o.engine, {
      emit: (e) => o.emit('query.progress', e),
      onFinished: (h) => this.recordHistory(h)
    })
    this.reader = new ReadOnlyLake({
      scratchDir: o.engine.scratchDir,
      sources: () => this.readerSources(),
      emit: (e) => o.emit('query.progress', e),
      onFinished: (h) => this.recordHistory(h),
      log: o.log
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

  /** Tells the UI the catalog changed; the read-only lake is rebuilt on its next use. */
  private catalogChanged(sourceId: string | null, structural = true): void {
    if (structural) this.reader.invalidate()
    this.o.emit('catalog.changed', { sourceId })
  }

  /** The sources as the read-only lake exposes them (local files and database files only). */
  private readerSources(): ReaderSource[] {
    const out: ReaderSource[] = []
    for (const s of this.sources.values()) {
      const r = s.resolved
      if (s.error || !r) continue
      if (s.row.kind === 'file' && r.format) out.push({ name: s.row.name, view: readerSql(r.format, r.target, r.hive), allowPath: r.target })
      else if (s.row.kind === 'folder' && r.format) {
        out.push({ name: s.row.name, view: readerSql(r.format, r.target, r.hive), allowDirectory: s.row.location })
      } else if (s.row.kind === 'duckdb') out.push({ name: s.row.name, attach: r.target })
      else if (s.row.kind === 'sqlite' && s.copy) out.push({ name: s.row.name, attach: s.copy })
    }
    return out
  }

  /** A path from a caller: confined to the workspace unless the caller's role may leave it. */
  private pathFor(p: string, principal: Principal, what: string): string {
    const access = pathAccess(principal)
    return access.confined ? checkPath(this.o.workspace.path, p, access, what) : this.absolute(p)
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
      if (row.kind === 'sqlite') {
        // A copy can take a while: it restores in the background, the source shows 'loading'.
        void this.loadSqlite(s)
          .catch((err) => {
            if ((err as AppError).code === 'CANCELLED') return
            s.error = toErrorPayload(err)
            this.o.log.warn(`source ${row.name} could not be loaded: ${s.error.message}`)
          })
          .finally(() => this.sources.get(row.id) === s && this.catalogChanged(row.id))
      } else {
        try {
          await this.register(s)
        } catch (err) {
          s.error = toErrorPayload(err)
          this.o.log.warn(`source ${row.name} could not be loaded: ${s.error.message}`)
        }
      }
      this.watchSource(s)
    }
    this.catalogChanged(null)
  }

  /**
   * Copies a SQLite source into a DuckDB file off the main thread, then attaches it (read-only)
   * in place of the previous copy, which stays queryable until then. Progress goes out as
   * catalog.changed events; the source's status is 'loading' meanwhile.
   */
  private async loadSqlite(s: LoadedSource): Promise<void> {
    s.loading?.job?.cancel()
    s.loading = { rows: 0, totalRows: null }
    const resolved = await resolveSource('sqlite', s.row.location, undefined, undefined).catch((err) => {
      s.loading = undefined
      throw err
    })
    const out = join(this.o.engine.scratchDir, `sqlite-${s.row.id}-${Date.now().toString(36)}.duckdb`)
    let lastEmit = 0
    const job = importSqlite(resolved.target, out, (p) => {
      if (s.loading?.job !== job) return
      s.loading.rows = p.rows
      s.loading.totalRows = p.totalRows
      const now = Date.now()
      if (now - lastEmit > 500) {
        lastEmit = now
        this.catalogChanged(s.row.id, false)
      }
    })
    s.loading = { rows: 0, totalRows: null, job }
    this.catalogChanged(s.row.id)
    try {
      await job.done
    } catch (err) {
      if (s.loading?.job === job) s.loading = undefined
      throw err
    }
    if (s.loading?.job !== job) {
      // Replaced by a newer import, or the source was removed meanwhile.
      rmSync(out, { force: true })
      throw new AppError('CANCELLED', `The import of ${s.row.location} was superseded`)
    }
    const name = quoteIdent(s.row.name)
    await this.o.engine.run(`DETACH DATABASE IF EXISTS ${name}`).catch(() => undefined)
    if (s.copy) rmSync(s.copy, { force: true })
    s.copy = undefined
    try {
      await this.o.engine.run(`ATTACH ${quoteLiteral(out)} AS ${name} (READ_ONLY)`)
    } catch (err) {
      rmSync(out, { force: true })
      throw fileError(err, resolved.target)
    } finally {
      s.loading = undefined
    }
    s.copy = out
    s.resolved = resolved
    s.error = undefined
  }

  async addSource(p: AddSourceParams, principal: Principal = LOCAL_PRINCIPAL): Promise<SourceInfo> {
    await this.loading
    const wid = this.requireWorkspace()
    const remote = /^[a-z0-9]+:\/\//i.test(p.location)
    if (remote && isReadOnlyRole(principal.role)) {
      throw new AppError('PATH_FORBIDDEN', `A ${principal.role} may add sources from the workspace folder only`, { location: p.location })
    }
    const name = p.name ?? deriveName(p.location)
    const taken = [...this.sources.values()].some((s) => s.row.name === name)
    if (taken || name === SCRATCH || name === 'memory' || name === 'main') {
      throw new AppError('INVALID_REQUEST', `A source named "${name}" already exists; choose another table name`, { name })
    }
    const location = remote ? p.location : this.pathFor(p.location, principal, 'source')
    const options: SourceOptions = { format: p.format, hivePartitioning: p.hivePartitioning }
    const id = randomUUID()
    if (p.s3) {
      const { secretAccessKey, ...rest } = p.s3
      options.s3 = rest
      if (secretAccessKey) this.o.secrets.set(`lake.s3.${id}`, secretAccessKey)
    }
    const row: SourceRow = { id, name, kind: p.kind, location, options: JSON.stringify(options), added_at: new Date().toISOString() }
    const s: LoadedSource = { row, counts: new Map() }
    // A SQLite file is copied off the main thread; meanwhile the catalog lists it as 'loading'.
    if (row.kind === 'sqlite') this.sources.set(id, s)
    try {
      await this.register(s)
    } catch (err) {
      this.sources.delete(id)
      this.o.secrets.delete(`lake.s3.${id}`)
      await this.unregister(s).catch(() => undefined)
      throw err
    }
    this.o.db
      .prepare('INSERT INTO lake_sources (id, workspace_id, name, kind, location, options, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.id, wid, row.name, row.kind, row.location, row.options, row.added_at)
    this.sources.set(id, s)
    this.watchSource(s)
    this.catalogChanged(id)
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
    this.catalogChanged(id)
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
      status: s.error ? 'error' : s.loading ? 'loading' : 'ready',
      ...(s.error ? { error: s.error } : {}),
      ...(s.loading && !s.error ? { progress: { rows: s.loading.rows, totalRows: s.loading.totalRows } } : {}),
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
    if (row.kind === 'sqlite') return this.loadSqlite(s)
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
    s.loading?.job?.cancel()
    s.loading = undefined
    const name = quoteIdent(s.row.name)
    if (s.row.kind === 'duckdb' || s.row.kind === 'sqlite') {
      await this.o.engine.run(`DETACH DATABASE IF EXISTS ${name}`).catch(() => undefined)
      if (s.copy) rmSync(s.copy, { force: true })
      s.copy = undefined
    } else {
      await this.o.engine.run(`DROP VIEW IF EXISTS ${name}`).catch(() => undefined)
    }
  }

  private async reload(s: LoadedSource): Promise<void> {
    s.counts.clear()
    // A SQLite copy is swapped in when the new one is complete; until then the old one answers.
    if (s.row.kind === 'duckdb') await this.unregister(s)
    try {
      await this.register(s)
    } catch (err) {
      // A superseded SQLite import leaves the newer one to report.
      if ((err as AppError).code === 'CANCELLED' && s.row.kind === 'sqlite') return
      s.error = toErrorPayload(err)
    }
    if (!s.watcher) this.watchSource(s)
    this.catalogChanged(s.row.id)
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

  /** Runs SQL; a caller whose role may not write gets the read-only lake. */
  runQuery(queryId: string, sql: string, pageSize?: number, principal: Principal = LOCAL_PRINCIPAL, format?: PageFormat) {
    if (isReadOnlyRole(principal.role)) return this.loading.then(() => this.reader.run(queryId, sql, pageSize, format))
    return this.loading.then(() => this.queries.run(queryId, sql, pageSize, format))
  }

  /** The engine and result manager that ran a query. */
  private ownerOf(queryId: string): { engine: DuckEngine; queries: QueryManager } {
    return this.reader.owner(queryId) ?? { engine: this.o.engine, queries: this.queries }
  }

  page(queryId: string, offset: number, limit: number, format?: PageFormat) {
    return this.ownerOf(queryId).queries.page(queryId, offset, limit, format)
  }

  cancel(queryId: string): boolean {
    return this.ownerOf(queryId).queries.cancel(queryId)
  }

  close(queryId: string): Promise<void> {
    return this.ownerOf(queryId).queries.close(queryId)
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

  async profile(p: { queryId?: string; table?: string; column?: string }, principal: Principal = LOCAL_PRINCIPAL) {
    const { relation, columns, engine } = await this.relationFor(p, principal)
    return profileRelation(engine, relation, columns, p.column)
  }

  async chart(queryId: string, req: ChartRequest) {
    const owner = this.ownerOf(queryId)
    const r = await owner.queries.resultTable(queryId)
    return chartData(owner.engine, r.table, r.columns, r.rows, req)
  }

  /**
   * Writes a catalog table or a query result to a file. The file must not exist unless
   * `overwrite` is set; callers who may not write files (viewers, reviewers) are refused. A file
   * inside the workspace or the data folder can then be downloaded over HTTP by the same principal.
   */
  async export(
    p: { exportId: string; queryId?: string; table?: string; format: 'csv' | 'parquet'; path: string; overwrite?: boolean },
    principal: Principal = LOCAL_PRINCIPAL
  ) {
    if (isReadOnlyRole(principal.role)) {
      throw new AppError('SQL_FORBIDDEN', `A ${principal.role} may not write files: export is not allowed`, { role: principal.role })
    }
    const path = this.pathFor(p.path, principal, 'export file')
    if (existsSync(path) && !p.overwrite) {
      throw new AppError('FILE_EXISTS', `${path} already exists; export with overwrite to replace it`, { path })
    }
    const { relation } = await this.relationFor(p, principal)
    const r = await exportRelation(this.o.engine, relation, p.format, path, (percent, done, error) =>
      this.o.emit('export.progress', { exportId: p.exportId, percent, done, ...(error ? { error } : {}) })
    )
    let real: string | null = null
    try {
      real = realpathSync(r.path)
    } catch {
      real = null
    }
    if (real && isInside(real, this.downloadRoots()) && /^[\w-]{1,100}$/.test(p.exportId)) {
      this.downloads.set(p.exportId, { path: real, format: p.format, bytes: r.bytes, owner: principal.id })
      return { ...r, download: `${EXPORT_DOWNLOAD_PREFIX}${p.exportId}` }
    }
    return r
  }

  /** A finished export's file, for the HTTP download route. */
  downloadable(exportId: string): DownloadableExport | undefined {
    return this.downloads.get(exportId)
  }

  /** Folders an export must lie in to be downloadable: the open workspace and the app's data folder. */
  downloadRoots(): (string | null | undefined)[] {
    return [this.o.workspace.path, this.o.dataDir]
  }

  /** A finished query result, or a catalog table by name (checked against the catalog, never spliced as SQL). */
  private async relationFor(p: { queryId?: string; table?: string }, principal: Principal) {
    if (p.queryId) {
      const owner = this.ownerOf(p.queryId)
      const r = await owner.queries.resultTable(p.queryId)
      return { relation: r.table, columns: r.columns, engine: owner.engine }
    }
    await this.loading
    const rel = await this.catalogRelation(p.table ?? '')
    const engine = isReadOnlyRole(principal.role) ? (await this.reader.get()).engine : this.o.engine
    try {
      const cols = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${rel}`)
      return { relation: rel, columns: cols.map((c) => ({ name: c.column_name, type: c.column_type })), engine }
    } catch (err) {
      throw toSqlError(err, rel)
    }
  }

  /**
   * The fully quoted name (`"db"."schema"."table"`) of the catalog table or view that `name` names:
   * `flights`, `shop.orders`, `"my db"."main"."t"`. Anything else (an expression, a subquery, a
   * second statement) is refused without reaching DuckDB.
   */
  async catalogRelation(name: string): Promise<string> {
    const parts = parseQualifiedName(name)
    if (!parts) {
      throw new AppError('INVALID_REQUEST', `"${name.slice(0, 80)}" is not a table name: give a catalog table (flights, db.schema.table) or a queryId`, {
        table: name.slice(0, 300)
      })
    }
    const rows = await this.o.engine.rows<{ d: string; s: string; t: string }>(
      `SELECT database_name AS d, schema_name AS s, table_name AS t FROM duckdb_tables() WHERE NOT internal AND database_name <> ${quoteLiteral(SCRATCH)}
       UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal AND database_name <> ${quoteLiteral(SCRATCH)}`
    )
    const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
    const [a, b, c] = parts
    const hits = rows.filter((r) => {
      if (parts.length === 3) return eq(r.d, a) && eq(r.s, b) && eq(r.t, c)
      if (parts.length === 2) return (eq(r.d, 'memory') && eq(r.s, a) && eq(r.t, b)) || (eq(r.d, a) && eq(r.s, 'main') && eq(r.t, b))
      return eq(r.d, 'memory') && eq(r.s, 'main') && eq(r.t, a)
    })
    const hit = hits.find((r) => [r.d, r.s, r.t].slice(3 - parts.length).join('.') === parts.join('.')) ?? hits[0]
    if (!hit) {
      const loading = [...this.sources.values()].find((s) => s.loading && eq(s.row.name, parts.length === 1 ? a : parts[0]))
      if (loading) throw new AppError('NOT_FOUND', `${name} is not ready yet: the source ${loading.row.name} is still loading`, { table: name, loading: true })
      throw new AppError('NOT_FOUND', `No table or view named ${name} in the catalog`, { table: name })
    }
    return [hit.d, hit.s, hit.t].map(quoteIdent).join('.')
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
    await this.reader.dispose()
    await this.queries.dispose()
  }
}

function fileError(err: unknown, target: string): AppError {
  const e = toSqlError(err, '')
  if (e.code === 'CANCELLED') return e
  return new AppError('FILE_ERROR', `Cannot read ${target}: ${e.message}`, { ...e.details, path: target })
}

/** The parts of a dotted SQL name (plain or double-quoted identifiers, 1 to 3 of them), or null. */
export function parseQualifiedName(text: string): string[] | null {
  const parts: string[] = []
  let i = 0
  for (;;) {
    if (text[i] === '"') {
      let j = i + 1
      let part = ''
      for (;;) {
        const q = text.indexOf('"', j)
        if (q < 0) return null
        part += text.slice(j, q)
        if (text[q + 1] === '"') {
          part += '"'
          j = q + 2
          continue
        }
        i = q + 1
        break
      }
      if (part === '') return null
      parts.push(part)
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i))
      if (!m) return null
      parts.push(m[0])
      i += m[0].length
    }
    if (i === text.length) break
    if (text[i] !== '.') return null
    i++
  }
  return parts.length <= 3 ? parts : null
}
