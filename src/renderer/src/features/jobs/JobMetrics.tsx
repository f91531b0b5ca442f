import { useEffect, useMemo, useRef, useState } from 'react'
import type { MetricSeries } from '../../../../shared/api'
import type { JobDetail } from '../../../../shared/jobs'
import { call } from '../../api/client'
import { toUiError } from '../../lib/errors'
import { PlotlyChart } from '../experiments/PlotlyChart'
import { singleXRange } from '../experiments/logic'
import { formatMetric, isActive } from './format'
import { plural } from '../../lib/format'

const MAX_CHARTS = 6
const MAX_POINTS = 400
const MIN_REFETCH_MS = 1500

/** A step axis; one step alone is centred with that step as its only tick (not −1 to 1). */
function jobChartLayout(steps: number[]): Record<string, unknown> {
  const single = singleXRange([steps], 'step')
  return {
    showlegend: false,
    margin: { l: 44, r: 10, t: 6, b: 28 },
    xaxis: { title: { text: 'step' }, ...(single ? { range: single.range, tickvals: single.tickvals } : {}) }
  }
}

/**
 * One line chart per metric of the job's tracking run, refreshed (at most every 1.5 s) as the job
 * reports: the store refetches the job when its run changes (`tracking.changed`), so its latest
 * metrics, and with them these series, follow the points as they are logged.
 */
export function JobMetrics({ detail }: { detail: JobDetail }) {
  const keys = useMemo(() => {
    const k = new Set(Object.keys(detail.metrics))
    for (const m of detail.spec.metricDefinitions ?? []) k.add(m.name)
    return [...k].sort().slice(0, MAX_CHARTS)
  }, [detail.metrics, detail.spec.metricDefinitions])
  const keysKey = keys.join('\u0000')
  const [series, setSeries] = useState<Record<string, MetricSeries>>({})
  const [error, setError] = useState<string | null>(null)
  const last = useRef(0)

  useEffect(() => setSeries({}), [detail.runId])

  useEffect(() => {
    const runId = detail.runId
    if (!runId || keys.length === 0) return
    let alive = true
    const wait = Math.max(0, last.current + MIN_REFETCH_MS - Date.now())
    const t = setTimeout(() => {
      last.current = Date.now()
      Promise.all(keys.map((key) => call('tracking.metrics.history', { runId, key, x: 'step', maxPoints: MAX_POINTS }).then((s) => [key, s] as const))).then(
        (all) => {
          if (!alive) return
          setSeries(Object.fromEntries(all))
          setError(null)
        },
        (e: unknown) => alive && setError(toUiError(e).message)
      )
    }, wait)
    return () => {
      alive = false
      clearTimeout(t)
    }
    // detail: refetched when the run changed or the job moved on, so the history may have grown
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [detail, keysKey])

  if (!detail.runId) return <p className="muted empty-note">This job has no tracking run.</p>
  if (keys.length === 0)
    return (
      <p className="muted empty-note">
        No metrics yet. Log them with MLflow from the script, or add a metric definition (name + regex over the log).
      </p>
    )

  return (
    <div className="job-metrics" aria-label="Metrics" role="region">
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {keys.map((key) => {
        const s = series[key]
        const latest = detail.metrics[key]
        return (
          <figure key={key} className="job-metric">
            <figcaption>
              <span className="mono">{key}</span> <span className="muted">latest {formatMetric(latest)}</span>
              {s && <span className="muted"> · {plural(s.total, 'point')}</span>}
            </figcaption>
            {s && s.total > 0 ? (
              <PlotlyChart
                data={[{ type: 'scatter', mode: s.total <= 40 ? 'lines+markers' : 'lines', x: s.steps, y: s.values, name: key, line: { color: '#5b8def', width: 1.6 }, marker: { size: 6 } }]}
                layout={jobChartLayout(s.steps)}
                label={`${key} by step`}
                description={`${key} of ${detail.name}: ${plural(s.total, 'point')}${s.values.length ? `, last ${formatMetric(s.values[s.values.length - 1] ?? null)}` : ''}`}
                height={150}
              />
            ) : (
              <p className="muted empty-note">{isActive(detail.state) ? 'Waiting for values…' : 'No values were logged.'}</p>
            )}
          </figure>
        )
      })}
    </div>
  )
}
