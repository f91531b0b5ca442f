/** Experiments: create, read, search, rename, soft delete and restore (with their runs), tags. */
import type { AppDatabase } from '../../db'
import { exists, invalid, MlflowError, notFound } from './errors'
import { parseFilter, parseOrderBy } from './filter'
import { numericCondition, stringCondition, type Bind } from './sqlFilter'
import { DEFAULT_EXPERIMENT_ID, type ExperimentRow, type MlflowExperiment, type MlflowKeyValue, type ViewType } from './types'
import {
  decodePageToken,
  encodePageToken,
  MAX_EXPERIMENT_TAG_VAL_LENGTH,
  MAX_RESULTS_EXPERIMENTS,
  validateExperimentName,
  validateTag
} from './validate'

export interface SearchExperimentsRequest {
  filter?: string
  orderBy?: string[]
  maxResults?: number
  pageToken?: string
  viewType?: ViewType
}

export function lifecycleFilter(view: ViewType | undefined): string[] {
  return view === 'DELETED_ONLY' ? ['deleted'] : view === 'ALL' ? ['active', 'deleted'] : ['active']
}

const ORDER_COLUMNS: Record<string, string> = {
  name: 'e.name',
  experiment_id: 'e.experiment_id',
  creation_time: 'e.creation_time',
  last_update_time: 'e.last_update_time'
}

export class ExperimentStore {
  constructor(private readonly db: AppDatabase) {}

  private row(id: string): ExperimentRow | undefined {
    if (!/^\d{1,15}$/.test(id)) return undefined
    return this.db.prepare('SELECT * FROM tracking_experiments WHERE experiment_id = ?').get(Number(id)) as ExperimentRow | undefined
  }

  /** The row, or RESOURCE_DOES_NOT_EXIST. */
  require(id: string): ExperimentRow {
    const r = this.row(id)
    if (!r) throw notFound(`No Experiment with id=${id} exists`)
    return r
  }

  requireActive(id: string): ExperimentRow {
    const r = this.require(id)
    if (r.lifecycle_stage !== 'active') {
      throw invalid(`The experiment ${id} must be in the 'active' state. Current state is ${r.lifecycle_stage}.`)
    }
    return r
  }

  private tags(ids: number[]): Map<number, MlflowKeyValue[]> {
    const out = new Map<number, MlflowKeyValue[]>()
    if (ids.length === 0) return out
    const rows = this.db
      .prepare('SELECT experiment_id, key, value FROM tracking_experiment_tags WHERE experiment_id IN (SELECT value FROM json_each(?)) ORDER BY key')
      .all(JSON.stringify(ids)) as { experiment_id: number; key: string; value: string }[]
    for (const r of rows) {
      let l = out.get(r.experiment_id)
      if (!l) out.set(r.experiment_id, (l = []))
      l.push({ key: r.key, value: r.value })
    }
    return out
  }

  private toJson(rows: ExperimentRow[]): MlflowExperiment[] {
    const tags = this.tags(rows.map((r) => r.experiment_id))
    return rows.map((r) => ({
      experiment_id: String(r.experiment_id),
      name: r.name,
      artifact_location: r.artifact_location,
      lifecycle_stage: r.lifecycle_stage,
      last_update_time: r.last_update_time,
      creation_time: r.creation_time,
      tags: tags.get(r.experiment_id) ?? []
    }))
  }

  get(id: string): MlflowExperiment {
    return this.toJson([this.require(id)])[0]
  }

  getByName(name: string): MlflowExperiment {
    const r = this.db.prepare('SELECT * FROM tracking_experiments WHERE name = ?').get(name) as ExperimentRow | undefined
    if (!r) throw notFound(`Could not find experiment with name '${name}'`)
    return this.toJson([r])[0]
  }

  create(name: unknown, artifactLocation: string | undefined, tags: MlflowKeyValue[] = []): string {
    validateExperimentName(name)
    for (const t of tags) validateTag(t, MAX_EXPERIMENT_TAG_VAL_LENGTH)
    return this.db.transaction(() => {
      const existing = this.db.prepare('SELECT lifecycle_stage FROM tracking_experiments WHERE name = ?').get(name) as
        | { lifecycle_stage: string }
        | undefined
      if (existing) {
        throw exists(
          existing.lifecycle_stage === 'deleted'
            ? `Experiment '${name}' already exists in deleted state. You can restore the experiment, or permanently delete the experiment to create a new one.`
            : `Experiment '${name}' already exists.`
        )
      }
      const now = Date.now()
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO tracking_experiments (name, artifact_location, creation_time, last_update_time) VALUES (?, '', ?, ?)`
          )
          .run(name, now, now).lastInsertRowid
      )
      this.db
        .prepare('UPDATE tracking_experiments SET artifact_location = ? WHERE experiment_id = ?')
        .run(artifactLocation && artifactLocation.trim() !== '' ? artifactLocation : `mlflow-artifacts:/${id}`, id)
      const put = this.db.prepare('INSERT OR REPLACE INTO tracking_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)')
      for (const t of tags) put.run(id, t.key, t.value)
      return String(id)
    }).immediate()
  }

  rename(id: string, newName: unknown): void {
    validateExperimentName(newName)
    this.db.transaction(() => {
      const e = this.require(id)
      if (e.lifecycle_stage !== 'active') throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.')
      const clash = this.db.prepare('SELECT experiment_id FROM tracking_experiments WHERE name = ? AND experiment_id != ?').get(newName, e.experiment_id)
      if (clash) throw exists(`Experiment '${newName}' already exists.`)
      this.db.prepare('UPDATE tracking_experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?').run(newName, Date.now(), e.experiment_id)
    }).immediate()
  }

  /** Soft delete: the experiment and its active runs become 'deleted', restorable together. */
  delete(id: string): void {
    if (id === DEFAULT_EXPERIMENT_ID) {
      throw invalid(`Cannot delete the default experiment '${DEFAULT_EXPERIMENT_ID}'. This is an internally reserved experiment.`)
    }
    this.db.transaction(() => {
      const e = this.require(id)
      if (e.lifecycle_stage === 'deleted') return
      // Restore brings back the runs deleted at this instant or later, so the instant must come after
      // every run deleted on its own before (one in the same millisecond would otherwise come back too).
      const lastRunDeleted = (this.db.prepare('SELECT max(deleted_time) AS t FROM tracking_runs WHERE experiment_id = ?').get(e.experiment_id) as { t: number | bigint | null }).t
      const now = Math.max(Date.now(), lastRunDeleted === null ? 0 : Number(lastRunDeleted) + 1)
      this.db.prepare("UPDATE tracking_experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?").run(now, e.experiment_id)
      this.db
        .prepare("UPDATE tracking_runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'")
        .run(now, e.experiment_id)
    }).immediate()
  }

  /** Restores the experiment and the runs that were deleted with it (not runs deleted before). */
  restore(id: string): void {
    this.db.transaction(() => {
      const e = this.require(id)
      if (e.lifecycle_stage === 'active') return
      this.db.prepare("UPDATE tracking_experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?").run(Date.now(), e.experiment_id)
      this.db
        .prepare("UPDATE tracking_runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage = 'deleted' AND deleted_time >= ?")
        .run(e.experiment_id, e.last_update_time)
    }).immediate()
  }

  setTag(id: string, key: string, value: string): void {
    validateTag({ key, value }, MAX_EXPERIMENT_TAG_VAL_LENGTH)
    this.db.transaction(() => {
      const e = this.requireActive(id)
      this.db.prepare('INSERT OR REPLACE INTO tracking_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)').run(e.experiment_id, key, value)
      this.db.prepare('UPDATE tracking_experiments SET last_update_time = ? WHERE experiment_id = ?').run(Date.now(), e.experiment_id)
    }).immediate()
  }

  deleteTag(id: string, key: string): void {
    this.db.transaction(() => {
      const e = this.requireActive(id)
      const r = this.db.prepare('DELETE FROM tracking_experiment_tags WHERE experiment_id = ? AND key = ?').run(e.experiment_id, key)
      if (r.changes === 0) throw notFound(`No tag with name: ${key} in experiment with id ${id}`)
    }).immediate()
  }

  search(req: SearchExperimentsRequest): { experiments: MlflowExperiment[]; next_page_token?: string } {
    const max = req.maxResults ?? 1000
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS_EXPERIMENTS) {
      throw invalid(`Invalid value ${max} for parameter 'max_results' supplied. It must be at most ${MAX_RESULTS_EXPERIMENTS}, and at least 1.`)
    }
    const offset = decodePageToken(req.pageToken)
    const stages = lifecycleFilter(req.viewType)
    const where: string[] = [`e.lifecycle_stage IN (${stages.map(() => '?').join(', ')})`]
    const binds: Bind[] = [...stages]
    for (const c of parseFilter(req.filter)) {
      if (c.type === 'attribute') {
        if (c.key === 'name') {
          const s = stringCondition('e.name', c, 'attribute')
          where.push(s.sql)
          binds.push(...s.binds)
        } else if (c.key === 'creation_time' || c.key === 'last_update_time') {
          const s = numericCondition(`e.${c.key}`, c, 'attribute')
          where.push(s.sql)
          binds.push(...s.binds)
        } else {
          throw invalid(`Invalid attribute key '${c.key}' specified. Valid keys are '["name", "creation_time", "last_update_time"]'`)
        }
      } else if (c.type === 'tag') {
        if (c.comparator === 'IS NULL' || c.comparator === 'IS NOT NULL') {
          where.push(`e.experiment_id ${c.comparator === 'IS NULL' ? 'NOT IN' : 'IN'} (SELECT experiment_id FROM tracking_experiment_tags WHERE key = ?)`)
          binds.push(c.key)
        } else {
          const s = stringCondition('t.value', c, 'tag')
          where.push(`e.experiment_id IN (SELECT t.experiment_id FROM tracking_experiment_tags t WHERE t.key = ? AND ${s.sql})`)
          binds.push(c.key, ...s.binds)
        }
      } else {
        throw invalid(`Invalid entity type '${c.type}' in experiment filter. Valid values are ['attribute', 'tag']`)
      }
    }
    const order: string[] = []
    for (const entry of req.orderBy ?? []) {
      const o = parseOrderBy(entry)
      const col = o.type === 'attribute' ? ORDER_COLUMNS[o.key] : undefined
      if (!col) throw invalid(`Invalid order_by entity: '${entry}'. Experiments can be ordered by ${Object.keys(ORDER_COLUMNS).join(', ')}.`)
      order.push(`${col} ${o.ascending ? 'ASC' : 'DESC'}`)
    }
    if (!order.some((o) => o.startsWith('e.creation_time'))) order.push('e.creation_time DESC')
    if (!order.some((o) => o.startsWith('e.experiment_id'))) order.push('e.experiment_id ASC')
    const rows = this.db
      .prepare(`SELECT e.* FROM tracking_experiments e WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`)
      .all(...binds, max + 1, offset) as ExperimentRow[]
    const more = rows.length > max
    const experiments = this.toJson(rows.slice(0, max))
    return more ? { experiments, next_page_token: encodePageToken(offset + max) } : { experiments }
  }
}
