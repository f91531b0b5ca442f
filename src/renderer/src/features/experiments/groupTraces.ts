import type { MetricSeries } from '../../../../shared/api'
import type { GroupSeries } from '../../../../shared/trackingGroups'
import { traceMode } from './logic'

/** One colour per group (or compared item), in order. */
export const GROUP_COLORS = ['#5b8def', '#ef6b73', '#5cc98f', '#f2b84b', '#b07cf0', '#4fc3d9', '#f08a4b', '#9aa4b2', '#e46fb3', '#8bc34a']

function rgba(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`
}

/** A group's curve drawn: its runs faintly behind (when given), the 95 % band (upper, then lower filled to it), the mean on top. */
export function bandTraces(label: string, s: GroupSeries, color: string, runs: { name: string; series: MetricSeries }[] = []): Record<string, unknown>[] {
  const traces: Record<string, unknown>[] = []
  for (const r of runs) {
    traces.push({ type: 'scatter', mode: 'lines', x: r.series.steps, y: r.series.values, name: r.name, legendgroup: label, showlegend: false, line: { color, width: 1 }, opacity: 0.3, hovertemplate: `${r.name}<br>step %{x}: %{y}<extra></extra>` })
  }
  traces.push({ type: 'scatter', mode: 'lines', x: s.steps, y: s.upper, line: { width: 0, color }, legendgroup: label, showlegend: false, hoverinfo: 'skip', name: `${label} upper` })
  traces.push({ type: 'scatter', mode: 'lines', x: s.steps, y: s.lower, line: { width: 0, color }, fill: 'tonexty', fillcolor: rgba(color, 0.22), legendgroup: label, showlegend: false, hoverinfo: 'skip', name: `${label} band` })
  traces.push({
    type: 'scatter',
    mode: traceMode(s.steps.length),
    x: s.steps,
    y: s.mean,
    customdata: s.steps.map((_, k) => [s.lower[k], s.upper[k], s.n[k]]),
    hovertemplate: `${label}<br>step %{x}: %{y} [%{customdata[0]:.4g}, %{customdata[1]:.4g}], n = %{customdata[2]}<extra></extra>`,
    name: `${label} (n = ${s.runsWithValues})`,
    legendgroup: label,
    line: { color, width: 2 },
    marker: { color, size: 6 }
  })
  return traces
}
