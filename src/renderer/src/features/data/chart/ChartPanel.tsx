import { Field } from '../../../components/Field'
import { useEffect, useMemo } from 'react'
import type { ChartKind, ChartResult } from '../../../../../shared/api'
import { call } from '../../../api/client'
import { Plot, type Trace } from '../../../components/Plot'
import { Spinner } from '../../../components/ProgressBar'
import { toUiError } from '../../../lib/errors'
import { formatCount, kindOfType, plural } from '../../../lib/format'
import { create } from 'zustand'
import type { QueryState } from '../query/useQueryStore'

/** One query tab's chart: its settings and the last chart drawn from one of its results. */
export interface ChartState {
  kind: ChartKind
  x: string
  y: string
  color: string
  queryId: string | null
  result: ChartResult | null
  loading: boolean
  error: string | null
}

const NO_CHART: ChartState = {
  kind: 'bar',
  x: '',
  y: '',
  color: '',
  queryId: null,
  result: null,
  loading: false,
  error: null
}

/** Charts by query tab: a tab never shows another tab's chart. */
export const useChartStore = create<{ byTab: Record<string, ChartState> }>(() => ({ byTab: {} }))

export const chartOf = (tabId: string | null | undefined): ChartState =>
  (tabId ? useChartStore.getState().byTab[tabId] : undefined) ?? NO_CHART

export function setChart(tabId: string, patch: Partial<ChartState>) {
  useChartStore.setState((s) => ({ byTab: { ...s.byTab, [tabId]: { ...chartOf(tabId), ...patch } } }))
}

/** Forgets a closed tab's chart. */
export function forgetChart(tabId: string) {
  useChartStore.setState((s) => {
    const byTab = { ...s.byTab }
    delete byTab[tabId]
    return { byTab }
  })
}

const seq: Record<string, number> = {}
export async function drawChart(tabId: string, queryId: string) {
  const { kind, x, y, color } = chartOf(tabId)
  if (!x) {
    setChart(tabId, { error: 'Choose a column for X.' })
    return
  }
  if (kind !== 'histogram' && !y) {
    setChart(tabId, { error: 'Choose a column for Y.' })
    return
  }
  const mine = (seq[tabId] = (seq[tabId] ?? 0) + 1)
  setChart(tabId, { loading: true, error: null })
  try {
    const result = await call('lake.chart', {
      queryId,
      kind,
      x,
      y: y || undefined,
      color: color || undefined
    })
    if (mine === seq[tabId] && useChartStore.getState().byTab[tabId]) setChart(tabId, { result, queryId, loading: false })
  } catch (err) {
    if (mine === seq[tabId] && useChartStore.getState().byTab[tabId]) setChart(tabId, { loading: false, error: toUiError(err).message })
  }
}

const PALETTE = ['#5b8def', '#f2a65a', '#5cc98f', '#e5687b', '#a78bfa', '#38bdf8', '#facc15', '#94a3b8']

function traces(r: ChartResult): Trace[] {
  return r.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length]
    const name = s.name
    switch (r.kind) {
      case 'line':
        return { type: 'scatter', mode: 'lines', x: s.x, y: s.y, name, line: { color, width: 1.5 } }
      case 'scatter':
        return { type: 'scatter', mode: 'markers', x: s.x, y: s.y, name, marker: { color, size: 4, opacity: 0.6 } }
      default:
        // histograms arrive binned: draw them as bars
        return { type: 'bar', x: s.x, y: s.y, name, marker: { color } }
    }
  })
}

function describe(r: ChartResult, x: string, y: string, color: string): string {
  const points = r.series.reduce((n, s) => n + s.x.length, 0)
  const what = r.kind === 'histogram' ? `histogram of ${x}` : `${r.kind} chart of ${y} by ${x}`
  return `${what}${color ? `, coloured by ${color}` : ''}: ${r.series.length} series, ${plural(points, 'point')}${
    r.sampled ? `, sampled from ${plural(r.totalRows, 'row')}` : ''
  }`
}

export function ChartPanel({ tabId, query }: { tabId: string | null; query: QueryState | undefined }) {
  const st = useChartStore((s) => (tabId ? s.byTab[tabId] : undefined)) ?? NO_CHART
  const set = (patch: Partial<ChartState>) => tabId && setChart(tabId, patch)
  const columns = useMemo(() => query?.columns ?? [], [query?.columns])
  const ready = query?.status === 'done' && columns.length > 0

  // pick sensible defaults for a new result
  useEffect(() => {
    if (!columns.length || !tabId) return
    const names = columns.map((c) => c.name)
    const s = chartOf(tabId)
    const numeric = columns.filter((c) => kindOfType(c.type) === 'number').map((c) => c.name)
    const patch: Partial<ChartState> = {}
    if (!names.includes(s.x)) patch.x = columns.find((c) => kindOfType(c.type) !== 'number')?.name ?? names[0]
    if (s.y && !names.includes(s.y)) patch.y = ''
    if (!s.y && !patch.y) patch.y = numeric.find((n) => n !== (patch.x ?? s.x)) ?? ''
    if (s.color && !names.includes(s.color)) patch.color = ''
    if (Object.keys(patch).length) setChart(tabId, patch)
  }, [columns, tabId])

  const data = useMemo(() => (st.result ? traces(st.result) : []), [st.result])
  const layout = useMemo(
    () => ({
      margin: { l: 56, r: 16, t: 12, b: 48 },
      barmode: st.result && st.result.series.length > 1 ? 'group' : undefined,
      xaxis: { title: { text: st.x }, type: st.result?.xType === 'category' ? 'category' : st.result?.xType === 'time' ? 'date' : undefined },
      yaxis: { title: { text: st.result?.kind === 'histogram' ? 'count' : st.y } }
    }),
    [st.result, st.x, st.y]
  )
  const stale = st.result && st.queryId !== query?.queryId

  return (
    <div className="chart-panel">
      <form
        className="panel-bar chart-form"
        onSubmit={(e) => {
          e.preventDefault()
          if (query && tabId) void drawChart(tabId, query.queryId)
        }}
      >
        <Field label="Chart type" className="inline-field">
          <select value={st.kind} onChange={(e) => set({ kind: e.target.value as ChartKind })}>
            <option value="bar">bar</option>
            <option value="line">line</option>
            <option value="scatter">scatter</option>
            <option value="histogram">histogram</option>
          </select>
        </Field>
        <ColumnSelect label="X" value={st.x} columns={columns} onChange={(x) => set({ x })} />
        <ColumnSelect label="Y" value={st.y} columns={columns} onChange={(y) => set({ y })} none={st.kind === 'histogram' ? '(count)' : '(choose)'} />
        <ColumnSelect label="Colour" value={st.color} columns={columns} onChange={(color) => set({ color })} none="(none)" />
        <button type="submit" className="btn primary small" disabled={!ready || st.loading}>
          Draw chart
        </button>
        {st.loading && <Spinner label="Drawing…" />}
      </form>
      {!ready && <p className="muted empty-note">Run a query to chart its result.</p>}
      {st.error && (
        <div role="alert" className="error-box">
          {st.error}
        </div>
      )}
      {st.result && (
        <>
          <div className="chart-notes">
            {st.result.sampled && (
              <span className="notice">
                Sampled: showing {formatCount(st.result.series.reduce((n, x) => n + x.x.length, 0))} of{' '}
                {formatCount(st.result.totalRows)} rows
              </span>
            )}
            {stale && <span className="muted">From this tab's earlier result; draw again to refresh.</span>}
          </div>
          <Plot data={data} layout={layout} label="Chart" description={describe(st.result, st.x, st.y, st.color)} className="chart-plot" />
        </>
      )}
    </div>
  )
}

/** A column picker for one chart channel; `none` adds an empty choice with that label. */
function ColumnSelect(p: { label: string; value: string; columns: readonly { name: string }[]; onChange: (v: string) => void; none?: string }) {
  return (
    <Field label={p.label} className="inline-field">
      <select value={p.value} onChange={(e) => p.onChange(e.target.value)} disabled={!p.columns.length}>
        {p.none !== undefined && <option value="">{p.none}</option>}
        {p.columns.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
    </Field>
  )
}
