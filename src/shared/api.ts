/**
 * The WorkbenchApi contract: every request the UI may make and every event it may receive.
 * Each request has a runtime schema (zod) for its params; the router validates every payload
 * at the boundary before a service sees it. Result types are declared alongside.
 */
import { z } from 'zod'
import type { ErrorPayload } from './errors'
import { authRequests, type AuthResults } from './authApi'
import { jobEventNames, jobRequests, SshConnectionSchema, type JobEvents, type JobResults } from './jobs'
import { registryEventNames, registryRequests, type RegistryEvents, type RegistryResults } from './registry'
import { trackingGroupRequests, type TrackingGroupResults } from './trackingGroups'
import { runningEventNames, runningRequests, type RunningEvents, type RunningResults } from './running'
import { endpointEventNames, endpointRequests, type EndpointEvents, type EndpointResults } from './endpoints'
import { builderEventNames, builderRequests, type BuilderEvents, type BuilderResults } from './builder'

const id = z.string().min(1).max(200)
const path = z.string().min(1).max(4096)
const sql = z.string().min(1).max(1_000_000)

export const SourceKind = z.enum(['file', 'folder', 'duckdb', 'sqlite', 's3', 'iceberg', 'delta'])
export type SourceKind = z.infer<typeof SourceKind>

export const FileFormat = z.enum(['parquet', 'csv', 'json'])
export type FileFormat = z.infer<typeof FileFormat>

export const AddSourceParams = z
  .object({
    kind: SourceKind,
    /** Local path (file, folder, database file) or URL (s3://…, an Iceberg/Delta table location). */
    location: z.string().min(1).max(4096),
    /** Name used in SQL; derived from the location when absent. */
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'use letters, digits and underscores, not starting with a digit')
      .max(63)
      .optional(),
    format: FileFormat.optional(),
    hivePartitioning: z.boolean().optional(),
    /** S3 settings; the secret key is stored in the secret store, never in the database. */
    s3: z
      .object({
        region: z.string().max(64).optional(),
        endpoint: z.string().max(512).optional(),
        accessKeyId: z.string().max(256).optional(),
        secretAccessKey: z.string().max(1024).optional(),
        urlStyle: z.enum(['path', 'vhost']).optional()
      })
      .strict()
      .optional()
  })
  .strict()
export type AddSourceParams = z.infer<typeof AddSourceParams>

export const ChartKind = z.enum(['bar', 'line', 'scatter', 'histogram'])
export type ChartKind = z.infer<typeof ChartKind>

export const ExportFormat = z.enum(['csv', 'parquet'])

export const QueryTab = z
  .object({ id, title: z.string().max(200), sql: z.string().max(1_000_000) })
  .strict()
export type QueryTab = z.infer<typeof QueryTab>

/** Request schemas, by method name (`domain.verb`). */
/**
 * `arrow`: the page comes as an Arrow IPC stream (`RowPage.arrow`) on the doors that carry bytes (the
 * WebSocket, Electron IPC); `POST /api/rpc` always answers JSON.
 */
const PageFormatSchema = z.enum(['json', 'arrow'])

export const requests = {
  'app.info': z.object({}).strict(),
  'workspace.open': z.object({ path }).strict(),
  'workspace.recent': z.object({}).strict(),
  'fs.list': z.object({ path: path.optional(), showHidden: z.boolean().optional() }).strict(),
  'settings.get': z.object({ key: id }).strict(),
  'settings.set': z.object({ key: id, value: z.unknown() }).strict(),
  'tabs.load': z.object({}).strict(),
  'tabs.save': z.object({ tabs: z.array(QueryTab).max(100), activeId: id.optional() }).strict(),
  'lake.sources.list': z.object({}).strict(),
  'lake.sources.add': AddSourceParams,
  'lake.sources.remove': z.object({ id }).strict(),
  'lake.sources.refresh': z.object({ id: id.optional() }).strict(),
  'lake.catalog': z.object({}).strict(),
  'lake.query': z
    .object({
      queryId: id,
      sql,
      pageSize: z.number().int().min(1).max(10_000).optional(),
      format: PageFormatSchema.optional()
    })
    .strict(),
  'lake.page': z
    .object({
      queryId: id,
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(10_000),
      format: PageFormatSchema.optional()
    })
    .strict(),
  'lake.cancel': z.object({ queryId: id }).strict(),
  'lake.close': z.object({ queryId: id }).strict(),
  'lake.complete': z.object({ sql: z.string().max(100_000), position: z.number().int().min(0) }).strict(),
  'lake.profile': z
    .object({
      queryId: id.optional(),
      table: z.string().max(300).optional(),
      column: z.string().max(300).optional()
    })
    .strict()
    .refine((v) => (v.queryId === undefined) !== (v.table === undefined), 'give exactly one of queryId or table'),
  'lake.chart': z
    .object({
      queryId: id,
      kind: ChartKind,
      x: z.string().min(1).max(300),
      y: z.string().max(300).optional(),
      color: z.string().max(300).optional(),
      bins: z.number().int().min(2).max(500).optional(),
      maxPoints: z.number().int().min(10).max(200_000).optional()
    })
    .strict(),
  'lake.export': z
    .object({
      exportId: id,
      queryId: id.optional(),
      table: z.string().max(300).optional(),
      format: ExportFormat,
      path,
      /** Replace an existing file; without it the export is refused with FILE_EXISTS. */
      overwrite: z.boolean().optional()
    })
    .strict()
    .refine((v) => (v.queryId === undefined) !== (v.table === undefined), 'give exactly one of queryId or table'),
  'lake.history': z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
  ...trackingRequests(),
  ...kernelRequests(),
  ...jobRequests(),
  ...authRequests(),
  ...registryRequests(),
  ...trackingGroupRequests(),
  ...runningRequests(),
  ...endpointRequests(),
  ...builderRequests()
} as const

export type Method = keyof typeof requests
export type Params<M extends Method> = z.input<(typeof requests)[M]>

// ---------- result types ----------

export interface AppInfo {
  name: string
  version: string
  mode: 'electron' | 'serve' | 'test'
  dataDir: string
  workspace: string | null
  duckdbVersion: string
}

export interface FsEntry {
  name: string
  path: string
  kind: 'file' | 'dir'
  size: number
}

export interface ColumnInfo {
  name: string
  type: string
}

export interface SourceInfo {
  id: string
  name: string
  kind: SourceKind
  location: string
  format?: FileFormat
  hivePartitioning?: boolean
  /** 'loading' while a source is copied in the background (SQLite); queries see it when 'ready'. */
  status: 'loading' | 'ready' | 'error'
  error?: ErrorPayload
  /** Rows copied so far while 'loading'. */
  progress?: { rows: number; totalRows: number | null }
  addedAt: string
}

export interface CatalogTable {
  /** The name to use in SQL (`flights`, or `mydb.main.orders` for an attached database). */
  sqlName: string
  name: string
  rowCount: number | null
  columns: ColumnInfo[]
}

export interface CatalogSource extends SourceInfo {
  tables: CatalogTable[]
}

/** Column-major page of rows. Values are JSON-safe: big integers and decimals as strings, times as ISO strings. */
export interface RowPage {
  offset: number
  /** Empty when the page came as `arrow`. */
  columns: unknown[][]
  rowCount: number
  /** The page as an Arrow IPC stream, when asked for with `format: 'arrow'` on a binary door. */
  arrow?: Uint8Array
}

export interface QueryStarted {
  queryId: string
  columns: ColumnInfo[]
  first: RowPage
  /** Rows readable with lake.page so far. */
  available: number
  /** Total row count once the result is fully read, else null. */
  totalRows: number | null
  done: boolean
  elapsedMs: number
  /** For statements that return no rows (CREATE, COPY…). */
  message?: string
}

export interface QueryProgressEvent {
  queryId: string
  phase: 'running' | 'reading' | 'done' | 'error' | 'cancelled'
  /** DuckDB's own estimate, 0–100, or null when unknown. */
  percent: number | null
  available: number
  totalRows: number | null
  elapsedMs: number
  error?: ErrorPayload
}

export interface PageResult extends RowPage {
  available: number
  totalRows: number | null
}

export interface Completion {
  label: string
  kind: 'keyword' | 'table' | 'column' | 'function' | 'other'
  start: number
  detail?: string
}

export interface ColumnProfile {
  name: string
  type: string
  count: number
  nullPercent: number
  distinct: number | null
  /** true: `distinct` is an exact count(DISTINCT); false: a HyperLogLog estimate. */
  distinctExact?: boolean
  /** Exact distinct count equals the row count (no duplicates, no nulls). */
  unique?: boolean
  min: string | null
  max: string | null
  mean: number | null
  std: number | null
  q25: string | null
  q50: string | null
  q75: string | null
  histogram?: { edges: number[]; counts: number[] }
  topValues?: { value: string | null; count: number }[]
}

export interface ProfileResult {
  rowCount: number
  columns: ColumnProfile[]
}

export interface ChartResult {
  kind: ChartKind
  /** One series per colour value (or one series when no colour). */
  series: { name: string; x: unknown[]; y: number[] }[]
  xType: 'number' | 'time' | 'category'
  sampled: boolean
  totalRows: number
}

export interface ExportResult {
  path: string
  rows: number
  bytes: number
  elapsedMs: number
  /** URL path of an authenticated HTTP GET that downloads the file (serve; exports inside the workspace or data folder). */
  download?: string
}

export interface ExportProgressEvent {
  exportId: string
  percent: number | null
  done: boolean
  error?: ErrorPayload
}

export interface HistoryEntry {
  id: number
  sql: string
  ranAt: string
  elapsedMs: number | null
  rows: number | null
  error: string | null
}

export interface Results extends JobResults, AuthResults, RegistryResults, TrackingGroupResults, RunningResults, EndpointResults, BuilderResults {
  'app.info': AppInfo
  'workspace.open': { path: string }
  'workspace.recent': { path: string; openedAt: string }[]
  'fs.list': { path: string; parent: string | null; entries: FsEntry[] }
  'settings.get': { value: unknown }
  'settings.set': { ok: true }
  'tabs.load': { tabs: QueryTab[]; activeId: string | null }
  'tabs.save': { ok: true }
  'lake.sources.list': SourceInfo[]
  'lake.sources.add': SourceInfo
  'lake.sources.remove': { ok: true }
  'lake.sources.refresh': { ok: true }
  'lake.catalog': CatalogSource[]
  'lake.query': QueryStarted
  'lake.page': PageResult
  'lake.cancel': { cancelled: boolean }
  'lake.close': { ok: true }
  'lake.complete': Completion[]
  'lake.profile': ProfileResult
  'lake.chart': ChartResult
  'lake.export': ExportResult
  'lake.history': HistoryEntry[]
  'tracking.connection': TrackingConnection
  'tracking.experiments.list': TrackingExperiment[]
  'tracking.runs.search': TrackingRunPage
  'tracking.run.get': TrackingRun
  'tracking.run.delete': { ok: true }
  'tracking.run.restore': { ok: true }
  'tracking.run.setNote': { ok: true }
  'tracking.experiment.delete': { ok: true }
  'tracking.experiment.restore': { ok: true }
  'tracking.metrics.history': MetricSeries
  'tracking.artifacts.list': { runId: string; path: string; files: TrackingArtifact[] }
  'tracking.artifacts.read': ArtifactPreview
}

export type Result<M extends Method> = Results[M]

// ---------- events ----------

export interface Events extends JobEvents, RegistryEvents, RunningEvents, EndpointEvents, BuilderEvents {
  'query.progress': QueryProgressEvent
  'export.progress': ExportProgressEvent
  'catalog.changed': { sourceId: string | null }
  'tracking.changed': TrackingChangedEvent
}
export type EventName = keyof Events

export const eventNames: readonly EventName[] = ['query.progress', 'export.progress', 'catalog.changed', 'tracking.changed', ...kernelEventNames(), ...jobEventNames(), ...registryEventNames(), ...runningEventNames(), ...endpointEventNames(), ...builderEventNames()]

/** What the renderer programs against, whichever door carries it. */
export interface WorkbenchApi {
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}

/** Envelope on the WebSocket door. */
export type ClientMessage = { id: number; method: string; params: unknown }
export type ServerMessage =
  | { id: number; result: unknown }
  | { id: number; error: ErrorPayload }
  | { event: string; payload: unknown }

export { IPC_INVOKE_CHANNEL, IPC_EVENT_CHANNEL } from './channels'
export * from './jobs'
export * from './authApi'
export * from './registry'
export * from './running'
export * from './endpoints'
export * from './builder'

// =====================================================================================
// ---------- tracking (experiments, runs, metrics, artifacts; MLflow-compatible store) ----------
// The UI's view of the tracking store. Scripts use the MLflow REST API (/api/2.0/mlflow/…);
// both read the same SQLite tables through src/main/services/tracking.
// =====================================================================================

export type TrackingViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'

/** Spread into `requests` above (a function, so that it can live down here and still run first). */
function trackingRequests() {
  const trackingId = z.string().min(1).max(64)
  const TrackingViewType = z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'])
  return {
    /** The MLFLOW_TRACKING_URI / MLFLOW_TRACKING_TOKEN that scripts should use (null before a door listens). */
    'tracking.connection': z.object({}).strict(),
    'tracking.experiments.list': z.object({ viewType: TrackingViewType.optional() }).strict(),
    /** MLflow search syntax: filter `metrics.acc > 0.9 and params.model = 'rf'`, orderBy `['metrics.acc DESC']`. */
    'tracking.runs.search': z
      .object({
        experimentIds: z.array(z.string().regex(/^\d{1,15}$/)).min(1).max(100),
        filter: z.string().max(10_000).optional(),
        orderBy: z.array(z.string().min(1).max(500)).max(10).optional(),
        maxResults: z.number().int().min(1).max(50_000).optional(),
        pageToken: z.string().max(1000).optional(),
        viewType: TrackingViewType.optional()
      })
      .strict(),
    'tracking.run.get': z.object({ runId: trackingId }).strict(),
    'tracking.run.delete': z.object({ runId: trackingId }).strict(),
    'tracking.run.restore': z.object({ runId: trackingId }).strict(),
    /** The run's note: the `mlflow.note.content` tag, as MLflow's UI keeps it. */
    'tracking.run.setNote': z.object({ runId: trackingId, note: z.string().max(8000) }).strict(),
    'tracking.experiment.delete': z.object({ experimentId: z.string().regex(/^\d{1,15}$/) }).strict(),
    'tracking.experiment.restore': z.object({ experimentId: z.string().regex(/^\d{1,15}$/) }).strict(),
    /** One metric series, LTTB-downsampled to maxPoints (default 2000) unless raw; xMin/xMax zoom. */
    'tracking.metrics.history': z
      .object({
        runId: trackingId,
        key: z.string().min(1).max(250),
        maxPoints: z.number().int().min(3).max(100_000).optional(),
        raw: z.boolean().optional(),
        x: z.enum(['step', 'timestamp']).optional(),
        xMin: z.number().optional(),
        xMax: z.number().optional(),
        /** 'arrow': the points as Arrow IPC bytes, on doors that carry bytes (JSON elsewhere). */
        format: PageFormatSchema.optional()
      })
      .strict(),
    'tracking.artifacts.list': z.object({ runId: trackingId, path: z.string().max(4096).optional() }).strict(),
    /** A preview: text (UTF-8), CSV/TSV rows, or an image as base64; capped at maxBytes (default 256 KiB). */
    'tracking.artifacts.read': z
      .object({ runId: trackingId, path: z.string().min(1).max(4096), maxBytes: z.number().int().min(1).max(8 * 1024 * 1024).optional() })
      .strict()
  } as const
}

export interface TrackingConnection {
  /** e.g. http://127.0.0.1:8765 — null when no HTTP door is listening. */
  uri: string | null
  /** The environment to give a script or kernel: MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN. */
  env: Record<string, string>
}

export interface TrackingExperiment {
  experimentId: string
  name: string
  artifactLocation: string
  lifecycleStage: 'active' | 'deleted'
  creationTime: number
  lastUpdateTime: number
  tags: Record<string, string>
  /** Active runs. */
  runCount: number
}

export interface TrackingMetric {
  key: string
  /** null when not finite; then `nonFinite` says which. */
  value: number | null
  nonFinite?: 'NaN' | 'Infinity' | '-Infinity'
  timestamp: number
  step: number
}

export interface TrackingDatasetInput {
  name: string
  digest: string
  sourceType: string
  source: string
  schema?: string
  profile?: string
  tags: Record<string, string>
}

export interface TrackingRun {
  runId: string
  experimentId: string
  runName: string
  userId: string
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED'
  startTime: number | null
  endTime: number | null
  artifactUri: string
  lifecycleStage: 'active' | 'deleted'
  /** Latest value of each metric. */
  metrics: TrackingMetric[]
  params: Record<string, string>
  tags: Record<string, string>
  inputs: TrackingDatasetInput[]
}

export interface TrackingRunPage {
  runs: TrackingRun[]
  nextPageToken: string | null
}

export interface MetricSeries {
  key: string
  x: 'step' | 'timestamp'
  steps: number[]
  timestamps: number[]
  /** null for NaN / ±Infinity (gaps); a downsampled series leaves NaN points out. */
  values: (number | null)[]
  /** Points in the requested range before downsampling. */
  total: number
  downsampled: boolean
  /**
   * Asked for as 'arrow' over a door that carries bytes: the points as an Arrow IPC stream (float64
   * columns step, timestamp, value; value null for gaps), and steps/timestamps/values left empty.
   */
  arrow?: Uint8Array
}

export interface TrackingArtifact {
  /** Relative to the run's artifact root, e.g. `plots/loss.png`. */
  path: string
  isDir: boolean
  size: number | null
}

export interface ArtifactPreview {
  path: string
  size: number
  kind: 'text' | 'csv' | 'image' | 'binary'
  mime: string
  text?: string
  base64?: string
  /** CSV/TSV: the first rows, parsed. */
  rows?: string[][]
  truncated: boolean
}

/** Sent (throttled, per run) when a run is created, logged to, updated, deleted or restored. */
export interface TrackingChangedEvent {
  experimentId: string
  runId: string | null
}

// ---------- kernels & notebooks ----------
// Kernel messages are relayed over this contract (the renderer never talks to Jupyter directly, so the
// same UI works in serve mode from a remote browser). Declaration merging adds the results and events
// of this section to `Results` and `Events` below.

export interface SshTarget {
  host: string
  port?: number
  username: string
  privateKeyPath?: string
  /** Stored in the secret store, never in the database. */
  passphrase?: string
  useAgent?: boolean
  /** SHA256 fingerprint the user accepted for a host seen for the first time (from an SSH_HOST_KEY error). */
  acceptHostKey?: string
}

function kernelRequests() {
  const kernelId = id
  const httpUrl = z
    .string()
    .max(2048)
    .refine((u) => /^https?:\/\/[^/\s]+/i.test(u), 'use an http:// or https:// URL')
  const SshTarget = SshConnectionSchema
  return {
    'kernels.interpreters': z.object({ refresh: z.boolean().optional() }).strict(),
    'kernels.selectInterpreter': z.object({ path }).strict(),
    'kernels.createVenv': z.object({ basePython: path, dir: path.optional() }).strict(),
    'kernels.servers': z.object({}).strict(),
    'kernels.startLocal': z.object({ python: path.optional() }).strict(),
    'kernels.connect': z
      .object({
        /** Reconnect a remembered server. */
        serverId: id.optional(),
        name: z.string().min(1).max(200).optional(),
        /** The Jupyter URL; with `ssh`, as seen from the SSH host (e.g. http://127.0.0.1:8888/). */
        baseUrl: httpUrl.optional(),
        token: z.string().max(1024).optional(),
        ssh: SshTarget.optional()
      })
      .strict()
      .refine((v) => (v.serverId === undefined) !== (v.baseUrl === undefined), 'give exactly one of serverId or baseUrl'),
    'kernels.disconnect': z.object({ serverId: id, forget: z.boolean().optional() }).strict(),
    /** The local server's lifetime (applies from its next start). */
    'kernels.setLifetime': z
      .object({ lifetime: z.enum(['stop-with-app', 'keep-running']).optional(), idleHours: z.number().min(0).max(24 * 365).optional() })
      .strict(),
    'kernels.specs': z.object({ serverId: id.optional() }).strict(),
    'kernels.list': z.object({}).strict(),
    'kernels.start': z
      .object({
        serverId: id.optional(),
        specName: z.string().min(1).max(200).optional(),
        /** Notebook path (the kernel starts in its folder). */
        path: path.optional()
      })
      .strict(),
    'kernels.interrupt': z.object({ kernelId }).strict(),
    'kernels.restart': z.object({ kernelId }).strict(),
    'kernels.shutdown': z.object({ kernelId }).strict(),
    'kernels.execute': z
      .object({
        kernelId,
        cellId: id,
        code: z.string().max(10_000_000),
        storeHistory: z.boolean().optional(),
        stopOnError: z.boolean().optional()
      })
      .strict(),
    'kernels.complete': z.object({ kernelId, code: z.string().max(1_000_000), cursorPos: z.number().int().min(0) }).strict(),
    'kernels.inspect': z
      .object({
        kernelId,
        code: z.string().max(1_000_000),
        cursorPos: z.number().int().min(0),
        detailLevel: z.union([z.literal(0), z.literal(1)]).optional()
      })
      .strict(),
    'kernels.inputReply': z.object({ kernelId, value: z.string().max(1_000_000) }).strict(),
    'kernels.fullOutput': z
      .object({
        kernelId,
        msgId: id,
        name: z.enum(['stdout', 'stderr']),
        offset: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(8_000_000).optional()
      })
      .strict(),
    'kernels.variables': z.object({ kernelId }).strict(),
    /** The kernel this notebook runs on, with its cells' latest outputs; null when none. */
    'kernels.forNotebook': z.object({ path }).strict(),
    /**
     * Writes a DataFrame/Series of the kernel to a file here (Parquet, else CSV) for the Data room:
     * for a remote kernel the file is brought back through the kernel connection, in chunks.
     */
    'kernels.openFrame': z.object({ kernelId, name: z.string().min(1).max(200) }).strict(),
    /** A display_data / execute_result payload that was over the relay cap, in full. */
    'kernels.fullDisplay': z.object({ kernelId, msgId: id, index: z.number().int().min(0) }).strict(),
    'notebooks.open': z.object({ path }).strict(),
    'notebooks.save': z
      .object({
        path,
        /** nbformat 4 JSON; validated by the service (NOTEBOOK_INVALID with details). */
        notebook: z.record(z.string(), z.unknown()),
        /** The hash from open/save; the save is refused with NOTEBOOK_CONFLICT when the file differs, unless forced. */
        expectedHash: z.string().max(128).optional(),
        force: z.boolean().optional()
      })
      .strict(),
    'notebooks.create': z
      .object({
        path,
        kernelName: z.string().min(1).max(200).optional(),
        kernelDisplayName: z.string().min(1).max(200).optional(),
        language: z.string().min(1).max(100).optional()
      })
      .strict(),
    'notebooks.list': z.object({ dir: path.optional() }).strict()
  } as const
}

export interface InterpreterInfo {
  path: string
  realPath: string
  source: 'workspace-venv' | 'path' | 'system' | 'pyenv' | 'conda'
  version: string | null
  jupyterServer: boolean
  notebook: boolean
  ipykernel: boolean
  /** Can run a local Jupyter server (jupyter_server or notebook, and ipykernel). */
  usable: boolean
  error?: string
}

export interface InterpreterReport {
  interpreters: InterpreterInfo[]
  selected: string | null
  /** What to install when no interpreter is usable, else null. */
  hint: string | null
}

export type JupyterServerState = 'stopped' | 'starting' | 'ready' | 'restarting' | 'lost' | 'failed'

export interface JupyterServerInfo {
  id: string
  kind: 'local' | 'remote' | 'ssh'
  name: string
  /** The server's URL (for ssh, as seen from the SSH host); never carries the token. */
  baseUrl: string
  state: JupyterServerState
  python?: string
  pid?: number
  /** Local server: stop with the app, or keep running (shut down after idleHours without kernel activity). */
  lifetime?: { lifetime: 'stop-with-app' | 'keep-running'; idleHours: number }
  /** The running server was started with another lifetime: the setting applies from its next start. */
  lifetimePending?: boolean
  ssh?: { host: string; port: number; username: string }
  error?: ErrorPayload
}

export interface KernelSpecInfo {
  name: string
  displayName: string
  language: string
  isDefault: boolean
}

export type KernelStatus = 'unknown' | 'starting' | 'idle' | 'busy' | 'terminating' | 'restarting' | 'autorestarting' | 'dead'
export type KernelConnectionState = 'connected' | 'connecting' | 'disconnected'

export interface KernelInfo {
  kernelId: string
  serverId: string
  specName: string
  language: string | null
  status: KernelStatus
  connection: KernelConnectionState
  path: string | null
  /** The kernel's working folder, relative to its server's root ('' = the root), when known. */
  folder?: string | null
}

export interface CompleteResult {
  matches: string[]
  cursorStart: number
  cursorEnd: number
  metadata: Record<string, unknown>
}

export interface InspectResult {
  found: boolean
  data: Record<string, unknown>
}

export interface FullOutputPage {
  name: 'stdout' | 'stderr'
  text: string
  offset: number
  totalChars: number
  done: boolean
}

export interface VariableInfo {
  name: string
  type: string
  kind: 'dataframe' | 'series' | 'ndarray' | 'other'
  shape: number[] | null
  /** Length (containers, strings) or element count (arrays, frames). */
  size: number | null
  /** Memory held: deep for frames, nbytes for arrays, estimated for containers; null for other objects. */
  bytes: number | null
  /** `bytes` is an estimate (a container sampled). */
  bytesApprox?: boolean
  preview: string | null
  columns?: { name: string; dtype: string }[]
}

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw'
  source: string | string[]
  metadata: Record<string, unknown>
  id?: string
  outputs?: Record<string, unknown>[]
  execution_count?: number | null
  attachments?: Record<string, Record<string, unknown>>
  [key: string]: unknown
}

export interface NotebookJson {
  cells: NotebookCell[]
  metadata: Record<string, unknown>
  nbformat: number
  nbformat_minor: number
  [key: string]: unknown
}

export interface NotebookDocument {
  path: string
  notebook: NotebookJson
  /** sha256 of the file's bytes: pass it back to notebooks.save. */
  hash: string
  mtimeMs: number
  size: number
}

export interface NotebookFileEntry {
  path: string
  name: string
  size: number
  mtimeMs: number
}

export interface KernelStatusEvent {
  kernelId: string
  serverId: string
  status: KernelStatus
  connection: KernelConnectionState
  /** Why, when the kernel died or was lost. */
  reason?: string
  /** Executions that will never finish (the kernel died, restarted or its server was lost). */
  lost?: { msgId: string; cellId: string }[]
}

export type IopubMsgType =
  | 'stream'
  | 'execute_result'
  | 'display_data'
  | 'update_display_data'
  | 'clear_output'
  | 'error'
  | 'execute_input'
  | 'status'
  | 'execute_reply'

export interface KernelIopubEvent {
  kernelId: string
  cellId: string | null
  parentMsgId: string
  msgType: IopubMsgType
  content: Record<string, unknown>
  metadata?: Record<string, unknown>
  /** On a stream batch: the per-cell relay cap was reached; the rest is available from kernels.fullOutput. */
  truncated?: boolean
  /** On execute_reply: stream characters produced and relayed. */
  stream?: { totalChars: number; relayedChars: number }
  /** Per kernel, increasing: tells events already in a kernels.forNotebook snapshot from later ones. */
  seq?: number
  /** The notice sent when the kernel's output rate passed the limit and forwarding paused. */
  rateLimited?: boolean
}

/** The latest relayed outputs of one cell (for a notebook reopened while its kernel lives on). */
export interface CellOutputRecord {
  cellId: string
  msgId: string
  /** false while the execution runs. */
  done: boolean
  /** Some outputs were not recorded (over the per-cell record limit). */
  overflow: boolean
  /** execute_input, outputs and execute_reply, stream chunks merged. */
  events: KernelIopubEvent[]
}

/** A kernel's DataFrame written for the Data room (kernels.openFrame). */
export interface FrameFile {
  path: string
  format: 'parquet-pyarrow' | 'parquet-duckdb' | 'csv'
  bytes: number
  rows: number
  /** The Data room's query for it. */
  sql: string
  /** Which format was used, and why, for the user. */
  description: string
}

/** Bytes of a remote kernel's frame brought back so far. */
export interface FrameProgressEvent {
  kernelId: string
  name: string
  bytes: number
  total: number
}

/** A notebook's kernel, found again (kernels.forNotebook). */
export interface NotebookKernelState {
  kernel: KernelInfo | null
  cells: CellOutputRecord[]
  /** The `seq` of the last event in `cells`: later events are applied on top. */
  seq: number
  /** A cell waiting for input() (answer with kernels.inputReply). */
  input?: { cellId: string; prompt: string; password: boolean } | null
  /** Set when outputs were lost (the kernel or its Jupyter server went away while Atelier was not there). */
  lostNotice: string | null
  /** The kernel's working folder on a remote server (the notebook's workspace-relative folder), when remote. */
  remoteFolder?: string | null
}

export interface KernelInputEvent {
  kernelId: string
  cellId: string | null
  parentMsgId: string
  prompt: string
  password: boolean
}

export interface JupyterServerEvent {
  serverId: string
  state: JupyterServerState
  message?: string
  /** Kernels that were lost with the server (their state is gone). */
  lostKernelIds: string[]
}

export interface Results {
  'kernels.interpreters': InterpreterReport
  'kernels.selectInterpreter': InterpreterInfo
  'kernels.createVenv': InterpreterInfo
  'kernels.servers': JupyterServerInfo[]
  'kernels.startLocal': JupyterServerInfo
  'kernels.connect': JupyterServerInfo
  'kernels.disconnect': { ok: true }
  'kernels.setLifetime': { lifetime: 'stop-with-app' | 'keep-running'; idleHours: number }
  'kernels.specs': KernelSpecInfo[]
  'kernels.list': KernelInfo[]
  'kernels.start': KernelInfo
  'kernels.interrupt': { ok: true }
  'kernels.restart': KernelInfo
  'kernels.shutdown': { ok: true }
  'kernels.execute': { msgId: string }
  'kernels.complete': CompleteResult
  'kernels.inspect': InspectResult
  'kernels.inputReply': { ok: true }
  'kernels.fullOutput': FullOutputPage
  'kernels.variables': VariableInfo[]
  'kernels.forNotebook': NotebookKernelState
  'kernels.fullDisplay': Record<string, unknown>
  'kernels.openFrame': FrameFile
  'notebooks.open': NotebookDocument
  'notebooks.save': { path: string; hash: string; mtimeMs: number; size: number; written: boolean }
  'notebooks.create': NotebookDocument
  'notebooks.list': NotebookFileEntry[]
}

export interface Events {
  'kernel.status': KernelStatusEvent
  'kernel.iopub': KernelIopubEvent
  'kernel.input': KernelInputEvent
  'kernel.server': JupyterServerEvent
  'kernel.frameProgress': FrameProgressEvent
}

function kernelEventNames() {
  return ['kernel.status', 'kernel.iopub', 'kernel.input', 'kernel.server', 'kernel.frameProgress'] as const
}
// ---------- end of kernels & notebooks ----------
