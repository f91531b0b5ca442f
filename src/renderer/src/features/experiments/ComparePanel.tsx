import { useMemo, useState } from 'react'
import type { TrackingRun } from '../../../../shared/api'
import { parallelCoordinates } from './parallel'
import { PlotlyChart } from './PlotlyChart'
import { CompareToolbar, useColumnsInView } from './ColumnsInView'
import { cellValue, formatValue, useExperimentsStore } from './useExperimentsStore'

/** A plotly dimension for one column: numbers as they are, strings as categories. */
function dimension(runs: TrackingRun[], col: string) {
  const raw = runs.map((r) => cellValue(r, col))
  const nums = raw.map((v) => (v === null || v === '' ? NaN : Number(v)))
  if (nums.every((n) => Number.isFinite(n))) return { values: nums, categorical: false }
  return { values: raw.map((v) => String(v ?? '')), categorical: true }
}

/** Two or more selected runs side by side: a param diff table and a parallel-coordinates (or scatter) plot. */
export function ComparePanel() {
  const allRuns = useExperimentsStore((s) => s.runs)
  const selected = useExperimentsStore((s) => s.selected)
  const chartKey = useExperimentsStore((s) => s.chartKey)
  const [onlyDiff, setOnlyDiff] = useState(false)
  const [kind, setKind] = useState<'parcoords' | 'scatter'>('parcoords')
  const runs = useMemo(() => selected.map((id) => allRuns.find((r) => r.runId === id)).filter((r): r is TrackingRun => !!r), [allRuns, selected])
  /** How many run columns are (partly) hidden to the left and right of the table's pane. */
  const { wrapRef, hidden, scrollBy } = useColumnsInView(runs.length)

  const paramKeys = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(), [runs])
  const metricKeys = useMemo(() => [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort(), [runs])
  const differs = (k: string) => new Set(runs.map((r) => r.params[k] ?? '\u0000')).size > 1
  const rows = onlyDiff ? paramKeys.filter(differs) : paramKeys
  const [xParam, setXParam] = useState<string>('')
  const xKey = xParam && paramKeys.includes(xParam) ? xParam : (paramKeys.find(differs) ?? paramKeys[0] ?? '')
  const yKey = chartKey && metricKeys.includes(chartKey) ? chartKey : (metricKeys[0] ?? '')

  const logX = useMemo(() => {
    const v = runs.map((r) => Number(r.params[xKey])).filter((n) => Number.isFinite(n) && n > 0)
    return v.length === runs.length && v.length > 0 && Math.max(...v) / Math.min(...v) >= 100
  }, [runs, xKey])

  const plot = useMemo(() => {
    if (kind === 'parcoords') {
      const cols = [...paramKeys.map((k) => `params.${k}`), ...metricKeys.map((k) => `metrics.${k}`)]
      return parallelCoordinates(runs, cols, yKey ? `metrics.${yKey}` : null)
    }
    if (!xKey || !yKey) return { data: [], layout: {} }
    const x = dimension(runs, `params.${xKey}`)
    return {
      data: [
        {
          type: 'scatter',
          mode: runs.length <= 8 ? 'markers+text' : 'markers',
          x: x.values,
          y: runs.map((r) => cellValue(r, `metrics.${yKey}`)),
          text: runs.map((r) => r.runName),
          textposition: 'top center',
          hovertemplate: '%{text}<br>%{x}: %{y}<extra></extra>',
          marker: { size: 9, color: '#5b8def' }
        }
      ],
      layout: { showlegend: false, xaxis: { title: { text: xKey }, type: logX ? 'log' : x.categorical ? 'category' : '-' }, yaxis: { title: { text: yKey } } }
    }
  }, [kind, runs, paramKeys, metricKeys, xKey, yKey, logX])

  if (runs.length < 2) return <p className="empty-note muted">Select two or more runs to compare.</p>

  return (
    <section className="exp-compare" aria-label="Compare runs">
      <div className="exp-compare-table">
        <CompareToolbar title="Parameters" onlyDiff={onlyDiff} onOnlyDiff={setOnlyDiff} label="Compared runs in view" text={`${runs.length} runs`} noun="runs" hidden={hidden} scrollBy={scrollBy} />
        <div ref={wrapRef} className="exp-diff-wrap" role="region" aria-label="Compared runs" tabIndex={0}>
          <table className="stats-table exp-diff" aria-label="Parameter comparison">
            <thead>
              <tr>
                <th scope="col">Parameter</th>
                {runs.map((r) => (
                  <th key={r.runId} scope="col" data-run="" title={r.runName || r.runId}>
                    {r.runName || r.runId}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((k) => {
                const d = differs(k)
                return (
                  <tr key={k} className={d ? 'diff' : ''} aria-label={d ? `${k} (differs)` : k}>
                    <th scope="row">{k}</th>
                    {runs.map((r) => (
                      <td key={r.runId} className="mono" title={r.params[k] ?? ''}>
                        {r.params[k] ?? '—'}
                      </td>
                    ))}
                  </tr>
                )
              })}
              {metricKeys.map((k) => (
                <tr key={`m.${k}`} className="metric">
                  <th scope="row">metrics.{k}</th>
                  {runs.map((r) => (
                    <td key={r.runId} className="mono">
                      {formatValue(cellValue(r, `metrics.${k}`), `metrics.${k}`)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="exp-compare-plot">
        <div className="exp-toolbar" role="toolbar" aria-label="Comparison plot options">
          <label className="inline-field">
            <span>Plot</span>
            <select aria-label="Comparison plot" value={kind} onChange={(e) => setKind(e.target.value as 'parcoords' | 'scatter')}>
              <option value="parcoords">Parallel coordinates</option>
              <option value="scatter">Parameter vs metric</option>
            </select>
          </label>
          {kind === 'parcoords' && yKey && (
            <span className="muted">
              One line per run, coloured by {yKey}: <span className="exp-ramp" aria-hidden="true" /> low → high; hover a line for its run.
            </span>
          )}
          {kind === 'scatter' && (
            <label className="inline-field">
              <span>Parameter</span>
              <select aria-label="Parameter" value={xKey} onChange={(e) => setXParam(e.target.value)}>
                {paramKeys.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </label>
          )}
        </div>
        <PlotlyChart
          data={plot.data}
          layout={plot.layout}
          label={kind === 'parcoords' ? 'Parallel coordinates of the selected runs' : `${yKey} against ${xKey}`}
          description={kind === 'parcoords' ? `One line per run across the parameters and metrics, coloured by ${yKey}` : undefined}
        />
      </div>
    </section>
  )
}
