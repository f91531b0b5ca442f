/**
 * MLflow's entity rules (mlflow/utils/validation.py): names, lengths, batch limits and the
 * encoding of metric values (JSON numbers, or the strings "NaN", "Infinity", "-Infinity").
 * Everything here is pure, so a batch is checked whole before anything is written.
 */
import { posix } from 'node:path'
import { invalid } from './errors'
import { exactInt, INT64_MAX, INT64_MIN } from './json64'

export const MAX_METRICS_PER_BATCH = 1000
export const MAX_PARAMS_TAGS_PER_BATCH = 100
export const MAX_ENTITIES_PER_BATCH = 1000
export const MAX_ENTITY_KEY_LENGTH = 250
export const MAX_PARAM_VAL_LENGTH = 6000
export const MAX_TAG_VAL_LENGTH = 8000
export const MAX_EXPERIMENT_NAME_LENGTH = 500
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000
export const MAX_RESULTS_RUNS = 50_000
export const MAX_RESULTS_EXPERIMENTS = 50_000
export const MAX_RESULTS_METRIC_HISTORY = 25_000
export const MAX_DATASET_NAME_SIZE = 500
export const MAX_DATASET_DIGEST_SIZE = 36
export const MAX_DATASET_SOURCE_SIZE = 65_535
export const MAX_DATASET_SCHEMA_SIZE = 1_048_575
export const MAX_DATASET_PROFILE_SIZE = 16_384
export const MAX_INPUT_TAG_KEY_SIZE = 255
export const MAX_INPUT_TAG_VALUE_SIZE = 500

/**
 * MLflow's `^[/\w.\- :]*$`, where Python's `\w` is Unicode-aware: letters and digits of any
 * script (`ü`, `損失`), underscores, and `/`, `.`, `-`, space and `:`.
 */
const VALID_NAME = /^[/\p{L}\p{N}_.\- :]*$/u

export interface MetricIn {
  key: string
  value: number
  /** int64: a BigInt beyond ±(2^53−1), stored exactly as a SQLite INTEGER. */
  timestamp: number | bigint
  step: number | bigint
}
export interface KeyValue {
  key: string
  value: string
}

/** A key that names one file-like path: no `..`, no leading `/`, not empty (MLflow's path_not_unique). */
function pathNotUnique(name: string): boolean {
  // Python's posixpath.normpath also drops a trailing slash.
  let norm = posix.normalize(name)
  if (norm.length > 1 && norm.endsWith('/')) norm = norm.slice(0, -1)
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/')
}

const isInt64 = (v: number | bigint) => (typeof v === 'bigint' ? v >= INT64_MIN && v <= INT64_MAX : Number.isSafeInteger(v))

function validateName(kind: 'metric' | 'param' | 'tag', name: string): void {
  if (!VALID_NAME.test(name)) {
    throw invalid(
      `Invalid ${kind} name: '${name}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).`
    )
  }
  if (pathNotUnique(name)) {
    throw invalid(`Invalid ${kind} name: '${name}'. Names must be a normalized, relative path and not empty.`)
  }
  if (name.length > MAX_ENTITY_KEY_LENGTH) {
    throw invalid(`${kind[0].toUpperCase()}${kind.slice(1)} name '${name.slice(0, 50)}…' had length ${name.length}, which exceeds length limit of ${MAX_ENTITY_KEY_LENGTH}`)
  }
}

export function validateMetric(m: MetricIn, knownKeys?: Set<string>): void {
  if (!knownKeys?.has(m.key)) {
    validateName('metric', m.key)
    knownKeys?.add(m.key)
  }
  if (typeof m.value !== 'number') throw invalid(`Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`)
  if (!isInt64(m.timestamp) || m.timestamp < 0) {
    throw invalid(`Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer)`)
  }
  if (!isInt64(m.step)) throw invalid(`Got invalid step ${m.step} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`)
}

export function validateParam(p: KeyValue): void {
  validateName('param', p.key)
  if (p.value.length > MAX_PARAM_VAL_LENGTH) {
    throw invalid(`Param value '${p.value.slice(0, 50)}…' had length ${p.value.length}, which exceeded length limit of ${MAX_PARAM_VAL_LENGTH}`)
  }
}

export function validateTag(t: KeyValue, maxValue = MAX_TAG_VAL_LENGTH): void {
  validateName('tag', t.key)
  if (t.value.length > maxValue) {
    throw invalid(`Tag value '${t.value.slice(0, 50)}…' had length ${t.value.length}, which exceeded length limit of ${maxValue}`)
  }
}

export function validateExperimentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid(`Invalid experiment name: '${String(name ?? '')}'`)
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) {
    throw invalid(`Experiment name '${name.slice(0, 50)}…' had length ${name.length}, which exceeds length limit of ${MAX_EXPERIMENT_NAME_LENGTH}`)
  }
}

/** The whole batch, before any write: sizes first (as MLflow), then every entity. */
export function validateBatch(metrics: MetricIn[], params: KeyValue[], tags: KeyValue[]): void {
  if (metrics.length > MAX_METRICS_PER_BATCH) {
    throw invalid(
      `A batch logging request can contain at most ${MAX_METRICS_PER_BATCH} metrics. Got ${metrics.length} metrics. Please split up metrics across multiple requests and try again.`
    )
  }
  if (params.length > MAX_PARAMS_TAGS_PER_BATCH) {
    throw invalid(
      `A batch logging request can contain at most ${MAX_PARAMS_TAGS_PER_BATCH} params. Got ${params.length} params. Please split up params across multiple requests and try again.`
    )
  }
  if (tags.length > MAX_PARAMS_TAGS_PER_BATCH) {
    throw invalid(
      `A batch logging request can contain at most ${MAX_PARAMS_TAGS_PER_BATCH} tags. Got ${tags.length} tags. Please split up tags across multiple requests and try again.`
    )
  }
  const total = metrics.length + params.length + tags.length
  if (total > MAX_ENTITIES_PER_BATCH) {
    throw invalid(
      `A batch logging request can contain at most ${MAX_ENTITIES_PER_BATCH} metrics, params, and tags in total. Got ${total} entities. Please split up entities across multiple requests and try again.`
    )
  }
  const keys = new Set<string>()
  for (const m of metrics) validateMetric(m, keys)
  for (const p of params) validateParam(p)
  for (const t of tags) validateTag(t)
  const seen = new Set<string>()
  const dup = new Set<string>()
  for (const p of params) (seen.has(p.key) ? dup : seen).add(p.key)
  if (dup.size > 0) {
    throw invalid(`Duplicate parameter keys have been submitted: ${JSON.stringify([...dup])}. Please ensure the request contains only one param value per param key.`)
  }
}

// ---------- wire encodings ----------

/** A proto double from JSON: a number, or "NaN" / "Infinity" / "-Infinity", or a numeric string. */
export function parseDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : v
  if (typeof v !== 'string') return undefined
  if (v === 'NaN') return NaN
  if (v === 'Infinity' || v === 'inf') return Infinity
  if (v === '-Infinity' || v === '-inf') return -Infinity
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return undefined
  return Number(v)
}

/**
 * A proto int64 from JSON: an integer, or a string of one (protobuf's JSON form for int64; the REST
 * layer also reads integer literals beyond 2^53 as their digits). A number when exact, else a BigInt.
 */
export function parseInt64(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? exactInt(v) : undefined
  if (typeof v === 'string' && /^-?\d{1,19}$/.test(v.trim())) {
    const b = BigInt(v.trim())
    return b >= INT64_MIN && b <= INT64_MAX ? exactInt(b) : undefined
  }
  return undefined
}

/** An int64 that must fit a JS number (counts, limits, times in ms). */
export function parseSafeInt(v: unknown): number | undefined {
  const n = parseInt64(v)
  return typeof n === 'number' ? n : undefined
}

/** A double as MLflow's server writes it in JSON (non-finite values as strings). */
export function encodeDouble(v: number): number | string {
  if (Number.isFinite(v)) return v
  if (Number.isNaN(v)) return 'NaN'
  return v > 0 ? 'Infinity' : '-Infinity'
}

export const PAGE_TOKEN_ERROR = 'Invalid page token, could not base64-decode'

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64')
}

export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'))
  } catch {
    throw invalid(PAGE_TOKEN_ERROR)
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalid(`Invalid page token, parsed value=${JSON.stringify(parsed)}`)
  }
  return offset
}
