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

export interface TrackingGroupResults {
  'tracking.groups.summary': GroupSummary
  'tracking.groups.series': GroupSeries
}
