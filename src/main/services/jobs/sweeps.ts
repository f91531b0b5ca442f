/** Sweep trials: the grid (cartesian product) or seeded random draws over a declared space; ranking by objective. */
import type { SweepConfig } from '../../../shared/jobs'

type HpValue = string | number | boolean
export type Trial = Record<string, HpValue>

/** Deterministic PRNG (mulberry32) so a seed reproduces a sweep. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const MAX_TRIALS = 1000

export function trialsOf(config: SweepConfig): Trial[] {
  const keys = Object.keys(config.space)
  if (config.strategy === 'grid') {
    let grid: Trial[] = [{}]
    for (const k of keys) {
      const dim = config.space[k]
      if (!('values' in dim)) throw new Error(`grid search needs a list of values for ${k}`)
      grid = grid.flatMap((t) => dim.values.map((v) => ({ ...t, [k]: v })))
      if (grid.length > MAX_TRIALS * 10) break
    }
    return grid.slice(0, Math.min(config.maxTrials ?? MAX_TRIALS, MAX_TRIALS))
  }
  const next = rng(config.seed ?? 0)
  const n = Math.min(config.maxTrials ?? 10, MAX_TRIALS)
  const out: Trial[] = []
  for (let i = 0; i < n; i++) {
    const t: Trial = {}
    for (const k of keys) {
      const dim = config.space[k]
      if ('values' in dim) t[k] = dim.values[Math.floor(next() * dim.values.length)]
      else {
        const u = next()
        let v = dim.log && dim.min > 0 ? Math.exp(Math.log(dim.min) + u * (Math.log(dim.max) - Math.log(dim.min))) : dim.min + u * (dim.max - dim.min)
        if (dim.integer) v = Math.min(Math.floor(v), Math.floor(dim.max))
        else v = Number(v.toPrecision(6))
        t[k] = v
      }
    }
    out.push(t)
  }
  return out
}

/** Field errors of a sweep config the schema cannot see. */
export function checkSweep(config: SweepConfig): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = []
  if (Object.keys(config.space).length === 0) errors.push({ field: 'sweep.space', message: 'declare at least one hyperparameter' })
  if (config.strategy === 'grid') {
    for (const [k, d] of Object.entries(config.space)) if (!('values' in d)) errors.push({ field: `sweep.space.${k}`, message: 'grid search needs a list of values' })
  }
  for (const [k, d] of Object.entries(config.space)) {
    if (!('values' in d) && d.log && d.min <= 0) errors.push({ field: `sweep.space.${k}.min`, message: 'a log scale needs min > 0' })
  }
  return errors
}

/** The index of the best trial by objective, or null. */
export function bestTrial(values: (number | null)[], goal: 'minimize' | 'maximize'): number | null {
  let best: number | null = null
  values.forEach((v, i) => {
    if (v === null || Number.isNaN(v)) return
    if (best === null || (goal === 'minimize' ? v < values[best]! : v > values[best]!)) best = i
  })
  return best
}
