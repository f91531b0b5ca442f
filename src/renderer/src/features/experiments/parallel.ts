/** Parallel coordinates drawn with SVG `scatter` lines (plotly's `parcoords` needs WebGL/regl, which the CSP rules out). */
import type { TrackingRun } from '../../../../shared/api'
import { cellValue, formatValue } from './logic'

interface Dim {
  col: string
  /** 0..1 per run, NaN where missing. */
  pos: number[]
  /** Labels along the axis: [position, text]. */
  ticks: [number, string][]
}

const VIRIDIS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725']
function ramp(t: number): string {
  if (!Number.isFinite(t)) return '#8a94a3'
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1)
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x))
  const f = x - i
  const a = VIRIDIS[i]
  const b = VIRIDIS[i + 1]
  const ch = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16)
  const mix = [0, 1, 2].map((k) => Math.round(ch(a, k) + (ch(b, k) - ch(a, k)) * f))
  return `rgb(${mix.join(',')})`
}

export function dimensionOf(runs: TrackingRun[], col: string): Dim {
  const raw = runs.map((r) => cellValue(r, col))
  const present = raw.filter((v) => v !== null && v !== '')
  const nums = present.map((v) => Number(v))
  if (present.length > 0 && nums.every((n) => Number.isFinite(n))) {
    const positive = nums.every((n) => n > 0)
    const lo0 = Math.min(...nums)
    const hi0 = Math.max(...nums)
    const log = positive && hi0 / lo0 >= 100
    const f = (n: number) => (log ? Math.log10(n) : n)
    const lo = f(lo0)
    const hi = f(hi0)
    const pos = raw.map((v) => (v === null || v === '' ? NaN : hi === lo ? 0.5 : (f(Number(v)) - lo) / (hi - lo)))
    const ticks: [number, string][] = hi === lo ? [[0.5, formatValue(lo0, col)]] : [[0, formatValue(lo0, col)], [1, formatValue(hi0, col)]]
    return { col, pos, ticks }
  }
  const cats = [...new Set(present.map(String))].sort()
  const at = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1))
  return {
    col,
    pos: raw.map((v) => (v === null || v === '' ? NaN : at(cats.indexOf(String(v))))),
    ticks: cats.map((c, i) => [at(i), c] as [number, string])
  }
}

/** Traces and layout: one line per run across the param and metric axes, coloured by `colorBy`. */
export function parallelCoordinates(runs: TrackingRun[], cols: string[], colorBy: string | null) {
  const dims = cols.map((c) => dimensionOf(runs, c))
  const color = colorBy ? dimensionOf(runs, colorBy).pos : runs.map(() => NaN)
  const data = runs.map((r, i) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name: r.runName || r.runId,
    x: dims.map((_, j) => j),
    y: dims.map((d) => (Number.isNaN(d.pos[i]) ? null : d.pos[i])),
    text: dims.map((d) => `${d.col} = ${formatValue(cellValue(r, d.col), d.col)}`),
    hovertemplate: `${(r.runName || r.runId).replace(/[<>%{}]/g, '')}<br>%{text}<extra></extra>`,
    line: { color: ramp(color[i]), width: 1.5 },
    marker: { size: 4, color: ramp(color[i]) },
    connectgaps: false
  }))
  const annotations = dims.flatMap((d, j) =>
    d.ticks.map(([y, text]) => ({ x: j, y, text, xanchor: 'left', xshift: 4, showarrow: false, font: { size: 10 } }))
  )
  const layout = {
    showlegend: false,
    hovermode: 'closest',
    margin: { l: 20, r: 60, t: 16, b: 40 },
    annotations,
    xaxis: { tickvals: dims.map((_, j) => j), ticktext: dims.map((d) => d.col), showgrid: true, gridwidth: 2, zeroline: false, range: [-0.5, dims.length - 0.3], automargin: true },
    yaxis: { showticklabels: false, showgrid: false, zeroline: false, range: [-0.06, 1.06] }
  }
  return { data, layout }
}
