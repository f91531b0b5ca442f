/**
 * Request schemas for the MLflow REST API 2.0 (protos/service.proto). Like MLflow's server, unknown
 * fields are ignored; wrong types and missing required fields are INVALID_PARAMETER_VALUE. int64
 * fields take a JSON number or protobuf's string form; doubles also take "NaN" and "±Infinity".
 */
import { z } from 'zod'
import { invalid } from './errors'
import { RUN_STATUSES, type RunStatus, type ViewType } from './types'
import { parseDouble, parseInt64, parseSafeInt } from './validate'

/** An int64 used as a JS number (limits, times): refused beyond ±(2^53−1). */
const int64 = z.unknown().transform((v, ctx) => {
  const n = parseSafeInt(v)
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an integer (int64)' })
    return z.NEVER
  }
  return n
})

/** An int64 kept exactly (metric steps and timestamps): a BigInt beyond ±(2^53−1). */
const int64Exact = z.unknown().transform((v, ctx) => {
  const n = parseInt64(v)
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an integer (int64)' })
    return z.NEVER
  }
  return n
})

const double = z.unknown().transform((v, ctx) => {
  const n = parseDouble(v)
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a double (a number, or "NaN", "Infinity", "-Infinity")' })
    return z.NEVER
  }
  return n
})

const VIEW: Record<string, ViewType> = { ACTIVE_ONLY: 'ACTIVE_ONLY', DELETED_ONLY: 'DELETED_ONLY', ALL: 'ALL', '1': 'ACTIVE_ONLY', '2': 'DELETED_ONLY', '3': 'ALL' }
const viewType = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const t = VIEW[String(v)]
  if (!t) {
    ctx.addIssue({ code: 'custom', message: 'expected ACTIVE_ONLY, DELETED_ONLY or ALL' })
    return z.NEVER
  }
  return t
})

const status = z.union([z.string(), z.number()]).transform((v, ctx): RunStatus => {
  const s = typeof v === 'number' ? RUN_STATUSES[v - 1] : (v as RunStatus)
  if (!s || !RUN_STATUSES.includes(s)) {
    ctx.addIssue({ code: 'custom', message: `expected one of ${RUN_STATUSES.join(', ')}` })
    return z.NEVER
  }
  return s
})

const str = z.string()
const optStr = z.string().optional()
const kv = z.object({ key: str, value: z.string().default('') })
const runId = { run_id: optStr, run_uuid: optStr }
/**
 * The metrics of a batch (up to 1,000 per request, the hot path): checked by hand rather than one
 * zod object per point (nor zod's per-element array pass), with the same rules and messages as
 * `metric` would give. The parsed JSON objects are normalised in place rather than copied.
 */
type MetricOut = { key: string; value: number; timestamp: number | bigint; step: number | bigint }
const metrics = z.unknown().transform((list, ctx): MetricOut[] => {
  if (!Array.isArray(list)) {
    ctx.addIssue({ code: 'custom', message: 'expected an array of metrics' })
    return z.NEVER
  }
  for (let i = 0; i < list.length; i++) {
    const m = list[i] as Record<string, unknown> | null
    const fail = (field: string, message: string) => {
      ctx.addIssue({ code: 'custom', path: field ? [i, field] : [i], message })
      return z.NEVER
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return fail('', 'expected a metric object')
    if (typeof m.key !== 'string') return fail('key', 'expected a string')
    const value = typeof m.value === 'number' && m.value === m.value ? m.value : parseDouble(m.value)
    if (value === undefined) return fail('value', 'expected a double (a number, or "NaN", "Infinity", "-Infinity")')
    const timestamp = typeof m.timestamp === 'number' && Number.isSafeInteger(m.timestamp) ? m.timestamp : parseInt64(m.timestamp)
    if (timestamp === undefined) return fail('timestamp', 'expected an integer (int64)')
    const step = m.step === undefined || m.step === null ? 0 : typeof m.step === 'number' && Number.isSafeInteger(m.step) ? m.step : parseInt64(m.step)
    if (step === undefined) return fail('step', 'expected an integer (int64)')
    m.value = value
    m.timestamp = timestamp
    m.step = step
  }
  return list as MetricOut[]
})

export const schemas = {
  'experiments/create': z.object({ name: str, artifact_location: optStr, tags: z.array(kv).optional() }),
  'experiments/get': z.object({ experiment_id: str }),
  'experiments/get-by-name': z.object({ experiment_name: str }),
  'experiments/search': z.object({
    max_results: int64.optional(),
    page_token: optStr,
    filter: optStr,
    order_by: z.array(str).optional(),
    view_type: viewType.optional()
  }),
  'experiments/update': z.object({ experiment_id: str, new_name: str }),
  'experiments/delete': z.object({ experiment_id: str }),
  'experiments/restore': z.object({ experiment_id: str }),
  'experiments/set-experiment-tag': z.object({ experiment_id: str, key: str, value: z.string().default('') }),
  'experiments/delete-experiment-tag': z.object({ experiment_id: str, key: str }),
  'runs/create': z.object({
    experiment_id: optStr,
    user_id: optStr,
    run_name: optStr,
    start_time: int64.optional(),
    tags: z.array(kv).optional()
  }),
  'runs/get': z.object(runId),
  'runs/update': z.object({ ...runId, status: status.optional(), end_time: int64.optional(), run_name: optStr }),
  'runs/delete': z.object(runId),
  'runs/restore': z.object(runId),
  'runs/log-metric': z.object({ ...runId, key: str, value: double, timestamp: int64Exact, step: int64Exact.optional().default(0) }),
  'runs/log-parameter': z.object({ ...runId, key: str, value: z.string().default('') }),
  'runs/set-tag': z.object({ ...runId, key: str, value: z.string().default('') }),
  'runs/delete-tag': z.object({ ...runId, key: str }),
  'runs/log-batch': z.object({
    ...runId,
    metrics: metrics.optional().default([]),
    params: z.array(kv).optional().default([]),
    tags: z.array(kv).optional().default([])
  }),
  'runs/log-inputs': z.object({
    ...runId,
    datasets: z
      .array(
        z.object({
          tags: z.array(kv).optional().default([]),
          dataset: z.object({ name: str, digest: str, source_type: str, source: str, schema: optStr, profile: optStr })
        })
      )
      .optional()
      .default([])
  }),
  'runs/log-model': z.object({ ...runId, model_json: str }),
  'runs/search': z.object({
    experiment_ids: z.array(str).optional().default([]),
    filter: optStr,
    run_view_type: viewType.optional(),
    max_results: int64.optional(),
    order_by: z.array(str).optional(),
    page_token: optStr
  }),
  'metrics/get-history': z.object({ ...runId, metric_key: str, max_results: int64.optional(), page_token: optStr }),
  'artifacts/list': z.object({ ...runId, path: optStr, page_token: optStr })
} as const

export type Endpoint = keyof typeof schemas

/** Fields that are repeated (arrays) when a request comes as a GET query string. */
const REPEATED = new Set(['experiment_ids', 'order_by'])

export function queryToObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of params) {
    if (k === 'token') continue
    if (REPEATED.has(k)) ((out[k] ??= []) as string[]).push(v)
    else out[k] = v
  }
  return out
}

function at(obj: unknown, path: PropertyKey[]): unknown {
  let cur = obj
  for (const p of path) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[p] : undefined
  return cur
}

/** Validates a request body, throwing MLflow's INVALID_PARAMETER_VALUE messages. */
export function parseRequest<E extends Endpoint>(endpoint: E, body: unknown): z.output<(typeof schemas)[E]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The request body must be a JSON object')
  const r = schemas[endpoint].safeParse(body)
  if (r.success) return r.data as z.output<(typeof schemas)[E]>
  const issue = r.error.issues[0]
  const name = issue.path.map(String).join('.')
  const value = at(body, issue.path)
  if (value === undefined) {
    throw invalid(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`)
  }
  const shown = JSON.stringify(value)
  throw invalid(`Invalid value ${shown && shown.length > 100 ? shown.slice(0, 100) + '…' : shown} for parameter '${name}' supplied: ${issue.message}`)
}

/** run_id, or the deprecated run_uuid. */
export function requireRunId(p: { run_id?: string; run_uuid?: string }): string {
  const id = p.run_id || p.run_uuid
  if (!id) throw invalid("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.")
  return id
}
