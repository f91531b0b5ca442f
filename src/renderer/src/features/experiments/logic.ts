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
