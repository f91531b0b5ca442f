import { useCallback, useEffect, useMemo, useState } from 'react'
import type { MetricSeries } from '../../../../shared/api'
import { call } from '../../api/client'
import { PlotlyChart } from './PlotlyChart'
import { loggedOncePerRun, plotlyDateToMs, rangeToRequest, singleXRange, smooth, traceMode, xValues, type XAxis } from './logic'
import { formatValue, sortRuns, useExperimentsStore, type ChartKind } from './useExperimentsStore'
import { plural } from '../../lib/format'
import { MetricSelect } from './MetricSelect'
import { errorText } from '../../lib/errors'

const MAX_POINTS = 500
/** Overlaying more lines than this is unreadable (and one request each). */
const MAX_RUNS = 20
/** Bars per run at most (a bar chart of more is a wall). */
const MAX_BARS = 200
const COLORS = ['#5b8def', '#ef6b73', '#5cc98f', '#f2b84b', '#b07cf0', '#4fc3d9', '#f08a4b', '#9aa4b2', '#e46fb3', '#8bc34a']

interface Loaded {
  runId: string
  name: string
  /** The run's start (ms), the zero of the relative-time axis. */
  base: number
  series: MetricSeries
}

const AXIS_TITLE: Record<XAxis, string> = { step: 'step', relative: 'seconds since start', wall: 'time' }

/**
 * One metric key over the selected runs (overlay), by step, relative time or wall time. The server
 * downsamples (LTTB); zooming re-requests the zoomed range, so the raw points show once few enough.
 */
export function MetricChart() {
  const runs = useExperimentsStore((s) => s.runs)
  const selected = useExperimentsStore((s) => s.selected)
  const detailRunId = useExperimentsStore((s) => s.detailRunId)
  const chartKey = useExperimentsStore((s) => s.chartKey)
  const setChartKey = useExperimentsStore((s) => s.setChartKey)
  const logY = useExperimentsStore((s) => s.logY)
  const setLogY = useExperimentsStore((s) => s.setLogY)
  const smoothing = useExperimentsStore((s) => s.smoothing)
  const setSmoothing = useExperimentsStore((s) => s.setSmoothing)
  const revision = useExperimentsStore((s) => s.revision)
  const xAxis = useExperimentsStore((s) => s.xAxis)
  const setXAxis = useExperimentsStore((s) => s.setXAxis)
  const sort = useExperimentsStore((s) => s.sort)
  const chartKind = useExperimentsStore((s) => s.chartKind)
  const setChartKind = useExperimentsStore((s) => s.setChartKind)

  const [range, setRange] = useState<[number, number] | null>(null)
  /** Bumped by "Reset zoom": a new uirevision makes plotly autorange again. */
  const [zoomEpoch, setZoomEpoch] = useState(0)
  const [loaded, setLoaded] = useState<Loaded[]>([])
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const keys = useMemo(() => {
    const k = new Set<string>()
    for (const r of runs) r.metrics.forEach((m) => k.add(m.key))
    return [...k].sort()
  }, [runs])

  const runIds = (selected.length > 0 ? selected : detailRunId ? [detailRunId] : []).slice(0, MAX_RUNS)
  const idsKey = runIds.join(',')

  useEffect(() => setRange(null), [chartKey, idsKey, xAxis])

  useEffect(() => {
    if (!chartKey || runIds.length === 0) {
      setLoaded([])
      return
    }
    let alive = true
    setBusy(true)
    const byId = new Map(runs.map((r) => [r.runId, r]))
    Promise.all(
      runIds.map((runId) => {
        const run = byId.get(runId)
        // the zero of relative time: the run's start, else the first point seen (runs without a start time)
        const base = run?.startTime ?? loaded.find((l) => l.runId === runId)?.base ?? 0
        return call('tracking.metrics.history', {
          runId,
          key: chartKey,
          x: xAxis === 'step' ? 'step' : 'timestamp',
          maxPoints: MAX_POINTS,
          ...(range ? rangeToRequest(range, xAxis, base) : {})
        }).then((series) => ({ runId, name: run?.runName || runId, base: run?.startTime ?? (range ? base : (series.timestamps[0] ?? 0)), series }))
      })
    ).then(
      (l) => {
        if (!alive) return
        setLoaded(l)
        setError(null)
        setBusy(false)
      },
      (e: unknown) => {
        if (!alive) return
        setError(errorText(e))
        setBusy(false)
      }
    )
    return () => {
      alive = false
    }
    // runs only supplies names; refetch on key, runs chosen, zoom range and live revisions
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [chartKey, idsKey, range, revision, xAxis])

  const oncePerRun = loggedOncePerRun(loaded.map((l) => l.series.total))
  const bars = chartKind === 'bars' || (chartKind === 'auto' && oncePerRun)
  // bars: the selected runs, or every run of the table when none is chosen
  const barRuns = useMemo(() => {
    if (!bars || !chartKey) return []
    const ids = selected.length > 0 ? selected : detailRunId ? [detailRunId] : null
    const byId = new Map(runs.map((r) => [r.runId, r]))
    const list = ids ? ids.map((id) => byId.get(id)).filter((r) => r !== undefined) : runs
    return sortRuns(list, sort)
      .map((r) => ({ name: r.runName || r.runId, value: r.metrics.find((m) => m.key === chartKey)?.value ?? null }))
      .filter((b): b is { name: string; value: number } => b.value !== null)
      .slice(0, MAX_BARS)
  }, [bars, chartKey, selected, detailRunId, runs, sort])

  const data = useMemo(() => {
    if (bars) {
      return [
        {
          type: 'bar',
          x: barRuns.map((b) => b.name),
          y: barRuns.map((b) => b.value),
          text: barRuns.map((b) => formatValue(b.value, 'metrics')),
          textposition: 'auto',
          marker: { color: COLORS[0] },
          hovertemplate: '%{x}: %{y}<extra></extra>',
          name: chartKey ?? ''
        }
      ]
    }
    const traces: Record<string, unknown>[] = []
    loaded.forEach((l, i) => {
      const color = COLORS[i % COLORS.length]
      const y = l.series.values
      const x = xValues(l.series, xAxis, l.base)
      if (smoothing > 0) {
        traces.push({ type: 'scatter', mode: 'lines', x, y, name: `${l.name} (raw)`, line: { color, width: 1 }, opacity: 0.25, showlegend: false, hoverinfo: 'skip' })
      }
      traces.push({ type: 'scatter', mode: traceMode(x.length), x, y: smooth(y, smoothing), name: l.name, line: { color, width: 1.6 }, marker: { color, size: 7 }, connectgaps: false })
    })
    return traces
  }, [bars, barRuns, chartKey, loaded, smoothing, xAxis])

  const layout = useMemo(() => {
    const single = bars ? null : singleXRange(loaded.map((l) => xValues(l.series, xAxis, l.base)), xAxis)
    return {
      uirevision: `${chartKey}|${idsKey}|${logY}|${xAxis}|${zoomEpoch}|${bars}|${single ? single.range.join() : ''}`,
      showlegend: !bars,
      xaxis: bars
        ? { type: 'category', automargin: true }
        : { title: { text: AXIS_TITLE[xAxis] }, type: xAxis === 'wall' ? 'date' : 'linear', ...(single ? { range: single.range, ...(single.tickvals ? { tickvals: single.tickvals } : {}) } : {}) },
      yaxis: { type: logY ? 'log' : 'linear', title: { text: chartKey ?? '' } }
    }
  }, [bars, loaded, chartKey, idsKey, logY, xAxis, zoomEpoch])

  const onRelayout = useCallback(
    (e: Record<string, unknown>) => {
      // a date axis reports its range as date strings
      const num = (v: unknown) => (xAxis === 'wall' ? plotlyDateToMs(v) : typeof v === 'number' && Number.isFinite(v) ? v : null)
      const r = e['xaxis.range']
      const a = num(Array.isArray(r) ? r[0] : e['xaxis.range[0]'])
      const b = num(Array.isArray(r) ? r[1] : e['xaxis.range[1]'])
      if (a !== null && b !== null) setRange([Math.min(a, b), Math.max(a, b)])
      else if (e['xaxis.autorange'] === true) setRange(null)
    },
    [xAxis]
  )

  const total = loaded.reduce((a, l) => a + l.series.total, 0)
  const shown = loaded.reduce((a, l) => a + l.series.steps.length, 0)
  const downsampled = loaded.some((l) => l.series.downsampled)

  return (
    <section className="exp-chart" aria-label="Metric chart">
      <div className="exp-toolbar" role="toolbar" aria-label="Chart options">
        <MetricSelect keys={keys} value={chartKey} onChange={setChartKey} />
        <label className="inline-field">
          <span>Plot</span>
          <select aria-label="Plot kind" value={chartKind} onChange={(e) => setChartKind(e.target.value as ChartKind)}>
            <option value="auto">Auto{chartKind === 'auto' ? (bars ? ' (bar per run)' : ' (curves)') : ''}</option>
            <option value="lines">Curves</option>
            <option value="bars">Bar per run</option>
          </select>
        </label>
        <label className="inline-field">
          <span>X axis</span>
          <select aria-label="X axis" value={xAxis} onChange={(e) => setXAxis(e.target.value as XAxis)}>
            <option value="step">Step</option>
            <option value="relative">Relative time</option>
            <option value="wall">Wall time</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> Log scale
        </label>
        <label className="inline-field">
          <span>Smoothing</span>
          <input
            type="range"
            aria-label="Smoothing"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmoothing(Number(e.target.value))}
          />
          <span className="mono exp-num" aria-hidden="true">
            {smoothing.toFixed(2)}
          </span>
        </label>
        {range && (
          <button type="button" className="btn small ghost" onClick={() => (setRange(null), setZoomEpoch((n) => n + 1))}>
            Reset zoom
          </button>
        )}
        <span className="spacer" />
        <span className="muted exp-note" role="status">
          {bars
            ? `${plural(barRuns.length, 'run')}, latest value each`
            : busy ? 'Loading…' : loaded.length ? `${shown.toLocaleString()} of ${plural(total, 'point')}${downsampled ? ' (downsampled; zoom in for raw)' : ' (raw)'}` : ''}
          {selected.length > MAX_RUNS ? ` · first ${MAX_RUNS} of ${selected.length} selected runs` : ''}
        </span>
      </div>
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      {bars && barRuns.length === 0 ? (
        <div className="empty-note muted">No run has a value of {chartKey ?? 'this metric'}.</div>
      ) : !bars && runIds.length === 0 ? (
        <div className="empty-note muted">Select runs to chart their metrics.</div>
      ) : (
        <PlotlyChart
          data={data}
          layout={layout}
          label={bars ? `${chartKey ?? 'Metric'} per run` : `${chartKey ?? 'Metric'} by ${xAxis === 'step' ? 'step' : xAxis === 'wall' ? 'time' : 'relative time'}`}
          description={bars ? barRuns.map((b) => `${b.name}: ${formatValue(b.value, 'metrics')}`).join(', ') : `${chartKey ?? 'metric'} for ${loaded.map((l) => l.name).join(', ')}`}
          onRelayout={bars ? undefined : onRelayout}
        />
      )}
    </section>
  )
}
