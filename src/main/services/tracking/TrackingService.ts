/**
 * Experiment tracking: an MLflow-compatible store in the app database, artifacts under
 * `<dataDir>/artifacts`, the UI's view of it (the `tracking.*` contract methods) and the
 * environment that points scripts at whichever HTTP door serves the REST API.
 */
import { join } from 'node:path'
import type {
  ArtifactPreview,
  EventName,
  Events,
  MetricSeries,
  TrackingArtifact,
  TrackingConnection,
  TrackingExperiment,
  TrackingMetric,
  TrackingRun,
  TrackingRunPage,
  TrackingViewType
} from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { AppDatabase } from '../../db'
import type { Logger } from '../../log'
import { ArtifactStore, safeSegments } from './artifacts'
import { MlflowError } from './errors'
import { ExperimentStore } from './experiments'
import { RunStore } from './runs'
import { RunSearch, type SearchRunsRequest } from './search'
import { readSeries } from './series'
import { encodeSeriesArrow } from './seriesArrow'
import { compareItems, groupRuns, groupSeries } from './groups'
import type { GroupComparison, GroupSeries, GroupSummary } from '../../../shared/trackingGroups'
import type { MlflowRun, RunRow } from './types'

export const NOTE_TAG = 'mlflow.note.content'
/** Runs grouped in one summary at most. */
const MAX_GROUPED_RUNS = 200_000

export interface TrackingDeps {
  db: AppDatabase
  dataDir: string
  emit: <E extends EventName>(event: E, payload: Events[E]) => void
  log: Logger
  /** Minimum gap between two `tracking.changed` events for one run (ms). */
  throttleMs?: number
}

/** MLflow errors as the contract's `{code, message, details}`; the MLflow code rides in details. */
export function toAppError(err: unknown): unknown {
  if (!(err instanceof MlflowError)) return err
  const code = err.errorCode === 'RESOURCE_DOES_NOT_EXIST' ? 'NOT_FOUND' : err.errorCode === 'INTERNAL_ERROR' ? 'INTERNAL' : 'INVALID_REQUEST'
  return new AppError(code, err.message, { mlflowErrorCode: err.errorCode })
}

async function ui<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (err) {
    throw toAppError(err)
  }
}

export class TrackingService {
  readonly experiments: ExperimentStore
  readonly runs: RunStore
  readonly searcher: RunSearch
  readonly artifacts: ArtifactStore
  private endpoint: { uri: string; token: () => string } | null = null
  private readonly endpointListeners = new Set<() => void>()
  private readonly throttleMs: number
  private readonly pending = new Map<string, { dirty: boolean; timer: NodeJS.Timeout | null }>()

  constructor(private readonly deps: TrackingDeps) {
    this.experiments = new ExperimentStore(deps.db)
    this.runs = new RunStore(deps.db, this.experiments)
    this.searcher = new RunSearch(deps.db, this.runs)
    this.artifacts = new ArtifactStore(join(deps.dataDir, 'artifacts'))
    this.throttleMs = deps.throttleMs ?? 250
  }

  // ---------- where scripts send their runs ----------

  /** Called by the HTTP door that serves the REST API once it listens. */
  setEndpoint(uri: string, token: string | (() => string)): void {
    this.endpoint = { uri: uri.replace(/\/+$/, ''), token: typeof token === 'string' ? () => token : token }
    for (const l of this.endpointListeners) l()
  }

  /** Calls `listener` whenever a door sets the address scripts log to; returns the unsubscribe. */
  onEndpoint(listener: () => void): () => void {
    this.endpointListeners.add(listener)
    return () => this.endpointListeners.delete(listener)
  }

  /** MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN for kernels and jobs ({} until a door listens). */
  trackingEnv(): Record<string, string> {
    if (!this.endpoint) return {}
    return { MLFLOW_TRACKING_URI: this.endpoint.uri, MLFLOW_TRACKING_TOKEN: this.endpoint.token() }
  }

  connection(): TrackingConnection {
    return { uri: this.endpoint?.uri ?? null, env: this.trackingEnv() }
  }

  // ---------- live updates ----------

  /** `tracking.changed` for a run (or an experiment): at once, then at most once per window, trailing. */
  changed(experimentId: string, runId: string | null): void {
    const key = runId ?? `experiment:${experimentId}`
    const p = this.pending.get(key)
    if (p) {
      p.dirty = true
      return
    }
    const emit = () => this.deps.emit('tracking.changed', { experimentId, runId })
    const entry = { dirty: false, timer: null as NodeJS.Timeout | null }
    const trailing = () => {
      if (!entry.dirty) {
        this.pending.delete(key)
        return
      }
      entry.dirty = false
      emit()
      entry.timer = setTimeout(trailing, this.throttleMs)
      entry.timer.unref?.()
    }
    emit()
    entry.timer = setTimeout(trailing, this.throttleMs)
    entry.timer.unref?.()
    this.pending.set(key, entry)
  }

  runChanged(row: Pick<RunRow, 'experiment_id' | 'run_uuid'>): void {
    this.changed(String(row.experiment_id), row.run_uuid)
  }

  dispose(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer)
    this.pending.clear()
  }

  // ---------- the UI's view (contract methods) ----------

  listExperiments(viewType?: TrackingViewType): Promise<TrackingExperiment[]> {
    return ui(() => {
      const counts = new Map(
        (
          this.deps.db
            .prepare("SELECT experiment_id, count(*) n FROM tracking_runs WHERE lifecycle_stage = 'active' GROUP BY experiment_id")
            .all() as { experiment_id: number; n: number }[]
        ).map((r) => [String(r.experiment_id), r.n])
      )
      const out: TrackingExperiment[] = []
      let pageToken: string | undefined
      do {
        const page = this.experiments.search({ viewType, maxResults: 50_000, pageToken, orderBy: ['name ASC'] })
        for (const e of page.experiments) {
          out.push({
            experimentId: e.experiment_id,
            name: e.name,
            artifactLocation: e.artifact_location,
            lifecycleStage: e.lifecycle_stage,
            creationTime: e.creation_time,
            lastUpdateTime: e.last_update_time,
            tags: Object.fromEntries(e.tags.map((t) => [t.key, t.value])),
            runCount: counts.get(e.experiment_id) ?? 0
          })
        }
        pageToken = page.next_page_token
      } while (pageToken)
      return out
    })
  }

  searchRuns(req: SearchRunsRequest): Promise<TrackingRunPage> {
    return ui(() => {
      const page = this.searcher.search(req)
      return { runs: page.runs.map(toUiRun), nextPageToken: page.next_page_token ?? null }
    })
  }

  getRun(runId: string): Promise<TrackingRun> {
    return ui(() => toUiRun(this.runs.get(runId)))
  }

  setRunDeleted(runId: string, deleted: boolean): Promise<{ ok: true }> {
    return ui(() => {
      this.runChanged(this.runs.setLifecycle(runId, deleted ? 'deleted' : 'active'))
      return { ok: true as const }
    })
  }

  /** The note MLflow's UI shows for a run: the `mlflow.note.content` tag. */
  setRunNote(runId: string, note: string): Promise<{ ok: true }> {
    return ui(() => {
      this.runChanged(this.runs.logBatch(runId, [], [], [{ key: NOTE_TAG, value: note }]).run)
      return { ok: true as const }
    })
  }

  /** Soft delete (with the experiment's active runs) or restore, as experiments/delete and /restore. */
  setExperimentDeleted(experimentId: string, deleted: boolean): Promise<{ ok: true }> {
    return ui(() => {
      if (deleted) this.experiments.delete(experimentId)
      else this.experiments.restore(experimentId)
      this.changed(experimentId, null)
      return { ok: true as const }
    })
  }

  /** Runs of the search grouped by param values, with n and mean ± 95 % CI of each metric's latest value. */
  groupSummary(req: SearchRunsRequest & { groupBy: string[] }): Promise<GroupSummary> {
    return ui(() => {
      const runs: TrackingRun[] = []
      let pageToken: string | undefined
      do {
        const page = this.searcher.search({ ...req, maxResults: 50_000, pageToken })
        runs.push(...page.runs.map(toUiRun))
        pageToken = page.next_page_token ?? undefined
      } while (pageToken && runs.length < MAX_GROUPED_RUNS)
      const groupable = runs.map((r) => ({ runId: r.runId, runName: r.runName, params: r.params, metrics: r.metrics.map((m) => ({ key: m.key, value: m.value })) }))
      return { groupBy: req.groupBy, groups: groupRuns(groupable, req.groupBy), runCount: runs.length }
    })
  }

  /** One metric over a group's runs, aligned by step, with its 95 % band. */
  groupSeries(req: { runIds: string[]; key: string; maxPoints?: number }): Promise<GroupSeries> {
    return ui(() => {
      const ids = [...new Set(req.runIds)].map((id) => this.runs.require(id).id)
      return { ...groupSeries(this.deps.db, ids, req.key, req.maxPoints ?? 1000), runs: ids.length }
    })
  }

  /**
   * Groups (or single runs, each a group of one) side by side: n, shared params, each metric's
   * mean ± 95 % CI with min and max, and each metric's curve aligned by step with its band.
   */
  compareGroups(req: { items: { label?: string; runIds: string[] }[]; keys?: string[]; maxPoints?: number }): Promise<GroupComparison> {
    return ui(() => {
      const items = req.items.map((it) => {
        const rows = [...new Set(it.runIds)].map((id) => this.runs.require(id))
        const runs = this.runs.toJson(rows).map(toUiRun)
        return { label: it.label, rows, runs: runs.map((r) => ({ runId: r.runId, runName: r.runName, params: r.params, metrics: r.metrics.map((m) => ({ key: m.key, value: m.value })) })) }
      })
      const stats = compareItems(items)
      const seriesKeys = req.keys ?? stats.metricKeys.slice(0, 20)
      return {
        ...stats,
        seriesKeys,
        items: stats.items.map((it, i) => {
          const ids = items[i].rows.map((r) => r.id)
          return { ...it, series: Object.fromEntries(seriesKeys.map((k) => [k, { ...groupSeries(this.deps.db, ids, k, req.maxPoints ?? 1000), runs: ids.length }])) }
        })
      }
    })
  }

  metricHistory(
    req: { runId: string; key: string; maxPoints?: number; raw?: boolean; x?: 'step' | 'timestamp'; xMin?: number; xMax?: number },
    format: 'json' | 'arrow' = 'json'
  ): Promise<MetricSeries> {
    return ui(() => {
      const run = this.runs.require(req.runId)
      const series = readSeries(this.deps.db, { ...req, runId: run.id })
      return format === 'arrow' ? { ...series, steps: [], timestamps: [], values: [], arrow: encodeSeriesArrow(series) } : series
    })
  }

  /** The run's artifact folder relative to the artifact root, when its URI is a proxied one. */
  runArtifactDir(run: Pick<RunRow, 'artifact_uri'>): string | null {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(run.artifact_uri)
    return m ? safeSegments(m[1]).join('/') : null
  }

  listArtifacts(runId: string, path = ''): Promise<{ runId: string; path: string; files: TrackingArtifact[] }> {
    return ui(async () => {
      const files = await this.listRunArtifacts(runId, path)
      return { runId, path, files: files.map((f) => ({ path: f.path, isDir: f.is_dir, size: f.file_size ?? null })) }
    })
  }

  /** Children of a folder of the run's artifacts, paths relative to the run's artifact root. */
  async listRunArtifacts(runId: string, path = '') {
    const run = this.runs.require(runId)
    const dir = this.runArtifactDir(run)
    if (dir === null) return []
    const rel = safeSegments(path).join('/')
    return this.artifacts.list(rel ? `${dir}/${rel}` : dir, rel)
  }

  readArtifact(runId: string, path: string, maxBytes = 256 * 1024): Promise<ArtifactPreview> {
    return ui(async () => {
      const run = this.runs.require(runId)
      const dir = this.runArtifactDir(run)
      const rel = safeSegments(path).join('/')
      if (dir === null || rel === '') throw new AppError('NOT_FOUND', `Artifact not found: '${path}'`)
      return this.artifacts.preview(`${dir}/${rel}`, rel, maxBytes)
    })
  }
}

function nonFinite(v: number | string): Pick<TrackingMetric, 'value' | 'nonFinite'> {
  if (typeof v === 'number') return { value: v }
  return { value: null, nonFinite: v as 'NaN' | 'Infinity' | '-Infinity' }
}

export function toUiRun(r: MlflowRun): TrackingRun {
  return {
    runId: r.info.run_id,
    experimentId: r.info.experiment_id,
    runName: r.info.run_name,
    userId: r.info.user_id,
    status: r.info.status,
    startTime: r.info.start_time ?? null,
    endTime: r.info.end_time ?? null,
    artifactUri: r.info.artifact_uri,
    lifecycleStage: r.info.lifecycle_stage,
    metrics: r.data.metrics.map((m) => ({ key: m.key, ...nonFinite(m.value), timestamp: Number(m.timestamp), step: Number(m.step) })),
    params: Object.fromEntries(r.data.params.map((p) => [p.key, p.value])),
    tags: Object.fromEntries(r.data.tags.map((t) => [t.key, t.value])),
    inputs: r.inputs.dataset_inputs.map((i) => ({
      name: i.dataset.name,
      digest: i.dataset.digest,
      sourceType: i.dataset.source_type,
      source: i.dataset.source,
      ...(i.dataset.schema !== undefined ? { schema: i.dataset.schema } : {}),
      ...(i.dataset.profile !== undefined ? { profile: i.dataset.profile } : {}),
      tags: Object.fromEntries(i.tags.map((t) => [t.key, t.value]))
    }))
  }
}
