/**
 * runs/search: MLflow filter and order_by over the runs of some experiments, as one SQL query.
 * Metric conditions read tracking_latest_metrics through its (key, value) index, never the series.
 */
import type { AppDatabase } from '../../db'
import { invalid } from './errors'
import { lifecycleFilter } from './experiments'
import { parseFilter, parseOrderBy, type Clause } from './filter'
import type { RunStore } from './runs'
import { numericCondition, stringCondition, type Bind } from './sqlFilter'
import type { MlflowRun, RunRow, ViewType } from './types'
import { decodePageToken, encodePageToken, MAX_RESULTS_RUNS } from './validate'

export interface SearchRunsRequest {
  experimentIds: string[]
  filter?: string
  runViewType?: ViewType
  maxResults?: number
  orderBy?: string[]
  pageToken?: string
}

const STRING_ATTRIBUTES: Record<string, string> = {
  run_id: 'r.run_uuid',
  run_uuid: 'r.run_uuid',
  run_name: 'r.name',
  status: 'r.status',
  user_id: 'r.user_id',
  artifact_uri: 'r.artifact_uri',
  lifecycle_stage: 'r.lifecycle_stage'
}
const NUMERIC_ATTRIBUTES: Record<string, string> = {
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  created: 'r.start_time',
  Created: 'r.start_time'
}
const ORDER_ATTRIBUTES: Record<string, string> = {
  ...STRING_ATTRIBUTES,
  ...NUMERIC_ATTRIBUTES,
  experiment_id: 'r.experiment_id'
}

function condition(c: Clause): { sql: string; binds: Bind[] } {
  switch (c.type) {
    case 'metric': {
      if (c.comparator === 'IS NULL' || c.comparator === 'IS NOT NULL') {
        return { sql: `r.id ${c.comparator === 'IS NULL' ? 'NOT IN' : 'IN'} (SELECT run_id FROM tracking_latest_metrics WHERE key = ?)`, binds: [c.key] }
      }
      const n = numericCondition('m.value', c, 'metric')
      return { sql: `r.id IN (SELECT m.run_id FROM tracking_latest_metrics m WHERE m.key = ? AND m.is_nan = 0 AND ${n.sql})`, binds: [c.key, ...n.binds] }
    }
    case 'param':
    case 'tag': {
      const table = c.type === 'param' ? 'tracking_params' : 'tracking_run_tags'
      if (c.comparator === 'IS NULL' || c.comparator === 'IS NOT NULL') {
        return { sql: `r.id ${c.comparator === 'IS NULL' ? 'NOT IN' : 'IN'} (SELECT run_id FROM ${table} WHERE key = ?)`, binds: [c.key] }
      }
      const s = stringCondition('p.value', c, c.type)
      return { sql: `r.id IN (SELECT p.run_id FROM ${table} p WHERE p.key = ? AND ${s.sql})`, binds: [c.key, ...s.binds] }
    }
    case 'attribute': {
      if (STRING_ATTRIBUTES[c.key]) return stringCondition(STRING_ATTRIBUTES[c.key], c, 'attribute')
      if (NUMERIC_ATTRIBUTES[c.key]) return numericCondition(NUMERIC_ATTRIBUTES[c.key], c, 'attribute')
      throw invalid(
        `Invalid attribute key '${c.key}' specified. Valid keys are '${JSON.stringify([...Object.keys(STRING_ATTRIBUTES), ...Object.keys(NUMERIC_ATTRIBUTES)])}'`
      )
    }
    case 'dataset': {
      const from = 'FROM tracking_inputs i JOIN tracking_datasets d ON d.id = i.dataset_id'
      if (c.key === 'name' || c.key === 'digest') {
        const s = stringCondition(`d.${c.key}`, c, 'dataset')
        return { sql: `r.id IN (SELECT i.run_id ${from} WHERE ${s.sql})`, binds: s.binds }
      }
      if (c.key === 'context') {
        const s = stringCondition("json_extract(t.value, '$.value')", c, 'dataset')
        return {
          sql: `r.id IN (SELECT i.run_id ${from}, json_each(i.tags) t WHERE json_extract(t.value, '$.key') = 'mlflow.data.context' AND ${s.sql})`,
          binds: s.binds
        }
      }
      throw invalid(`Invalid dataset key '${c.key}' specified. Valid keys are '["name", "digest", "context"]'`)
    }
  }
}

export class RunSearch {
  constructor(
    private readonly db: AppDatabase,
    private readonly runs: RunStore
  ) {}

  /** The matching rows of one page, and whether there are more. */
  rows(req: SearchRunsRequest): { rows: RunRow[]; nextOffset: number | null } {
    const max = req.maxResults ?? 1000
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS_RUNS) {
      throw invalid(`Invalid value ${max} for parameter 'max_results' supplied. It must be at most ${MAX_RESULTS_RUNS}, and at least 1.`)
    }
    const offset = decodePageToken(req.pageToken)
    const expIds = req.experimentIds.map((id) => {
      if (!/^\d{1,15}$/.test(id)) throw invalid(`Invalid experiment ID '${id}'`)
      return Number(id)
    })
    if (expIds.length === 0) return { rows: [], nextOffset: null }
    const stages = lifecycleFilter(req.runViewType)
    const where = [`r.experiment_id IN (${expIds.map(() => '?').join(', ')})`, `r.lifecycle_stage IN (${stages.map(() => '?').join(', ')})`]
    const binds: Bind[] = [...expIds, ...stages]
    for (const c of parseFilter(req.filter)) {
      const s = condition(c)
      where.push(s.sql)
      binds.push(...s.binds)
    }
    const joins: string[] = []
    const joinBinds: Bind[] = []
    const order: string[] = []
    let hasStart = false
    let hasUuid = false
    ;(req.orderBy ?? []).forEach((entry, i) => {
      const o = parseOrderBy(entry)
      const dir = o.ascending ? 'ASC' : 'DESC'
      const a = `o${i}`
      if (o.type === 'metric') {
        joins.push(`LEFT JOIN tracking_latest_metrics ${a} ON ${a}.run_id = r.id AND ${a}.key = ?`)
        joinBinds.push(o.key)
        // numbers first, then NaN, then runs without the metric, in either direction (as MLflow)
        order.push(`(${a}.run_id IS NULL)`, `${a}.is_nan`, `${a}.value ${dir}`)
      } else if (o.type === 'param' || o.type === 'tag') {
        joins.push(`LEFT JOIN ${o.type === 'param' ? 'tracking_params' : 'tracking_run_tags'} ${a} ON ${a}.run_id = r.id AND ${a}.key = ?`)
        joinBinds.push(o.key)
        order.push(`(${a}.value IS NULL)`, `${a}.value ${dir}`)
      } else if (o.type === 'attribute' && ORDER_ATTRIBUTES[o.key]) {
        const col = ORDER_ATTRIBUTES[o.key]
        if (col === 'r.start_time') hasStart = true
        if (col === 'r.run_uuid') hasUuid = true
        order.push(`(${col} IS NULL)`, `${col} ${dir}`)
      } else {
        throw invalid(`Invalid order_by clause '${entry}'. Runs can be ordered by metrics, params, tags and attributes ${Object.keys(ORDER_ATTRIBUTES).join(', ')}.`)
      }
    })
    if (!hasStart) order.push('r.start_time DESC')
    if (!hasUuid) order.push('r.run_uuid ASC')
    const sql = `SELECT r.* FROM tracking_runs r ${joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`
    const rows = this.db.prepare(sql).all(...joinBinds, ...binds, max + 1, offset) as RunRow[]
    const more = rows.length > max
    return { rows: more ? rows.slice(0, max) : rows, nextOffset: more ? offset + max : null }
  }

  search(req: SearchRunsRequest): { runs: MlflowRun[]; next_page_token?: string } {
    const { rows, nextOffset } = this.rows(req)
    const runs = this.runs.toJson(rows)
    return nextOffset === null ? { runs } : { runs, next_page_token: encodePageToken(nextOffset) }
  }
}
