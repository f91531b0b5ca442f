/**
 * Endpoints: deploy registered model versions as scoring servers behind one proxy, call them,
 * roll out canary and shadow variants, capture traffic and watch metrics. `api.ts` spreads
 * `endpointRequests()` into its request table and merges `EndpointResults`/`EndpointEvents`.
 *
 * URLs: every endpoint is served by one proxy listener on loopback at
 * `http://127.0.0.1:<port>/endpoints/<name>/invocations` (and `/ping`), Bearer token required.
 */
import { z } from 'zod'

export const ENDPOINT_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/
const endpointName = z.string().regex(ENDPOINT_NAME_RE, 'lowercase letters, digits and dashes; starts and ends with a letter or digit')
const modelName = z.string().min(1).max(256)
const version = z.number().int().positive()
const alias = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,255}$/)
const variantName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes')

export const ENDPOINT_STATES = ['starting', 'running', 'failed', 'stopped'] as const
export type EndpointState = (typeof ENDPOINT_STATES)[number]
export type VariantState = EndpointState | 'restarting'

export const VariantSpecSchema = z
  .object({
    name: variantName,
    /** The version served; or follow an alias (resolved at deploy and whenever the alias moves). */
    version: version.optional(),
    alias: alias.optional(),
    /** Share of live traffic, 0–100 (the non-shadow variants' weights must sum to 100). */
    weight: z.number().min(0).max(100),
    /** Receives a copy of each request; its answer is recorded, never returned. */
    shadow: z.boolean().optional()
  })
  .strict()
export type VariantSpec = z.infer<typeof VariantSpecSchema>

export interface VariantInfo {
  name: string
  model: string
  version: number
  alias: string | null
  weight: number
  shadow: boolean
  state: VariantState
  error?: string
  /** Scoring server: `mlflow` (mlflow models serve), `atelier` (the shipped uvicorn server) or SageMaker's. */
  server: 'mlflow' | 'atelier' | 'sagemaker'
  /** Instances serving it (SageMaker's CurrentInstanceCount). */
  instances?: number
  port: number | null
  pid: number | null
  restarts: number
}

export interface EndpointInfo {
  name: string
  model: string
  /** The alias the primary variant follows, if any. */
  alias: string | null
  url: string
  token: string
  state: EndpointState
  error?: string
  interpreter: string
  variants: VariantInfo[]
  /** The variant set before the last promote/update (what rollback restores), if any. */
  previous: VariantSpec[] | null
  capture: { enabled: boolean; samplingPercent: number }
  /** Where it runs when not on this machine. */
  sagemaker?: SageMakerPlacementInfo
  createdAt: number
  updatedAt: number
}

/** An endpoint on a SageMaker target: the target, its instances and what DescribeEndpoint says. */
export interface SageMakerPlacementInfo {
  target: string
  targetName: string
  region: string | null
  endpointName: string
  instanceType: string
  instanceCount: number
  /** SageMaker's EndpointStatus (Creating, Updating, InService, Failed…); null before the first answer. */
  status: string | null
  /** SageMaker's FailureReason, verbatim. */
  failureReason: string | null
  /** On-demand price of one instance from the shipped table; null when the type is not in it. */
  pricePerHour: number | null
  /** pricePerHour × instances × serving variants. */
  costPerHour: number | null
  currency: string
  /** When SageMaker created the endpoint (ms); null while unknown or stopped. */
  createdAt: number | null
}

export const SageMakerPlacementSchema = z
  .object({
    /** The id of a saved SageMaker job target. */
    target: z.string().min(1).max(100),
    instanceType: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'an instance type such as ml.m5.large'),
    instanceCount: z.number().int().min(1).max(100)
  })
  .strict()

/** What `token` reads where the caller may not see it (read-only roles; events, which every client gets). */
export const REDACTED_TOKEN = ''

/** The endpoint as `who` may see it: its Bearer token only for roles that can change endpoints. */
export function redactEndpoint(e: EndpointInfo, canWrite: boolean): EndpointInfo {
  return canWrite ? e : { ...e, token: REDACTED_TOKEN }
}

export interface InvokeResult {
  status: number
  body: unknown
  latencyMs: number
  variant: string | null
}

export interface MetricPoint {
  /** Bucket start (ms). */
  t: number
  requests: number
  errors: number
  p50: number | null
  p95: number | null
  p99: number | null
}

export interface VariantMetrics {
  variant: string
  shadow: boolean
  /** Over the last hour. */
  requests: number
  errors: number
  errorRate: number
  /** Requests per second over the last minute. */
  rps: number
  p50: number | null
  p95: number | null
  p99: number | null
  series: MetricPoint[]
}

export interface DriftWindow {
  from: number
  to: number
  rows: number
  drifted: boolean
  /** 'fired' on the window that raised the alarm (N consecutive drifted windows), 'cleared' on the one that cleared it. */
  alarm: 'fired' | 'cleared' | null
  features: { name: string; psi: number; ks: number | null; cohenW: number | null; pValue: number; qValue: number; drifted: boolean; typeViolations: number; completeness: number }[]
  violations: string[]
}

export interface DriftThresholdsInfo {
  psi: number
  ks: number
  cohenW: number
  alpha: number
  completenessSlack: number
}

export interface MonitorInfo {
  /** The Data room table the baseline was computed from. */
  table: string | null
  baselineRows: number | null
  features: { name: string; type: string }[]
  windowMinutes: number
  consecutive: number
  webhookUrl: string | null
  thresholds: DriftThresholdsInfo
  alarmFiring: boolean
  history: DriftWindow[]
}

export const BACKTEST_PERIODS = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const

/** One period of a backtest: the drift check of its rows against the baseline, and the alarm's transition. */
export interface BacktestWindow {
  /** Start of the period (`date_trunc` of the time column), as DuckDB prints it. */
  period: string
  rows: number
  drifted: boolean
  alarm: 'fired' | 'cleared' | null
  /** Whether the alarm is up after this period (it stays up between 'fired' and 'cleared'). */
  firing: boolean
  features: { name: string; psi: number; ks: number | null; cohenW: number | null; qValue: number; drifted: boolean }[]
}

export interface BacktestResult {
  table: string
  timeColumn: string
  period: (typeof BACKTEST_PERIODS)[number]
  consecutive: number
  thresholds: DriftThresholdsInfo
  windows: BacktestWindow[]
}

/** One approved version's replay of captured traffic. */
export interface ReplayVersion {
  version: number
  aliases: string[]
  /** The endpoint serves this version now. */
  servedNow: boolean
  state: 'ok' | 'failed'
  error?: string
  /** Share of rows whose prediction equals the answer the endpoint served (null when it failed). */
  agreement: number | null
  /** Replayed requests that did not answer 200 with predictions. */
  errors: number
  /** Latency of the replayed requests against this version's scoring server, direct (ms). */
  p50: number | null
  p95: number | null
  /** Where captured rows carry the label column. */
  accuracy: number | null
  mae: number | null
  /** This version's metric minus the served answers'. */
  accuracyDelta: number | null
  maeDelta: number | null
}

export interface ReplayResult {
  endpoint: string
  model: string
  requests: number
  rows: number
  labelColumn: string | null
  labelled: boolean
  /** What the endpoint answered live: latency through the proxy, metrics where labelled. */
  served: { p50: number | null; p95: number | null; accuracy: number | null; mae: number | null }
  versions: ReplayVersion[]
}

export interface BatchStatus {
  batchId: string
  endpoint: string
  state: 'running' | 'succeeded' | 'failed' | 'cancelled'
  rowsDone: number
  rowsTotal: number
  /** The Data room table holding the rows and their predictions, once done. */
  table: string | null
  error?: string
}

export interface EndpointMetrics {
  name: string
  bucketMs: number
  variants: VariantMetrics[]
}

export function endpointRequests() {
  return {
    'endpoints.deploy': z
      .object({
        name: endpointName,
        model: modelName,
        version: version.optional(),
        alias: alias.optional(),
        /** Python to run the scoring server; else the selected interpreter. */
        interpreter: z.string().min(1).max(4096).optional(),
        /** Extra variants (canary/shadow) beside the primary one. */
        variants: z.array(VariantSpecSchema).max(8).optional(),
        capture: z.object({ enabled: z.boolean(), samplingPercent: z.number().min(0).max(100) }).strict().optional(),
        /** Deploy to a SageMaker endpoint on this target (the version's approved model package) instead of this machine. */
        sagemaker: SageMakerPlacementSchema.optional()
      })
      .strict()
      .refine((p) => (p.version === undefined) !== (p.alias === undefined), { message: 'give either version or alias', path: ['version'] }),
    /** The shipped on-demand prices of SageMaker hosting instances. */
    'endpoints.sagemaker.prices': z.object({}).strict(),
    'endpoints.list': z.object({}).strict(),
    'endpoints.get': z.object({ name: endpointName }).strict(),
    'endpoints.invoke': z
      .object({ name: endpointName, body: z.string().max(50 * 1024 * 1024), contentType: z.enum(['application/json', 'text/csv']).optional() })
      .strict(),
    /** Replace the variants (traffic split, canary, shadow); `promote` makes one variant the only one; `rollback` restores the previous set. */
    'endpoints.update': z
      .object({
        name: endpointName,
        variants: z.array(VariantSpecSchema).min(1).max(8).optional(),
        promote: variantName.optional(),
        rollback: z.literal(true).optional(),
        /** Managed (SageMaker) endpoints: answer once the change has started instead of once it serves; progress shows in the endpoint's status. */
        background: z.boolean().optional()
      })
      .strict(),
    'endpoints.capture': z.object({ name: endpointName, enabled: z.boolean(), samplingPercent: z.number().min(0).max(100) }).strict(),
    'endpoints.openCapture': z.object({ name: endpointName }).strict(),
    'endpoints.metrics': z.object({ name: endpointName }).strict(),
    'endpoints.signature': z.object({ name: endpointName }).strict(),
    'endpoints.start': z.object({ name: endpointName }).strict(),
    'endpoints.stop': z.object({ name: endpointName }).strict(),
    'endpoints.delete': z.object({ name: endpointName }).strict(),
    /** Drift baseline from a Data room table (`source.table`), as statistics.json/constraints.json. */
    'endpoints.drift.baseline': z.object({ name: endpointName, table: z.string().min(1).max(300) }).strict(),
    'endpoints.drift.configure': z
      .object({
        name: endpointName,
        windowMinutes: z.number().min(1).max(10_080).optional(),
        consecutive: z.number().int().min(1).max(100).optional(),
        webhookUrl: z.string().url().max(2000).nullable().optional(),
        thresholds: z
          .object({ psi: z.number().positive(), ks: z.number().positive().max(1), cohenW: z.number().positive(), alpha: z.number().positive().max(1), completenessSlack: z.number().min(0).max(1) })
          .partial()
          .strict()
          .optional()
      })
      .strict(),
    /** Checks the requests captured since the last check now (the schedule does it every window). */
    'endpoints.drift.check': z.object({ name: endpointName }).strict(),
    'endpoints.drift.get': z.object({ name: endpointName }).strict(),
    /**
     * Backtest of the alarm rule: a Data room table split by a time column into periods, each checked
     * against the baseline in time order; the rule's thresholds and N unless given here.
     */
    'endpoints.drift.backtest': z
      .object({
        name: endpointName,
        table: z.string().min(1).max(300),
        timeColumn: z.string().min(1).max(300),
        period: z.enum(BACKTEST_PERIODS),
        consecutive: z.number().int().min(1).max(100).optional(),
        thresholds: z
          .object({ psi: z.number().positive(), ks: z.number().positive().max(1), cohenW: z.number().positive(), alpha: z.number().positive().max(1), completenessSlack: z.number().min(0).max(1) })
          .partial()
          .strict()
          .optional()
      })
      .strict(),
    /** Replays the last `n` captured requests against the model's last three approved versions. */
    'endpoints.replay': z
      .object({ name: endpointName, n: z.number().int().min(1).max(10_000).optional(), labelColumn: z.string().min(1).max(300).optional() })
      .strict(),
    /** Runs a Data room table through the endpoint; the result becomes a new Data room table. */
    'endpoints.batch.start': z
      .object({ name: endpointName, table: z.string().min(1).max(300), output: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/).optional() })
      .strict(),
    'endpoints.batch.get': z.object({ batchId: z.string().min(1).max(100) }).strict(),
    'endpoints.batch.cancel': z.object({ batchId: z.string().min(1).max(100) }).strict()
  }
}

export interface SignatureInfo {
  /** Input columns from the MLmodel signature (empty when it has none). */
  inputs: { name: string; type: string }[]
  /** The saved input example, as records, if the model has one. */
  example: Record<string, unknown>[] | null
}

export interface EndpointResults {
  'endpoints.deploy': { endpoint: EndpointInfo }
  'endpoints.list': EndpointInfo[]
  'endpoints.sagemaker.prices': { currency: string; hosting: Record<string, number> }
  'endpoints.get': { endpoint: EndpointInfo }
  'endpoints.invoke': InvokeResult
  'endpoints.update': { endpoint: EndpointInfo }
  'endpoints.capture': { endpoint: EndpointInfo }
  'endpoints.openCapture': { source: string }
  'endpoints.metrics': EndpointMetrics
  'endpoints.signature': SignatureInfo
  'endpoints.start': { endpoint: EndpointInfo }
  'endpoints.stop': { endpoint: EndpointInfo }
  'endpoints.delete': { ok: true }
  'endpoints.drift.baseline': MonitorInfo
  'endpoints.drift.configure': MonitorInfo
  'endpoints.drift.check': { window: DriftWindow | null; monitor: MonitorInfo }
  'endpoints.drift.get': MonitorInfo
  'endpoints.drift.backtest': BacktestResult
  'endpoints.replay': ReplayResult
  'endpoints.batch.start': BatchStatus
  'endpoints.batch.get': BatchStatus
  'endpoints.batch.cancel': BatchStatus
}

export interface EndpointEvents {
  /** Any change of an endpoint's state or variants. */
  'endpoint.changed': EndpointInfo
  /** A drift alarm fired (N consecutive drifted windows). */
  'endpoint.alarm': { name: string; window: DriftWindow }
  /** Progress of a batch prediction. */
  'endpoint.batch': BatchStatus
}

export function endpointEventNames() {
  return ['endpoint.changed', 'endpoint.alarm', 'endpoint.batch'] as const
}
