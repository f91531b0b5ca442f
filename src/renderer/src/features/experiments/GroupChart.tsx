import { useEffect, useMemo, useState } from 'react'
import type { MetricSeries } from '../../../../shared/api'
import type { GroupSeries } from '../../../../shared/trackingGroups'
import { call } from '../../api/client'
import { PlotlyChart } from './PlotlyChart'
import { bandTraces, GROUP_COLORS } from './groupTraces'
import { useExperimentsStore } from './useExperimentsStore'
import { MetricSelect } from './MetricSelect'
import { GroupChartToggles } from './GroupChartToggles'
import { errorText } from '../../lib/errors'

const MAX_GROUPS = 10
const MAX_RUNS_PER_GROUP = 20
const MAX_POINTS = 500

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
  const showRuns = useExperimentsStore((s) => s.showGroupRuns)
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
      (e: unknown) => alive && (setError(errorText(e)), setBusy(false))
    )
    return () => {
      alive = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [chartKey, chosenKey, showRuns, revision])

  const data = useMemo(() => {
    const traces: Record<string, unknown>[] = []
    loaded.forEach((l, i) => traces.push(...bandTraces(l.label, l.series, GROUP_COLORS[i % GROUP_COLORS.length], l.runs)))
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
        <GroupChartToggles />
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
