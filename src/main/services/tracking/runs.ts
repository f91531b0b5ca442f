/**
 * Runs and what is logged to them. Every write is one IMMEDIATE transaction on the app's single
 * connection (better-sqlite3 is synchronous, so writers are serialised in-process and never see
 * SQLITE_BUSY); a batch is validated whole before the transaction and re-checked inside it.
 */
import { JsonTooDeepError, parseJson } from '../../serve/http'
import { randomInt, randomUUID } from 'node:crypto'
import type { Statement } from 'better-sqlite3'
import type { AppDatabase } from '../../db'
import { BucketWriter } from './buckets'
import { PointWriter } from './points'
import { invalid, notFound } from './errors'
import type { ExperimentStore } from './experiments'
import {
  RUN_NAME_TAG,
  type MlflowDatasetInput,
  type MlflowKeyValue,
  type MlflowMetric,
  type MlflowRun,
  type MlflowRunInfo,
  type RunRow,
  type RunStatus
} from './types'
import {
  decodePageToken,
  encodeDouble,
  encodePageToken,
  MAX_DATASET_DIGEST_SIZE,
  MAX_DATASET_NAME_SIZE,
  MAX_DATASET_PROFILE_SIZE,
  MAX_DATASET_SCHEMA_SIZE,
  MAX_DATASET_SOURCE_SIZE,
  MAX_INPUT_TAG_KEY_SIZE,
  MAX_INPUT_TAG_VALUE_SIZE,
  MAX_RESULTS_METRIC_HISTORY,
  validateBatch,
  validateTag,
  type KeyValue,
  type MetricIn
} from './validate'

const ADJECTIVES = ['able', 'bold', 'calm', 'clever', 'crisp', 'eager', 'fair', 'gentle', 'keen', 'lucky', 'merry', 'nimble', 'quiet', 'sleek', 'sunny', 'witty']
const NOUNS = ['ant', 'bass', 'crow', 'deer', 'eel', 'finch', 'fox', 'gnu', 'hawk', 'lark', 'mole', 'owl', 'ram', 'seal', 'toad', 'wren']
export const randomRunName = () => `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`

export interface CreateRunRequest {
  experimentId: string
  userId?: string
  runName?: string
  startTime?: number
  tags?: MlflowKeyValue[]
}

export interface BatchResult {
  run: RunRow
  metrics: number
}

const isRunId = (s: string) => /^[0-9a-zA-Z_-]{1,64}$/.test(s)

export class RunStore {
  private readonly points: PointWriter
  private readonly buckets: BucketWriter
  private readonly upsertLatest: Statement
  private readonly insertParam: Statement
  private readonly upsertTag: Statement
  private readonly byUuid: Statement

  constructor(
    private readonly db: AppDatabase,
    private readonly experiments: ExperimentStore
  ) {
    this.buckets = new BucketWriter(db)
    this.points = new PointWriter(db)
    this.upsertLatest = db.prepare(`INSERT INTO tracking_latest_metrics (run_id, key, value, is_nan, timestamp, step)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
      WHERE (excluded.step, excluded.timestamp, excluded.value) > (tracking_latest_metrics.step, tracking_latest_metrics.timestamp, tracking_latest_metrics.value)`)
    this.insertParam = db.prepare('INSERT OR IGNORE INTO tracking_params (run_id, key, value) VALUES (?, ?, ?)')
    this.upsertTag = db.prepare('INSERT OR REPLACE INTO tracking_run_tags (run_id, key, value) VALUES (?, ?, ?)')
    this.byUuid = db.prepare('SELECT * FROM tracking_runs WHERE run_uuid = ?')
  }

  /** The row, or RESOURCE_DOES_NOT_EXIST. */
  require(runUuid: string): RunRow {
    const r = isRunId(runUuid) ? (this.byUuid.get(runUuid) as RunRow | undefined) : undefined
    if (!r) throw notFound(`Run with id=${runUuid} not found`)
    return r
  }

  requireActive(runUuid: string): RunRow {
    const r = this.require(runUuid)
    if (r.lifecycle_stage !== 'active') {
      throw invalid(`The run ${runUuid} must be in the 'active' state. Current state is ${r.lifecycle_stage}.`)
    }
    return r
  }

  create(req: CreateRunRequest): MlflowRun {
    const tags = req.tags ?? []
    for (const t of tags) validateTag(t)
    const tagName = [...tags].reverse().find((t) => t.key === RUN_NAME_TAG)?.value
    if (req.runName && tagName !== undefined && req.runName !== tagName) {
      throw invalid(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${req.runName}', mlflow.runName='${tagName}').`
      )
    }
    const name = req.runName || tagName || randomRunName()
    const uuid = randomUUID().replace(/-/g, '')
    const row = this.db.transaction(() => {
      const e = this.experiments.requireActive(req.experimentId)
      const source = (k: string) => tags.find((t) => t.key === k)?.value
      const artifactUri = `${e.artifact_location.replace(/\/+$/, '')}/${uuid}/artifacts`
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO tracking_runs (run_uuid, experiment_id, name, user_id, status, start_time, source_type, source_name, artifact_uri)
             VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?)`
          )
          .run(uuid, e.experiment_id, name, req.userId ?? '', req.startTime ?? Date.now(), source('mlflow.source.type') ?? 'UNKNOWN', source('mlflow.source.name') ?? '', artifactUri)
          .lastInsertRowid
      )
      for (const t of tags) if (t.key !== RUN_NAME_TAG) this.upsertTag.run(id, t.key, t.value)
      this.upsertTag.run(id, RUN_NAME_TAG, name)
      return this.byUuid.get(uuid) as RunRow
    }).immediate()
    return this.toJson([row])[0]
  }

  get(runUuid: string): MlflowRun {
    return this.toJson([this.require(runUuid)])[0]
  }

  update(runUuid: string, u: { status?: RunStatus; endTime?: number; runName?: string }): MlflowRunInfo {
    const row = this.db.transaction(() => {
      const r = this.requireActive(runUuid)
      if (u.status !== undefined) this.db.prepare('UPDATE tracking_runs SET status = ? WHERE id = ?').run(u.status, r.id)
      if (u.endTime !== undefined) this.db.prepare('UPDATE tracking_runs SET end_time = ? WHERE id = ?').run(u.endTime, r.id)
      if (u.runName) {
        this.db.prepare('UPDATE tracking_runs SET name = ? WHERE id = ?').run(u.runName, r.id)
        this.upsertTag.run(r.id, RUN_NAME_TAG, u.runName)
      }
      return this.byUuid.get(runUuid) as RunRow
    }).immediate()
    return runInfo(row)
  }

  setLifecycle(runUuid: string, stage: 'active' | 'deleted'): RunRow {
    return this.db.transaction(() => {
      const r = this.require(runUuid)
      if (stage === 'active') this.experiments.requireActive(String(r.experiment_id))
      this.db
        .prepare('UPDATE tracking_runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?')
        .run(stage, stage === 'deleted' ? Date.now() : null, r.id)
      return this.byUuid.get(runUuid) as RunRow
    }).immediate()
  }

  /**
   * The one write path for metrics, params and tags (log-metric, log-parameter and set-tag are
   * batches of one). All or nothing: validation first, then one transaction.
   */
  logBatch(runUuid: string, metrics: MetricIn[], params: KeyValue[], tags: KeyValue[]): BatchResult {
    validateBatch(metrics, params, tags)
    return this.db.transaction(() => {
      const run = this.requireActive(runUuid)
      if (params.length > 0) {
        const existing = this.db
          .prepare('SELECT key, value FROM tracking_params WHERE run_id = ? AND key IN (SELECT value FROM json_each(?))')
          .all(run.id, JSON.stringify(params.map((p) => p.key))) as KeyValue[]
        const old = new Map(existing.map((p) => [p.key, p.value]))
        const changed = params.filter((p) => old.has(p.key) && old.get(p.key) !== p.value)
        if (changed.length > 0) {
          const desc = changed.map((p) => `{'key': '${p.key}', 'old_value': '${old.get(p.key)}', 'new_value': '${p.value}'}`).join(', ')
          throw invalid(
            `Changing param values is not allowed. Params were already logged='[${desc}]' for run ID='${runUuid}'.`
          )
        }
        for (const p of params) this.insertParam.run(run.id, p.key, p.value)
      }
      for (const t of tags) {
        this.upsertTag.run(run.id, t.key, t.value)
        if (t.key === RUN_NAME_TAG) this.db.prepare('UPDATE tracking_runs SET name = ? WHERE id = ?').run(t.value, run.id)
      }
      if (metrics.length > 0) {
        const inserted = this.points.insert(run.id, metrics)
        this.buckets.add(run.id, metrics, inserted === metrics.length)
        const latest = new Map<string, MetricIn>()
        for (const m of metrics) {
          const cur = latest.get(m.key)
          if (!cur || isLater(m, cur)) latest.set(m.key, m)
        }
        for (const m of latest.values()) {
          const nan = Number.isNaN(m.value)
          this.upsertLatest.run(run.id, m.key, nan ? 0 : m.value, nan ? 1 : 0, m.timestamp, m.step)
        }
      }
      return { run, metrics: metrics.length }
    }).immediate()
  }

  deleteTag(runUuid: string, key: string): RunRow {
    return this.db.transaction(() => {
      const run = this.requireActive(runUuid)
      const r = this.db.prepare('DELETE FROM tracking_run_tags WHERE run_id = ? AND key = ?').run(run.id, key)
      if (r.changes === 0) throw notFound(`No tag with name: ${key} in run with id ${runUuid}`)
      return run
    }).immediate()
  }

  /** runs/log-model: MLflow keeps the logged models' metadata in the `mlflow.log-model.history` tag. */
  appendModelHistory(runUuid: string, modelJson: string): RunRow {
    let model: unknown
    try {
      model = parseJson(modelJson)
    } catch (err) {
      if (err instanceof JsonTooDeepError) throw invalid(`Invalid value for parameter 'model_json': ${err.message}`)
      throw invalid(`Invalid value for parameter 'model_json': it is not JSON`)
    }
    if (typeof model !== 'object' || model === null || Array.isArray(model)) throw invalid("Invalid value for parameter 'model_json': expected a JSON object")
    return this.db.transaction(() => {
      const run = this.requireActive(runUuid)
      const key = 'mlflow.log-model.history'
      const old = this.db.prepare('SELECT value FROM tracking_run_tags WHERE run_id = ? AND key = ?').get(run.id, key) as { value: string } | undefined
      let history: unknown[] = []
      try {
        history = old ? JSON.parse(old.value) : []
      } catch {
        history = []
      }
      this.upsertTag.run(run.id, key, JSON.stringify([...(Array.isArray(history) ? history : []), model]))
      return run
    }).immediate()
  }

  logInputs(runUuid: string, inputs: MlflowDatasetInput[]): RunRow {
    for (const i of inputs) {
      const d = i.dataset
      const check = (v: string | undefined, max: number, what: string) => {
        if (v !== undefined && v.length > max) throw invalid(`Dataset ${what} exceeds the maximum length of ${max}`)
      }
      if (!d?.name) throw invalid("Missing value for required parameter 'datasets.dataset.name'.")
      if (!d.digest) throw invalid("Missing value for required parameter 'datasets.dataset.digest'.")
      if (!d.source_type) throw invalid("Missing value for required parameter 'datasets.dataset.source_type'.")
      if (d.source === undefined) throw invalid("Missing value for required parameter 'datasets.dataset.source'.")
      check(d.name, MAX_DATASET_NAME_SIZE, 'name')
      check(d.digest, MAX_DATASET_DIGEST_SIZE, 'digest')
      check(d.source, MAX_DATASET_SOURCE_SIZE, 'source')
      check(d.schema, MAX_DATASET_SCHEMA_SIZE, 'schema')
      check(d.profile, MAX_DATASET_PROFILE_SIZE, 'profile')
      for (const t of i.tags ?? []) {
        if (!t.key || t.key.length > MAX_INPUT_TAG_KEY_SIZE) throw invalid(`Input tag key '${t.key}' is empty or longer than ${MAX_INPUT_TAG_KEY_SIZE}`)
        if (t.value.length > MAX_INPUT_TAG_VALUE_SIZE) throw invalid(`Input tag value for '${t.key}' is longer than ${MAX_INPUT_TAG_VALUE_SIZE}`)
      }
    }
    return this.db.transaction(() => {
      const run = this.requireActive(runUuid)
      for (const i of inputs) {
        const d = i.dataset
        this.db
          .prepare(
            `INSERT INTO tracking_datasets (experiment_id, name, digest, source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (experiment_id, name, digest) DO NOTHING`
          )
          .run(run.experiment_id, d.name, d.digest, d.source_type, d.source, d.schema ?? null, d.profile ?? null)
        const ds = this.db
          .prepare('SELECT id FROM tracking_datasets WHERE experiment_id = ? AND name = ? AND digest = ?')
          .get(run.experiment_id, d.name, d.digest) as { id: number }
        this.db
          .prepare('INSERT OR REPLACE INTO tracking_inputs (run_id, dataset_id, tags) VALUES (?, ?, ?)')
          .run(run.id, ds.id, JSON.stringify((i.tags ?? []).map((t) => ({ key: t.key, value: t.value }))))
      }
      return run
    }).immediate()
  }

  /** metrics/get-history: ordered by step then timestamp, paged by offset tokens. */
  history(runUuid: string, key: string, maxResults?: number, pageToken?: string): { metrics: MlflowMetric[]; next_page_token?: string } {
    const run = this.require(runUuid)
    if (maxResults !== undefined && (maxResults < 1 || maxResults > MAX_RESULTS_METRIC_HISTORY)) {
      throw invalid(`Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most ${MAX_RESULTS_METRIC_HISTORY}, and at least 1.`)
    }
    const offset = decodePageToken(pageToken)
    const limit = maxResults === undefined ? -1 : maxResults + 1
    const rows = this.db
      .prepare('SELECT step, timestamp, value, is_nan FROM tracking_metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, value LIMIT ? OFFSET ?')
      .raw(true)
      .all(run.id, key, limit, offset) as [number, number, number, number][]
    const more = maxResults !== undefined && rows.length > maxResults
    const page = more ? rows.slice(0, maxResults) : rows
    const metrics = page.map(([step, timestamp, value, nan]) => ({ key, value: nan ? 'NaN' : encodeDouble(value), timestamp, step }))
    return more ? { metrics, next_page_token: encodePageToken(offset + maxResults!) } : { metrics }
  }

  /** Rows to wire entities, with metrics, params, tags and inputs read in bulk. */
  toJson(rows: RunRow[]): MlflowRun[] {
    if (rows.length === 0) return []
    const ids = JSON.stringify(rows.map((r) => r.id))
    const group = <T>(sql: string, make: (r: any) => T) => {
      const out = new Map<number, T[]>()
      for (const r of this.db.prepare(sql).all(ids) as { run_id: number }[]) {
        let l = out.get(r.run_id)
        if (!l) out.set(r.run_id, (l = []))
        l.push(make(r))
      }
      return out
    }
    const inList = 'run_id IN (SELECT value FROM json_each(?))'
    const metrics = group(`SELECT run_id, key, value, is_nan, timestamp, step FROM tracking_latest_metrics WHERE ${inList}`, (r) => ({
      key: r.key as string,
      value: r.is_nan ? 'NaN' : encodeDouble(r.value),
      timestamp: r.timestamp as number,
      step: r.step as number
    }))
    const params = group(`SELECT run_id, key, value FROM tracking_params WHERE ${inList}`, (r) => ({ key: r.key as string, value: r.value as string }))
    const tags = group(`SELECT run_id, key, value FROM tracking_run_tags WHERE ${inList}`, (r) => ({ key: r.key as string, value: r.value as string }))
    const inputs = group(
      `SELECT i.run_id, i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
       FROM tracking_inputs i JOIN tracking_datasets d ON d.id = i.dataset_id WHERE i.${inList}`,
      (r): MlflowDatasetInput => ({
        tags: JSON.parse(r.tags),
        dataset: {
          name: r.name,
          digest: r.digest,
          source_type: r.source_type,
          source: r.source,
          ...(r.schema !== null ? { schema: r.schema } : {}),
          ...(r.profile !== null ? { profile: r.profile } : {})
        }
      })
    )
    return rows.map((r) => ({
      info: runInfo(r),
      data: { metrics: metrics.get(r.id) ?? [], params: params.get(r.id) ?? [], tags: tags.get(r.id) ?? [] },
      inputs: { dataset_inputs: inputs.get(r.id) ?? [] }
    }))
  }
}

function isLater(a: MetricIn, b: MetricIn): boolean {
  if (a.step !== b.step) return a.step > b.step
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp
  const av = Number.isNaN(a.value) ? 0 : a.value
  const bv = Number.isNaN(b.value) ? 0 : b.value
  return av > bv
}

export function runInfo(r: RunRow): MlflowRunInfo {
  const info: MlflowRunInfo = {
    run_id: r.run_uuid,
    run_uuid: r.run_uuid,
    run_name: r.name,
    experiment_id: String(r.experiment_id),
    user_id: r.user_id,
    status: r.status,
    artifact_uri: r.artifact_uri,
    lifecycle_stage: r.lifecycle_stage
  }
  if (r.start_time !== null) info.start_time = r.start_time
  if (r.end_time !== null) info.end_time = r.end_time
  return info
}
