import { useMemo, type KeyboardEvent } from 'react'
import type { TrackingRun } from '../../../../shared/api'
import type { SweepDetail } from '../../../../shared/jobs'
import { ProgressBar } from '../../components/ProgressBar'
import { parallelCoordinates } from '../experiments/parallel'
import { PlotlyChart } from '../experiments/PlotlyChart'
import { bestTrialIndex, formatHp, formatMetric, formatTimestamp, isActive } from './format'
import { useJobsStore } from './useJobsStore'
import { StateBadge } from './widgets'
import { plural } from '../../lib/format'

/** Trials as run-shaped rows, so the Experiments room's parallel coordinates draw them unchanged. */
function trialsAsRuns(sweep: SweepDetail): TrackingRun[] {
  const metric = sweep.objective?.metric ?? 'objective'
  return sweep.trials.map((t) => ({
    runId: String(t.index),
    experimentId: '',
    runName: `trial ${t.index}`,
    userId: '',
    status: 'FINISHED',
    startTime: null,
    endTime: null,
    artifactUri: '',
    lifecycleStage: 'active',
    metrics: t.objective === null ? [] : [{ key: metric, value: t.objective, timestamp: 0, step: 0 }],
    params: Object.fromEntries(Object.entries(t.hyperparameters).map(([k, v]) => [k, String(v)])),
    tags: {},
    inputs: []
  }))
}

function SweepList() {
  const sweeps = useJobsStore((s) => s.sweeps)
  const selected = useJobsStore((s) => s.selectedSweepId)
  const select = useJobsStore((s) => s.selectSweep)
  const sorted = useMemo(() => [...sweeps].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)), [sweeps])
  const onKey = (e: KeyboardEvent<HTMLLIElement>, i: number) => {
    const j = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? sorted.length - 1 : null
    if (j === null || !sorted[j]) return
    e.preventDefault()
    select(sorted[j].id)
    ;(e.currentTarget.parentElement?.children[j] as HTMLElement | undefined)?.focus()
  }
  return (
    <ul className="side-list" role="listbox" aria-label="Sweeps">
      {sorted.map((s, i) => (
        <li
          key={s.id}
          role="option"
          aria-selected={s.id === selected}
          tabIndex={s.id === selected || (!selected && i === 0) ? 0 : -1}
          className={`side-item ${s.id === selected ? 'active' : ''}`}
          onClick={() => select(s.id)}
          onKeyDown={(e) => onKey(e, i)}
        >
          <span className="side-item-name">{s.name}</span>
          <StateBadge state={s.state} className="small" />
          <span className="muted side-item-count">
            {s.done}/{s.trialCount}
          </span>
        </li>
      ))}
      {sorted.length === 0 && <li className="muted empty-note">No sweeps yet. Tick “Run as sweep” in the submit form.</li>}
    </ul>
  )
}

function SweepDetailView({ sweep }: { sweep: SweepDetail }) {
  const stop = useJobsStore((s) => s.stopSweep)
  const busy = useJobsStore((s) => s.busy)
  const selectJob = useJobsStore((s) => s.selectJob)
  const setTab = useJobsStore((s) => s.setTab)
  const hpKeys = useMemo(() => [...new Set(sweep.trials.flatMap((t) => Object.keys(t.hyperparameters)))].sort(), [sweep.trials])
  const best = sweep.bestTrial ?? (sweep.objective ? bestTrialIndex(sweep.trials, sweep.objective.goal) : null)
  const bestTrial = sweep.trials.find((t) => t.index === best)
  const metric = sweep.objective?.metric ?? null
  const plot = useMemo(() => {
    const runs = trialsAsRuns(sweep)
    const cols = [...hpKeys.map((k) => `params.${k}`), ...(metric ? [`metrics.${metric}`] : [])]
    const pc = parallelCoordinates(runs, cols, metric ? `metrics.${metric}` : null)
    // axis titles without the params./metrics. prefixes: a sweep has only its hyperparameters and objective
    const xaxis = { ...(pc.layout.xaxis as Record<string, unknown>), ticktext: cols.map((c) => c.slice(c.indexOf('.') + 1)) }
    return { data: pc.data, layout: { ...pc.layout, xaxis } }
  }, [sweep, hpKeys, metric])
  const running = sweep.state === 'running'

  return (
    <section className="job-sweep-detail" aria-label={`Sweep ${sweep.name}`}>
      <header className="job-detail-head">
        <h2 className="job-title">{sweep.name}</h2>
        <StateBadge state={sweep.state} />
        <span className="muted">
          {sweep.strategy} · {sweep.done} of {plural(sweep.trialCount, 'trial')} done · {formatTimestamp(sweep.createdAt)}
        </span>
        <span className="spacer" />
        <button type="button" className="btn small" disabled={!running || !!busy} onClick={() => void stop(sweep.id)}>
          Stop sweep
        </button>
      </header>
      <div className="job-sweep-progress">
        <ProgressBar label="Sweep progress" percent={sweep.trialCount ? (100 * sweep.done) / sweep.trialCount : 0} />
        <p className="job-best" role="status">
          {bestTrial && metric
            ? `Best trial: #${bestTrial.index} (${hpKeys.map((k) => `${k}=${formatHp(bestTrial.hyperparameters[k])}`).join(', ')}) with ${metric} ${formatMetric(bestTrial.objective)} (${sweep.objective!.goal})`
            : metric
              ? `Best trial: none yet (${sweep.objective!.goal} ${metric})`
              : 'No objective metric: trials are not ranked.'}
        </p>
      </div>
      <div className="job-sweep-body">
        <div className="table-wrap job-trials-wrap">
          <table className="stats-table job-trials" aria-label="Trials">
            <thead>
              <tr>
                <th scope="col">Trial</th>
                {hpKeys.map((k) => (
                  <th key={k} scope="col">
                    {k}
                  </th>
                ))}
                <th scope="col">State</th>
                <th scope="col">{metric ?? 'Objective'}</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {sweep.trials.map((t) => {
                const isBest = t.index === best
                return (
                  <tr key={t.index} className={isBest ? 'best' : ''} aria-current={isBest ? 'true' : undefined}>
                    <th scope="row">
                      #{t.index}
                      {isBest && <span className="job-best-tag"> ★ best</span>}
                    </th>
                    {hpKeys.map((k) => (
                      <td key={k} className="mono">
                        {formatHp(t.hyperparameters[k])}
                      </td>
                    ))}
                    <td>
                      <StateBadge state={t.state} />
                    </td>
                    <td className="mono">{formatMetric(t.objective)}</td>
                    <td>
                      {t.jobId ? (
                        <button
                          type="button"
                          className="link-btn"
                          aria-label={`Open job of trial ${t.index}`}
                          onClick={() => {
                            setTab('jobs')
                            selectJob(t.jobId)
                          }}
                        >
                          Open
                        </button>
                      ) : (
                        <span className="muted">{isActive(t.state) ? 'waiting' : '—'}</span>
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
        <div className="job-parcoords">
          {hpKeys.length + (metric ? 1 : 0) >= 2 ? (
            <PlotlyChart
              data={plot.data}
              layout={plot.layout}
              label="Parallel coordinates of the trials"
              description={`One line per trial across ${hpKeys.join(', ')}${metric ? ` and ${metric}, coloured by ${metric}` : ''}`}
            />
          ) : (
            <p className="muted empty-note">Parallel coordinates need two or more axes: sweep over more hyperparameters or set an objective metric.</p>
          )}
        </div>
      </div>
    </section>
  )
}

/** Sweeps: the list, and the selected sweep's trials, best trial, parallel coordinates and early stop. */
export function SweepsView() {
  const sweep = useJobsStore((s) => s.sweep)
  const selected = useJobsStore((s) => s.selectedSweepId)
  const error = useJobsStore((s) => s.sweepError)
  return (
    <div className="job-split">
      <aside className="job-sweeps-side" aria-label="Sweep list">
        <SweepList />
      </aside>
      <div className="job-detail-pane">
        {error && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
        {sweep ? <SweepDetailView sweep={sweep} /> : <p className="empty-note muted">{selected ? 'Loading sweep…' : 'Choose a sweep to see its trials.'}</p>}
      </div>
    </div>
  )
}
