/**
 * The no-code model builder: the part of the WorkbenchApi contract for builds. `api.ts` spreads
 * `builderRequests()` into its request table and merges `BuilderResults`/`BuilderEvents`, so this
 * file is the whole builder surface.
 *
 * A build reads one Data room table, trains candidates in a Python interpreter (the shipped
 * `atelier.builder` package), logs each as an MLflow run, and keeps the fitted pipelines so the
 * results can be explained, scored and registered.
 */
import { z } from 'zod'

const id = z.string().min(1).max(200)
const colName = z.string().min(1).max(300)

export const PROBLEM_TYPES = ['binary', 'multiclass', 'regression'] as const
export type ProblemType = (typeof PROBLEM_TYPES)[number]
export const BUILD_MODES = ['preview', 'quick', 'standard'] as const
export type BuildMode = (typeof BUILD_MODES)[number]
export const BUILD_STATES = ['draft', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type BuildState = (typeof BUILD_STATES)[number]

export const SplitSettings = z
  .object({
    train: z.number().min(1).max(98),
    validation: z.number().min(1).max(98),
    test: z.number().min(1).max(98),
    stratify: z.boolean(),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    /** Rows to sample from very large tables (default 1,000,000). */
    sampleRows: z.number().int().min(100).max(10_000_000).optional()
  })
  .strict()
export type SplitSettings = z.infer<typeof SplitSettings>

export const BuildSettings = z
  .object({
    target: colName.nullable().optional(),
    problemType: z.enum(PROBLEM_TYPES).nullable().optional(),
    /** Columns used as inputs (ticked in the column list). */
    features: z.array(colName).max(2000).optional(),
    split: SplitSettings.optional(),
    /** Interpreter that runs the build (default: the first discovered one with scikit-learn). */
    python: z.string().min(1).max(4096).nullable().optional()
  })
  .strict()
export type BuildSettings = z.infer<typeof BuildSettings>

const candidate = z.string().regex(/^[a-z_]+$/).max(100).optional()

export function builderRequests() {
  return {
    'builder.list': z.object({}).strict(),
    'builder.create': z
      .object({
        name: z.string().min(1).max(120).regex(/^[A-Za-z0-9][A-Za-z0-9._ -]*$/, 'letters, digits, space, dot, dash and underscore only'),
        /** A Data room table (its SQL name). */
        table: z.string().min(1).max(500)
      })
      .strict(),
    'builder.get': z.object({ buildId: id }).strict(),
    'builder.delete': z.object({ buildId: id }).strict(),
    'builder.update': z.object({ buildId: id, settings: BuildSettings }).strict(),
    /** Per-column profile of a table (types, missing, distinct, histogram, warnings), with the target for leakage. */
    'builder.columns': z.object({ table: z.string().min(1).max(500), target: colName.optional() }).strict(),
    /** Validates the settings and the interpreter; returns what a build would do (no training). */
    'builder.check': z.object({ buildId: id }).strict(),
    'builder.start': z
      .object({
        buildId: id,
        mode: z.enum(BUILD_MODES),
        /** Standard builds run as a job on this target (default: this machine). */
        jobTarget: z
          .discriminatedUnion('kind', [
            z.object({ kind: z.literal('local') }).strict(),
            z.object({ kind: z.literal('ssh'), targetId: id }).strict(),
            z.object({ kind: z.literal('slurm'), targetId: id.optional() }).strict()
          ])
          .optional()
      })
      .strict(),
    'builder.cancel': z.object({ buildId: id }).strict(),
    /** Test-split details (metrics, curves, column impact) of one candidate. */
    'builder.details': z.object({ buildId: id, candidate }).strict(),
    'builder.bias': z.object({ buildId: id, candidate, column: colName, threshold: z.number().min(0).max(1).optional() }).strict(),
    'builder.predict': z
      .object({ buildId: id, candidate, row: z.record(colName, z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()])) })
      .strict(),
    'builder.batchPredict': z
      .object({
        buildId: id,
        candidate,
        /** The Data room table to score. */
        table: z.string().min(1).max(500),
        /** Name of the new Data room table. */
        output: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and underscores, not starting with a digit').max(100)
      })
      .strict(),
    'builder.register': z
      .object({ buildId: id, candidate, modelName: z.string().min(1).max(250) })
      .strict(),
    'builder.notebook': z.object({ buildId: id, candidate }).strict()
  }
}

export type ColumnWarning = 'id_like' | 'constant' | 'all_missing' | 'leakage' | 'high_cardinality_text' | 'date' | 'free_text'

export interface ColumnProfile {
  name: string
  /** DuckDB type. */
  type: string
  kind: 'numeric' | 'categorical' | 'boolean' | 'date' | 'text'
  missingPct: number
  distinct: number
  /** A small distribution: counts per bin (numbers) or per top value (categories). */
  histogram: { label: string; count: number }[]
  warnings: { kind: ColumnWarning; message: string }[]
}

export interface ColumnsResult {
  table: string
  rows: number
  columns: ColumnProfile[]
  /** Inferred from the target's values. */
  problemType: ProblemType | null
  elapsedMs: number
}

export interface CandidateResult {
  name: string
  status: 'running' | 'done' | 'failed'
  runId?: string | null
  validation?: Record<string, number | null>
  test?: Record<string, number | null>
  seconds?: number
  params?: Record<string, unknown>
  error?: string
}

export interface ImpactRow {
  column: string
  importance: number
  low: number
  high: number
  std: number
}

export interface CandidateDetails {
  candidate: string
  metrics: Record<string, unknown> & {
    confusion_matrix?: number[][]
    roc_curve?: { fpr: number[]; tpr: number[]; thresholds: number[] }
    pr_curve?: { recall: number[]; precision: number[]; thresholds: number[] }
    threshold_table?: { threshold: number; tp: number; fp: number; tn: number; fn: number }[]
    residuals?: { predicted: number[]; residual: number[] }
  }
  impact: { scoring: string; repeats: number; columns: ImpactRow[] }
  partialDependence: { column: string; kind: string; values: (number | string)[]; average: number[] }[]
}

export interface BuildResults {
  best: string
  leaderboard: CandidateResult[]
  details: CandidateDetails
  seconds: number
  problemType: ProblemType
  objective: string
  goal: 'maximize' | 'minimize'
  rows: { total: number; train: number; validation: number; test: number }
  classes: (string | number)[] | null
  features: string[]
  dropped: string[]
  notices: string[]
  /** The typical row (median / most common value) that pre-fills the prediction form. */
  baseline: Record<string, string | number | null>
  kinds: Record<string, 'numeric' | 'categorical'>
}

export interface BuildInfo {
  id: string
  name: string
  table: string
  state: BuildState
  mode: BuildMode | null
  settings: Required<Pick<BuildSettings, 'features'>> & BuildSettings & { split: SplitSettings }
  createdAt: string
  updatedAt: string
  /** MLflow experiment the candidates are logged to. */
  experimentName: string
  /** The workspace folder the build was made in (builds are listed in their own workspace); null: none was open. */
  workspace: string | null
  error: { code: string; message: string; hint?: string } | null
  notices: string[]
  best: string | null
  bestScore: number | null
  jobId: string | null
  /** Last progress. */
  progress: { stage: string; message: string; fraction: number } | null
}

export interface BuildDetail extends BuildInfo {
  candidates: CandidateResult[]
  results: BuildResults | null
  preview: BuildResults | null
}

export interface BuildCheck {
  python: string
  sklearn: string
  xgboost: boolean
  rows: number
  sampled: boolean
  notices: string[]
}

export interface BiasGroup {
  group: string
  size: number
  share: number
  positive_rate: number | null
  predicted_positive_rate: number | null
  accuracy: number | null
  recall: number | null
  CI: number
  DPL: number | null
  DI: number | null
  DPPL: number | null
  equal_opportunity_difference: number | null
}

export interface BiasReport {
  column: string
  positive_label: string | number
  threshold: number
  candidate: string
  metrics: Record<string, string>
  groups: BiasGroup[]
  /** Where the report is saved on the candidate's run. */
  artifact?: string
}

export interface Prediction {
  prediction: string | number
  probability?: number
  probabilities?: Record<string, number>
  contributions: { column: string; value: unknown; contribution: number }[]
}

export interface BuilderResults {
  'builder.list': BuildInfo[]
  'builder.create': BuildInfo
  'builder.get': BuildDetail
  'builder.delete': { ok: true }
  'builder.update': BuildInfo
  'builder.columns': ColumnsResult
  'builder.check': BuildCheck
  'builder.start': BuildInfo
  'builder.cancel': BuildInfo
  'builder.details': CandidateDetails
  'builder.bias': BiasReport
  'builder.predict': Prediction
  'builder.batchPredict': { table: string; rows: number; path: string }
  'builder.register': { name: string; version: number; runId: string }
  'builder.notebook': { path: string }
}

export interface BuilderEvents {
  /** State, progress, candidate results of a build. */
  'builder.status': BuildInfo & { candidates: CandidateResult[] }
}

export function builderEventNames() {
  return ['builder.status'] as const
}
