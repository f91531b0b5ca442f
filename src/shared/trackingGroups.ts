/**
 * Runs grouped by params (e.g. every param but `seed`): per group, n and mean ± 95 % confidence
 * interval of each metric, and the group's mean curve with its band. Computed by the tracking
 * service over the stored values; `api.ts` spreads these requests and results into the contract.
 */
import { z } from 'zod'

export function trackingGroupRequests() {
  const experimentId = z.string().regex(/^\d{1,15}$/)
  const paramKey = z.string().min(1).max(250)
  return {
    /** The runs the search selects, grouped by the values of `groupBy` params (a missing param is its own value). */
    'tracking.groups.summary': z
      .object({
        experimentIds: z.array(experimentId).min(1).max(100),
        filter: z.string().max(10_000).optional(),
        viewType: z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']).optional(),
        groupBy: z.array(paramKey).min(1).max(50)
      })
      .strict(),
    /** One metric over a group's runs, aligned by step: mean and 95 % band per step (bucketed to maxPoints steps). */
    'tracking.groups.series': z
      .object({
        runIds: z.array(z.string().min(1).max(64)).min(1).max(500),
        key: z.string().min(1).max(250),
        maxPoints: z.number().int().min(3).max(20_000).optional()
      })
      .strict(),
    /**
     * Groups (or single runs, each a group of one) side by side: per item n, the params its runs
     * share, each metric's mean ± 95 % CI with min and max, and each metric's curve aligned by step.
     */
    'tracking.groups.compare': z
      .object({
        items: z
          .array(
            z
              .object({
                label: z.string().min(1).max(1000).optional(),
                runIds: z.array(z.string().min(1).max(64)).min(1).max(500)
              })
              .strict()
          )
          .min(2)
          .max(20),
        /** Metrics whose curves to return; default: the items' metrics, the first 20 by name. */
        keys: z.array(z.string().min(1).max(250)).max(50).optional(),
        maxPoints: z.number().int().min(3).max(20_000).optional()
      })
      .strict()
  } as const
}

/** n, mean and the 95 % confidence interval of the mean (Student's t, n − 1 degrees of freedom). */
export interface MeanCi {
  n: number
  mean: number
  /** Sample standard deviation (n − 1); null for one value. */
  std: number | null
  /** Half-width of the 95 % interval: mean ± ci95. Null for one value (no interval). */
  ci95: number | null
}

export interface RunGroup {
  /** The group's param values, in groupBy order (null: the run has no such param). */
  values: (string | null)[]
  /** `lr=0.1, model=cnn` */
  label: string
  runIds: string[]
  runNames: string[]
  /** Per metric key: the statistics of the runs' latest values (runs without the metric left out). */
  metrics: Record<string, MeanCi>
}

export interface GroupSummary {
  groupBy: string[]
  groups: RunGroup[]
  /** How many runs the search matched (all of them are in some group). */
  runCount: number
}

export interface GroupSeries {
  key: string
  /** x: the step (a bucket's mean step when bucketed). */
  steps: number[]
  mean: number[]
  /** mean ∓ ci95; equal to the mean where only one run has a value at that step. */
  lower: number[]
  upper: number[]
  /** How many runs have a value at each step. */
  n: number[]
  /** Runs asked for, and how many have this metric at all. */
  runs: number
  runsWithValues: number
  /** Steps were averaged into buckets (per run first, then across runs). */
  bucketed: boolean
}

/** A metric over an item's runs (their latest values): n, mean ± 95 % CI, and the extremes. */
export interface MetricStats extends MeanCi {
  min: number
  max: number
}

/** One compared column: a group, or a single run as a group of one. */
export interface CompareItem {
  /** The group's label, or the run's name for a single run. */
  label: string
  runIds: string[]
  runNames: string[]
  /** Params whose value all the item's runs share (null: none of them has it). */
  params: Record<string, string | null>
  /** Params whose value differs within the item (e.g. `seed`): their distinct values, null for a run without it. */
  varying: Record<string, (string | null)[]>
  metrics: Record<string, MetricStats>
  /** Per metric key asked for: the curve aligned by step, with its 95 % band. */
  series: Record<string, GroupSeries>
}

export interface GroupComparison {
  items: CompareItem[]
  /** Every param of any compared run, sorted. */
  paramKeys: string[]
  /** The params whose value (or set of values) is not the same in every item. */
  differing: string[]
  /** Every metric of any compared run, sorted. */
  metricKeys: string[]
  /** The metrics whose curves are in `series`. */
  seriesKeys: string[]
}

export interface TrackingGroupResults {
  'tracking.groups.summary': GroupSummary
  'tracking.groups.series': GroupSeries
  'tracking.groups.compare': GroupComparison
}
