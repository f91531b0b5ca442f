/** Pure helpers of the Experiments room (no API, no DOM): columns, sorting, formatting, smoothing. */
import type { TrackingRun } from '../../../../shared/api'

export type SortDir = 'asc' | 'desc'
/** A column id: `run.name`, `run.start`, `run.status`, `params.<k>`, `metrics.<k>`, `tags.<k>`. */
export type ColumnId = string

/** The value of a column for one run, for display and sorting. */
export function cellValue(run: TrackingRun, col: ColumnId): string | number | null {
  if (col === 'run.name') return run.runName
  if (col === 'run.start') return run.startTime
  if (col === 'run.status') return run.status
  const dot = col.indexOf('.')
  const kind = col.slice(0, dot)
  const key = col.slice(dot + 1)
  if (kind === 'params') return run.params[key] ?? null
  if (kind === 'tags') return run.tags[key] ?? null
  if (kind === 'metrics') {
    const m = run.metrics.find((x) => x.key === key)
    return m ? (m.value ?? m.nonFinite ?? null) : null
  }
  return null
}

export function columnLabel(col: ColumnId): string {
  if (col === 'run.name') return 'Run'
  if (col === 'run.start') return 'Started'
  if (col === 'run.status') return 'Status'
  return col
}

export function compareValues(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  const na = typeof a === 'number' ? a : Number(a)
  const nb = typeof b === 'number' ? b : Number(b)
  if (Number.isFinite(na) && Number.isFinite(nb) && String(a).trim() !== '' && String(b).trim() !== '') return na - nb
  return String(a).localeCompare(String(b))
}

export function sortRuns(runs: TrackingRun[], sort: { col: ColumnId; dir: SortDir }): TrackingRun[] {
  const mul = sort.dir === 'asc' ? 1 : -1
  return runs
    .map((r) => ({ r, v: cellValue(r, sort.col) }))
    .sort((x, y) => {
      if (x.v === null && y.v !== null) return 1
      if (y.v === null && x.v !== null) return -1
      return mul * compareValues(x.v, y.v)
    })
    .map((x) => x.r)
}

export function formatValue(v: string | number | null, col: ColumnId): string {
  if (v === null) return ''
  if (col === 'run.start' && typeof v === 'number') return new Date(v).toLocaleString()
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(5)))
  return v
}

/** TensorBoard-style exponential moving average with debiasing; gaps (null) are kept. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values
  let last = 0
  let n = 0
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v
    last = last * weight + (1 - weight) * v
    n++
    return last / (1 - Math.pow(weight, n))
  })
}

/** The chart's x axis: the step, seconds since the run started, or the wall-clock time. */
export type XAxis = 'step' | 'relative' | 'wall'

/** Plotly date-axis range ends ('2026-11-23 12:00:00.5', UTC as plotly shows ms timestamps) to epoch ms. */
export function plotlyDateToMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v !== 'string') return null
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?))?$/.exec(v.trim())
  if (!m) return null
  let time = m[2] ?? '00:00'
  if (/^\d{1,2}$/.test(time)) time += ':00'
  const [hh, ...rest] = time.split(':')
  const iso = `${m[1]}T${hh.padStart(2, '0')}:${rest.join(':')}Z`
  const t = Date.parse(iso)
  return Number.isFinite(t) ? t : null
}

/** The x values of a series on the chosen axis (`base`: the run's start, ms, for relative time). */
export function xValues(series: { steps: number[]; timestamps: number[] }, axis: XAxis, base: number): number[] {
  if (axis === 'step') return series.steps
  if (axis === 'wall') return series.timestamps
  return series.timestamps.map((t) => (t - base) / 1000)
}

/** A zoomed x range back to the history request's xMin/xMax (steps, or epoch ms for time axes). */
export function rangeToRequest(range: [number, number], axis: XAxis, base: number): { xMin: number; xMax: number } {
  if (axis === 'step') return { xMin: Math.floor(range[0]), xMax: Math.ceil(range[1]) }
  if (axis === 'wall') return { xMin: Math.floor(range[0]), xMax: Math.ceil(range[1]) }
  return { xMin: Math.floor(base + range[0] * 1000), xMax: Math.ceil(base + range[1] * 1000) }
}

/** Few points: draw markers too, so that one or two points are visible (a line needs two). */
export const MARKERS_UP_TO = 30
export function traceMode(points: number): 'lines' | 'lines+markers' {
  return points <= MARKERS_UP_TO ? 'lines+markers' : 'lines'
}

/**
 * The x range for a chart whose points all sit at one x (a metric logged once): centred on it, one
 * unit wide on the step axis, so that the point is in the middle and the ticks are that step.
 * Null when the points span a range (plotly's autorange is right then).
 */
export function singleXRange(xs: number[][], axis: XAxis): { range: [number, number]; tickvals?: number[] } | null {
  let lo = Infinity
  let hi = -Infinity
  for (const s of xs) for (const x of s) if (Number.isFinite(x)) (lo = Math.min(lo, x)), (hi = Math.max(hi, x))
  if (!Number.isFinite(lo) || lo !== hi) return null
  if (axis === 'step') return { range: [lo - 0.5, lo + 0.5], tickvals: [lo] }
  // time axes: a second either side (ms for wall time, seconds for relative)
  const half = axis === 'wall' ? 1000 : 1
  return { range: [lo - half, lo + half] }
}

/** A metric logged once per run (every series has at most one point): a bar per run says more than a chart of dots. */
export function loggedOncePerRun(totals: number[]): boolean {
  return totals.length > 0 && totals.every((n) => n <= 1) && totals.some((n) => n === 1)
}

/**
 * The runs table's columns in display order: the run name, then the chosen metrics (so that they show
 * without scrolling), then start and status, then params and tags as chosen.
 */
export function orderColumns(chosen: ColumnId[]): ColumnId[] {
  const metrics = chosen.filter((c) => c.startsWith('metrics.'))
  const rest = chosen.filter((c) => !c.startsWith('metrics.'))
  return ['run.name', ...metrics, 'run.start', 'run.status', ...rest]
}

/** The full text of a cell, for its tooltip (dates with the time zone). */
export function cellTitle(v: string | number | null, col: ColumnId): string {
  if (v === null) return ''
  if (col === 'run.start' && typeof v === 'number') return new Date(v).toString()
  return String(v)
}

/**
 * `mean ± half-width` with the interval to two significant digits and the mean to the same
 * decimals (`0.820 ± 0.050`); one value has no interval (`0.7 (n = 1)`).
 */
export function formatMeanCi(s: { n: number; mean: number; ci95: number | null }): string {
  if (s.ci95 === null) return `${formatValue(s.mean, 'metrics')} (n = 1)`
  if (s.ci95 === 0 || !Number.isFinite(s.ci95)) return `${formatValue(s.mean, 'metrics')} ± ${s.ci95}`
  const d = Math.min(10, Math.max(0, 1 - Math.floor(Math.log10(Math.abs(s.ci95)))))
  return `${s.mean.toFixed(d)} ± ${s.ci95.toFixed(d)}`
}
