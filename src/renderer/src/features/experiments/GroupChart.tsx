import { useEffect, useMemo, useState } from 'react'
import type { MetricSeries } from '../../../../shared/api'
import type { GroupSeries } from '../../../../shared/trackingGroups'
import { call } from '../../api/client'
import { PlotlyChart } from './PlotlyChart'
import { traceMode } from './logic'
import { useExperimentsStore } from './useExperimentsStore'
import { MetricSelect } from './MetricSelect'

const COLORS = ['#5b8def', '#ef6b73', '#5cc98f', '#f2b84b', '#b07cf0', '#4fc3d9', '#f08a4b', '#9aa4b2', '#e46fb3', '#8bc34a']
const MAX_GROUPS = 10
const MAX_RUNS_PER_GROUP = 20
const MAX_POINTS = 500

function rgba(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`
}

interface Loaded {
  label: string
  series: GroupSeries
  runs: { name: string; series: MetricSeries }[]
}

/** The chosen groups' mean curves of one metric, aligned by step, each with its 95 % band; the runs behind them on demand. */
export function GroupChart() {
  const groups = useExperimentsStore((s) => s.groups)
  const selectedGroups = useExperimentsStore((s) => s.selectedGroups)
  const chartKey = useExperimentsStore((s) => s.chartKey)
  const setChartKey = useExperimentsStore((s) => s.setChartKey)
  const runs = useExperimentsStore((s) => s.runs)
  const logY = useExperimentsStore((s) => s.logY)
  const setLogY = useExperimentsStore((s) => s.setLogY)
  const showRuns = useExperimentsStore((s) => s.showGroupRuns)
  const setShowRuns = useExperimentsStore((s) => s.setShowGroupRuns)
  const revision = useExperimentsStore((s) => s.revision)
  const [loaded, setLoaded] = useState<Loaded[]>([])
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const keys = useMemo(() => {
    const k = new Set<string>()
    for (const r of runs) r.metrics.forEach((m) => k.add(m.key))
    return [...k].sort()
  }, [runs])
  const chosen = useMemo(() => (groups?.groups ?? []).filter((g) => selectedGroups.includes(g.label)).slice(0, MAX_GROUPS), [groups, selectedGroups])
  const chosenKey = chosen.map((g) => `${g.label}:${g.runIds.join(',')}`).join('|')

  useEffect(() => {
    if (!chartKey || chosen.length === 0) return setLoaded([])
    let alive = true
    setBusy(true)
    const names = new Map(runs.map((r) => [r.runId, r.runName || r.runId]))
    Promise.all(
      chosen.map(async (g) => {
        const series = await call('tracking.groups.series', { runIds: g.runIds, key: chartKey, maxPoints: MAX_POINTS })
        const members = showRuns
          ? await Promise.all(
              g.runIds.slice(0, MAX_RUNS_PER_GROUP).map(async (runId) => ({
                name: names.get(runId) ?? runId,
                series: await call('tracking.metrics.history', { runId, key: chartKey, x: 'step', maxPoints: MAX_POINTS })
              }))
            )
          : []
        return { label: g.label, series, runs: members }
      })
    ).then(
      (l) => alive && (setLoaded(l), setError(null), setBusy(false)),
      (e: unknown) => alive && (setError(e instanceof Error ? e.message : String(e)), setBusy(false))
    )
    return () => {
      alive = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [chartKey, chosenKey, showRuns, revision])

  const data = useMemo(() => {
    const traces: Record<string, unknown>[] = []
    loaded.forEach((l, i) => {
      const color = COLORS[i % COLORS.length]
      const s = l.series
      for (const r of l.runs) {
        traces.push({ type: 'scatter', mode: 'lines', x: r.series.steps, y: r.series.values, name: r.name, legendgroup: l.label, showlegend: false, line: { color, width: 1 }, opacity: 0.3, hovertemplate: `${r.name}<br>step %{x}: %{y}<extra></extra>` })
      }
      traces.push({ type: 'scatter', mode: 'lines', x: s.steps, y: s.upper, line: { width: 0, color }, legendgroup: l.label, showlegend: false, hoverinfo: 'skip', name: `${l.label} upper` })
      traces.push({ type: 'scatter', mode: 'lines', x: s.steps, y: s.lower, line: { width: 0, color }, fill: 'tonexty', fillcolor: rgba(color, 0.22), legendgroup: l.label, showlegend: false, hoverinfo: 'skip', name: `${l.label} band` })
      traces.push({
        type: 'scatter',
        mode: traceMode(s.steps.length),
        x: s.steps,
        y: s.mean,
        customdata: s.steps.map((_, k) => [s.lower[k], s.upper[k], s.n[k]]),
        hovertemplate: `${l.label}<br>step %{x}: %{y} [%{customdata[0]:.4g}, %{customdata[1]:.4g}], n = %{customdata[2]}<extra></extra>`,
        name: `${l.label} (n = ${s.runsWithValues})`,
        legendgroup: l.label,
        line: { color, width: 2 },
        marker: { color, size: 6 }
      })
    })
    return traces
  }, [loaded])

  const layout = useMemo(
    () => ({
      uirevision: `${chartKey}|${chosenKey}|${logY}`,
      showlegend: true,
      xaxis: { title: { text: 'step' } },
      yaxis: { type: logY ? 'log' : 'linear', title: { text: chartKey ?? '' } }
    }),
    [chartKey, chosenKey, logY]
  )

  const bucketed = loaded.some((l) => l.series.bucketed)
  return (
    <section className="exp-chart" aria-label="Group chart">
      <div className="exp-toolbar" role="toolbar" aria-label="Group chart options">
        <MetricSelect keys={keys} value={chartKey} onChange={setChartKey} />
        <label className="check">
          <input type="checkbox" checked={showRuns} onChange={(e) => setShowRuns(e.target.checked)} /> Show runs
        </label>
        <label className="check">
          <input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> Log scale
        </label>
        <span className="spacer" />
        <span className="muted exp-note" role="status">
          {busy
            ? 'Loading…'
            : loaded.length
              ? `${loaded.length} group${loaded.length === 1 ? '' : 's'}: mean by step, band = 95 % CI (Student's t)${bucketed ? ', steps bucketed' : ''}${showRuns ? ', runs behind' : ''}`
              : ''}
          {(groups?.groups.filter((g) => selectedGroups.includes(g.label)).length ?? 0) > MAX_GROUPS ? ` · first ${MAX_GROUPS} groups` : ''}
        </span>
      </div>
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      {chosen.length === 0 ? (
        <div className="empty-note muted">Tick groups in the table to draw their mean curves.</div>
      ) : (
        <PlotlyChart
          data={data}
          layout={layout}
          label={`${chartKey ?? 'Metric'} mean by step per group`}
          description={loaded.map((l) => `${l.label}: ${l.series.runsWithValues} runs`).join('; ')}
        />
      )}
    </section>
  )
}
