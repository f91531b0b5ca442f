import { useEffect, useMemo, useState } from 'react'
import type { MetricSeries } from '../../../../shared/api'
import type { GroupComparison, MetricStats } from '../../../../shared/trackingGroups'
import { call } from '../../api/client'
import { errorText } from '../../lib/errors'
import { bandTraces, GROUP_COLORS } from './groupTraces'
import { formatMeanCi, formatValue } from './logic'
import { MetricSelect } from './MetricSelect'
import { GroupChartToggles } from './GroupChartToggles'
import { PlotlyChart } from './PlotlyChart'
import { CompareToolbar, useColumnsInView } from './ColumnsInView'
import { groupCompareItems, useExperimentsStore } from './useExperimentsStore'

const MAX_ITEMS = 20
const MAX_RUNS_PER_ITEM = 20
const MAX_POINTS = 500

/** `0.870 ± 0.025`, or the mean alone with why there is no interval. */
function meanText(s: MetricStats): string {
  return s.ci95 === null ? formatValue(s.mean, 'metrics') : formatMeanCi(s)
}

function StatsCell({ s }: { s: MetricStats | undefined }) {
  if (!s) return <td className="mono muted">—</td>
  const title = `n = ${s.n}, mean ${s.mean}${s.ci95 !== null ? `, 95 % CI [${s.mean - s.ci95}, ${s.mean + s.ci95}], sd ${s.std}` : ''}, min ${s.min}, max ${s.max}`
  return (
    <td className="mono exp-stat" title={title}>
      <span className="exp-stat-mean">{meanText(s)}</span>
      <span className="exp-stat-range muted">{s.ci95 === null ? `n=${s.n}, no interval` : `n=${s.n} · min ${formatValue(s.min, 'metrics')} · max ${formatValue(s.max, 'metrics')}`}</span>
    </td>
  )
}

/**
 * Groups (and single runs, each a group of one) side by side, computed by the tracking service: n,
 * the params each shares (what differs between them marked), each metric's mean ± 95 % CI with min
 * and max, and one metric's mean curves with their bands overlaid, the runs behind them on demand.
 */
export function GroupComparePanel() {
  const groups = useExperimentsStore((s) => s.groups)
  const selectedGroups = useExperimentsStore((s) => s.selectedGroups)
  const selected = useExperimentsStore((s) => s.selected)
  const runs = useExperimentsStore((s) => s.runs)
  const chartKey = useExperimentsStore((s) => s.chartKey)
  const setChartKey = useExperimentsStore((s) => s.setChartKey)
  const showRuns = useExperimentsStore((s) => s.showGroupRuns)
  const logY = useExperimentsStore((s) => s.logY)
  const revision = useExperimentsStore((s) => s.revision)
  const [onlyDiff, setOnlyDiff] = useState(false)
  const [cmp, setCmp] = useState<GroupComparison | null>(null)
  const [memberSeries, setMemberSeries] = useState<Record<string, MetricSeries>>({})
  const [error, setError] = useState<string | null>(null)
  const { wrapRef, hidden, scrollBy } = useColumnsInView(cmp?.items.length ?? 0)

  const items = useMemo(() => groupCompareItems({ groups, selectedGroups, selected, runs }).slice(0, MAX_ITEMS), [groups, selectedGroups, selected, runs])
  const itemsKey = items.map((it) => `${it.label}:${it.runIds.join(',')}`).join('|')

  useEffect(() => {
    if (items.length < 2) return setCmp(null)
    let alive = true
    call('tracking.groups.compare', { items, maxPoints: MAX_POINTS }).then(
      (c) => alive && (setCmp(c), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [itemsKey, revision])

  const key = chartKey && cmp?.seriesKeys.includes(chartKey) ? chartKey : (cmp?.seriesKeys[0] ?? null)

  useEffect(() => {
    if (!showRuns || !cmp || !key) return setMemberSeries({})
    let alive = true
    const ids = [...new Set(cmp.items.flatMap((it) => (it.runIds.length > 1 ? it.runIds.slice(0, MAX_RUNS_PER_ITEM) : [])))]
    Promise.all(ids.map(async (runId) => [runId, await call('tracking.metrics.history', { runId, key, x: 'step', maxPoints: MAX_POINTS })] as const)).then(
      (pairs) => alive && setMemberSeries(Object.fromEntries(pairs)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [showRuns, cmp, key])

  const data = useMemo(() => {
    if (!cmp || !key) return []
    return cmp.items.flatMap((it, i) => {
      const s = it.series[key]
      if (!s || s.steps.length === 0) return []
      const members = showRuns && it.runIds.length > 1 ? it.runIds.slice(0, MAX_RUNS_PER_ITEM).flatMap((id, k) => (memberSeries[id] ? [{ name: it.runNames[k], series: memberSeries[id] }] : [])) : []
      return bandTraces(it.label, s, GROUP_COLORS[i % GROUP_COLORS.length], members)
    })
  }, [cmp, key, showRuns, memberSeries])
  const layout = useMemo(
    () => ({ uirevision: `${key}|${itemsKey}|${logY}`, showlegend: true, xaxis: { title: { text: 'step' } }, yaxis: { type: logY ? 'log' : 'linear', title: { text: key ?? '' } } }),
    [key, itemsKey, logY]
  )

  if (items.length < 2) return <p className="empty-note muted">Tick two or more groups (or open a group and select runs) to compare.</p>
  if (error)
    return (
      <div role="alert" className="error-box">
        {error}
      </div>
    )
  if (!cmp) return <p className="empty-note muted">Comparing…</p>

  const differs = new Set(cmp.differing)
  const rows = onlyDiff ? cmp.paramKeys.filter((k) => differs.has(k)) : cmp.paramKeys
  const paramCell = (it: GroupComparison['items'][number], k: string) => {
    if (k in it.params) return <>{it.params[k] ?? '—'}</>
    const vs = it.varying[k] ?? []
    return <span className="muted">varies: {vs.map((v) => v ?? '∅').join(', ')}</span>
  }
  return (
    <section className="exp-compare" aria-label="Compare groups">
      <div className="exp-compare-table">
        <CompareToolbar title="Groups" onlyDiff={onlyDiff} onOnlyDiff={setOnlyDiff} label="Compared groups" text={`${cmp.items.length} compared, mean ± 95 % CI`} noun="groups" hidden={hidden} scrollBy={scrollBy} />
        <div ref={wrapRef} className="exp-diff-wrap" role="region" aria-label="Compared groups table" tabIndex={0}>
          <table className="stats-table exp-diff exp-group-diff" aria-label="Group comparison">
            <thead>
              <tr>
                <th scope="col" title="Mean ± half-width of the 95 % confidence interval (Student's t) of the runs' latest values">
                  Group
                </th>
                {cmp.items.map((it, i) => (
                  <th key={it.label + i} scope="col" data-run="" title={it.runIds.length > 1 ? it.runNames.join(', ') : it.label}>
                    <span className="exp-swatch" style={{ background: GROUP_COLORS[i % GROUP_COLORS.length] }} aria-hidden="true" />
                    {it.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr aria-label="Runs (n)">
                <th scope="row">Runs (n)</th>
                {cmp.items.map((it, i) => (
                  <td key={it.label + i} className="mono">
                    {it.runIds.length}
                  </td>
                ))}
              </tr>
              {rows.map((k) => {
                const d = differs.has(k)
                return (
                  <tr key={k} className={d ? 'diff' : ''} aria-label={d ? `${k} (differs)` : k}>
                    <th scope="row">{k}</th>
                    {cmp.items.map((it, i) => (
                      <td key={it.label + i} className="mono">
                        {paramCell(it, k)}
                      </td>
                    ))}
                  </tr>
                )
              })}
              {cmp.metricKeys.map((k) => (
                <tr key={`m.${k}`} className="metric" aria-label={`metrics.${k}`}>
                  <th scope="row">metrics.{k}</th>
                  {cmp.items.map((it, i) => (
                    <StatsCell key={it.label + i} s={it.metrics[k]} />
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="exp-compare-plot">
        <div className="exp-toolbar" role="toolbar" aria-label="Group comparison chart options">
          <MetricSelect keys={cmp.seriesKeys} value={key} onChange={setChartKey} />
          <GroupChartToggles />
          <span className="spacer" />
          <span className="muted exp-note">mean by step, band = 95 % CI{cmp.items.some((it) => it.series[key ?? '']?.bucketed) ? ', steps bucketed' : ''}</span>
        </div>
        <PlotlyChart
          data={data}
          layout={layout}
          label={`${key ?? 'Metric'} mean by step per compared group`}
          description={cmp.items.map((it) => `${it.label}: ${it.series[key ?? '']?.runsWithValues ?? 0} of ${it.runIds.length} runs`).join('; ')}
        />
      </div>
    </section>
  )
}
