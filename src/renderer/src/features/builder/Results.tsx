import { useEffect, useMemo, useRef, useState } from 'react'
import type { BiasReport, CandidateDetails, Prediction } from '../../../../shared/builder'
import type { EndpointInfo } from '../../../../shared/endpoints'
import { call, onEvent } from '../../api/client'
import { openEndpoint } from '../endpoints/useEndpointsNav'
import { Plot } from '../../components/Plot'
import { message, useBuilderStore } from './useBuilderStore'
import { useCommandStore } from '../commands/useCommandStore'

/** One line each, in plain words. */
export const EXPLAIN: Record<string, string> = {
  accuracy: 'Share of test rows the model got right.',
  balanced_accuracy: 'Accuracy averaged over the classes, so a rare class counts as much as a common one.',
  precision: 'Of the rows the model flags, the share that really are positive.',
  recall: 'Of the rows that really are positive, the share the model finds.',
  f1: 'One number balancing precision and recall (their harmonic mean).',
  roc_auc: 'AUC: the chance the model ranks a random positive above a random negative (0.5 is guessing, 1 is perfect).',
  log_loss: 'How confident and right the probabilities are; lower is better.',
  rmse: 'Typical size of an error, in the target’s units (large errors weigh more).',
  mae: 'Average size of an error, in the target’s units.',
  r2: 'Share of the target’s variation the model explains (1 is perfect, 0 no better than the average).'
}
const LABEL: Record<string, string> = { roc_auc: 'AUC', f1: 'F1', log_loss: 'Log loss', balanced_accuracy: 'Balanced accuracy', rmse: 'RMSE', mae: 'MAE', r2: 'R²' }
const label = (k: string) => LABEL[k] ?? k[0].toUpperCase() + k.slice(1)

export function Results() {
  const detail = useBuilderStore((s) => s.detail)!
  const res = detail.results!
  const [candidate, setCandidate] = useState(res.best)
  const [d, setD] = useState<CandidateDetails | null>(res.details.candidate === res.best ? res.details : null)
  const [tab, setTab] = useState<'results' | 'impact' | 'bias' | 'predict' | 'use'>('results')
  const setError = useBuilderStore((s) => s.setError)
  useEffect(() => {
    if (d?.candidate === candidate) return
    call('builder.details', { buildId: detail.id, candidate }).then(setD, setError)
  }, [candidate, d, detail.id, setError])
  const tabs = [
    ['results', 'Results'],
    ['impact', 'Column impact'],
    ['bias', 'Bias report'],
    ['predict', 'Predict'],
    ['use', 'Use the model']
  ] as const
  return (
    <section className="results" aria-label="Build results">
      <div className="row">
        <label>
          Candidate
          <select value={candidate} onChange={(e) => setCandidate(e.target.value)}>
            {res.leaderboard
              .filter((c) => c.status === 'done')
              .map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name.replace(/_/g, ' ')}
                  {c.name === res.best ? ' (best)' : ''}
                </option>
              ))}
          </select>
        </label>
      </div>
      <div role="tablist" aria-label="Result views" className="tabs">
        {tabs.map(([id, name]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} onClick={() => setTab(id)}>
            {name}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={tabs.find((t) => t[0] === tab)![1]}>
        {!d ? (
          <p className="muted">Loading…</p>
        ) : tab === 'results' ? (
          <Metrics d={d} />
        ) : tab === 'impact' ? (
          <Impact d={d} />
        ) : tab === 'bias' ? (
          <Bias candidate={candidate} />
        ) : tab === 'predict' ? (
          <Predict candidate={candidate} />
        ) : (
          <Use candidate={candidate} />
        )}
      </div>
    </section>
  )
}

function Metrics({ d }: { d: CandidateDetails }) {
  const m = d.metrics
  const table = m.threshold_table
  const [t, setT] = useState(0.5)
  const row = table?.find((r) => Math.abs(r.threshold - t) < 0.001)
  const keys = ['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'rmse', 'mae', 'r2'].filter((k) => typeof m[k] === 'number')
  const live = row
    ? {
        precision: row.tp + row.fp ? row.tp / (row.tp + row.fp) : 0,
        recall: row.tp + row.fn ? row.tp / (row.tp + row.fn) : 0,
        accuracy: (row.tp + row.tn) / (row.tp + row.tn + row.fp + row.fn)
      }
    : null
  const cm = row ? [[row.tn, row.fp], [row.fn, row.tp]] : m.confusion_matrix
  const classes = useBuilderStore((s) => s.detail!.results!.classes) ?? []
  return (
    <div className="metrics">
      <dl className="metric-cards">
        {keys.map((k) => {
          const v = live && k in live && row ? live[k as keyof typeof live] : (m[k] as number)
          return (
            <div key={k} className="metric" role="group" aria-label={label(k)}>
              <dt>{label(k)}</dt>
              <dd>{v.toFixed(3)}</dd>
              <p>{EXPLAIN[k]}</p>
            </div>
          )
        })}
      </dl>
      {table && (
        <label className="threshold">
          Threshold {t.toFixed(2)}
          <input type="range" min={0} max={1} step={0.01} value={t} aria-label="Threshold" onChange={(e) => setT(Number(e.target.value))} />
          <span className="muted">Rows with a probability at or above the threshold are predicted positive.</span>
        </label>
      )}
      <div className="plots">
        {cm && (
          <table className="confusion" aria-label="Confusion matrix">
            <thead>
              <tr>
                <th>actual ↓ / predicted →</th>
                {cm.map((_, j) => (
                  <th key={j}>{String(classes[j] ?? j)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {cm.map((r, i) => (
                <tr key={i}>
                  <th>{String(classes[i] ?? i)}</th>
                  {r.map((v, j) => (
                    <td key={j} className={i === j ? 'diag' : ''}>
                      {v}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {m.roc_curve && (
          <Plot
            label="ROC curve"
            description="True positive rate against false positive rate as the threshold moves"
            height={220}
            data={[{ type: 'scatter', mode: 'lines', x: m.roc_curve.fpr, y: m.roc_curve.tpr, name: 'ROC' }, { type: 'scatter', mode: 'lines', x: [0, 1], y: [0, 1], name: 'chance', line: { dash: 'dot' } }]}
            layout={{ xaxis: { title: 'false positive rate' }, yaxis: { title: 'true positive rate' } }}
          />
        )}
        {m.pr_curve && (
          <Plot
            label="Precision-recall curve"
            height={220}
            data={[{ type: 'scatter', mode: 'lines', x: m.pr_curve.recall, y: m.pr_curve.precision, name: 'PR' }]}
            layout={{ xaxis: { title: 'recall' }, yaxis: { title: 'precision' } }}
          />
        )}
        {m.residuals && (
          <Plot
            label="Residual plot"
            height={240}
            data={[{ type: 'scatter', mode: 'markers', x: m.residuals.predicted, y: m.residuals.residual, marker: { size: 4 } }]}
            layout={{ xaxis: { title: 'predicted' }, yaxis: { title: 'actual − predicted' } }}
          />
        )}
      </div>
    </div>
  )
}

function Impact({ d }: { d: CandidateDetails }) {
  const cols = [...d.impact.columns].reverse()
  return (
    <div>
      <p className="muted">How much the test {d.impact.scoring} drops when a column’s values are shuffled ({d.impact.repeats} repeats, 95% interval). Unused columns are not listed.</p>
      <Plot
        label="Column impact"
        height={Math.max(160, 26 * cols.length)}
        data={[{ type: 'bar', orientation: 'h', y: cols.map((c) => c.column), x: cols.map((c) => c.importance), error_x: { type: 'data', symmetric: false, array: cols.map((c) => c.high - c.importance), arrayminus: cols.map((c) => c.importance - c.low) } }]}
        layout={{ margin: { l: 120, r: 12, t: 8, b: 32 } }}
      />
      <ol className="impact-list" aria-label="Columns by impact">
        {d.impact.columns.map((c) => (
          <li key={c.column}>
            {c.column}: {c.importance.toFixed(4)} ({c.low.toFixed(4)} to {c.high.toFixed(4)})
          </li>
        ))}
      </ol>
      <div className="plots">
        {d.partialDependence.map((p) => (
          <Plot key={p.column} label={`Partial dependence on ${p.column}`} height={200} data={[{ type: p.kind === 'numeric' ? 'scatter' : 'bar', x: p.values, y: p.average }]} layout={{ xaxis: { title: p.column }, yaxis: { title: 'average prediction' } }} />
        ))}
      </div>
    </div>
  )
}

function Bias({ candidate }: { candidate: string }) {
  const detail = useBuilderStore((s) => s.detail)!
  const columns = useBuilderStore((s) => s.columns)
  const [col, setCol] = useState('')
  const [rep, setRep] = useState<BiasReport | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const options = (columns?.columns ?? []).filter((c) => c.name !== detail.settings.target && c.distinct <= 50 && c.distinct >= 2)
  const run = async () => {
    setBusy(true)
    setErr(null)
    try {
      setRep(await call('builder.bias', { buildId: detail.id, candidate, column: col }))
    } catch (e) {
      setErr(message(e))
    } finally {
      setBusy(false)
    }
  }
  const f = (v: number | null) => (v === null ? '—' : v.toFixed(3))
  return (
    <div>
      <div className="row">
        <label>
          Sensitive column
          <select value={col} onChange={(e) => setCol(e.target.value)}>
            <option value="">Choose…</option>
            {options.map((c) => (
              <option key={c.name}>{c.name}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void run()} disabled={!col || busy}>
          Run bias report
        </button>
      </div>
      {err && <p role="alert">{err}</p>}
      {rep && (
        <>
          <table className="stats-table" aria-label={`Bias report on ${rep.column}`}>
            <thead>
              <tr>
                <th>Group</th>
                <th className="num">Size</th>
                <th className="num">Positive rate</th>
                <th className="num">Predicted positive rate</th>
                <th className="num">Accuracy</th>
                <th className="num">Recall</th>
                <th className="num" title={rep.metrics.CI}>CI</th>
                <th className="num" title={rep.metrics.DPL}>DPL</th>
                <th className="num" title={rep.metrics.DI}>DI</th>
                <th className="num" title={rep.metrics.DPPL}>DPPL</th>
                <th className="num" title={rep.metrics.equal_opportunity_difference}>Equal opportunity difference</th>
              </tr>
            </thead>
            <tbody>
              {rep.groups.map((g) => (
                <tr key={g.group}>
                  <th>{g.group}</th>
                  <td className="num">{g.size}</td>
                  <td className="num">{f(g.positive_rate)}</td>
                  <td className="num">{f(g.predicted_positive_rate)}</td>
                  <td className="num">{f(g.accuracy)}</td>
                  <td className="num">{f(g.recall)}</td>
                  <td className="num">{f(g.CI)}</td>
                  <td className="num">{f(g.DPL)}</td>
                  <td className="num">{f(g.DI)}</td>
                  <td className="num">{f(g.DPPL)}</td>
                  <td className="num">{f(g.equal_opportunity_difference)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ul className="muted">
            {Object.entries(rep.metrics).map(([k, v]) => (
              <li key={k}>
                <strong>{k}</strong>: {v}
              </li>
            ))}
          </ul>
          {rep.artifact && <p className="muted">Saved on the run as {rep.artifact}.</p>}
        </>
      )}
    </div>
  )
}

function Predict({ candidate }: { candidate: string }) {
  const detail = useBuilderStore((s) => s.detail)!
  const res = detail.results!
  const [row, setRow] = useState<Record<string, string | number | null>>(() => ({ ...res.baseline }))
  const [pred, setPred] = useState<Prediction | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const seq = useRef(0)
  const options = useBuilderStore((s) => s.columns)
  const cats = useMemo(() => new Map((options?.columns ?? []).map((c) => [c.name, c.histogram.map((h) => h.label)])), [options])
  useEffect(() => {
    const mine = ++seq.current
    const t = setTimeout(() => {
      call('builder.predict', { buildId: detail.id, candidate, row }).then(
        (p) => mine === seq.current && (setPred(p), setErr(null)),
        (e) => mine === seq.current && setErr(message(e))
      )
    }, 150)
    return () => clearTimeout(t)
  }, [row, candidate, detail.id])
  return (
    <div className="predict">
      <form className="predict-form" aria-label="Prediction form" onSubmit={(e) => e.preventDefault()}>
        {res.features.map((f) => (
          <label key={f}>
            {f}
            {res.kinds[f] === 'numeric' ? (
              <input type="number" value={row[f] ?? ''} onChange={(e) => setRow({ ...row, [f]: e.target.value === '' ? null : Number(e.target.value) })} />
            ) : (
              <input list={`opts-${f}`} value={row[f] ?? ''} onChange={(e) => setRow({ ...row, [f]: e.target.value })} />
            )}
            {res.kinds[f] !== 'numeric' && (
              <datalist id={`opts-${f}`}>
                {(cats.get(f) ?? []).map((o) => (
                  <option key={o} value={o} />
                ))}
              </datalist>
            )}
          </label>
        ))}
      </form>
      <div className="prediction" role="status" aria-label="Prediction">
        {err && <p role="alert">{err}</p>}
        {pred && (
          <>
            <p className="big">
              Prediction: <strong>{String(pred.prediction)}</strong>
              {pred.probability !== undefined && (
                <>
                  {' '}
                  · probability <strong aria-label="Probability">{pred.probability.toFixed(3)}</strong>
                </>
              )}
            </p>
            <p className="muted">Compared with the typical row, these columns pushed the prediction up (+) or down (−):</p>
            <ul className="contrib" aria-label="Contributions">
              {pred.contributions
                .filter((c) => Math.abs(c.contribution) > 1e-6)
                .map((c) => (
                  <li key={c.column} className={c.contribution > 0 ? 'up' : 'down'}>
                    {c.column}: {c.contribution > 0 ? '+' : '−'}
                    {Math.abs(c.contribution).toFixed(3)}
                  </li>
                ))}
            </ul>
          </>
        )}
      </div>
    </div>
  )
}

function Use({ candidate }: { candidate: string }) {
  const detail = useBuilderStore((s) => s.detail)!
  const [table, setTable] = useState(detail.table)
  const [output, setOutput] = useState(`${detail.table.replace(/\W+/g, '_')}_scored`)
  const [model, setModel] = useState(detail.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'))
  const [msg, setMsg] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [registered, setRegistered] = useState<{ name: string; version: number } | null>(null)
  const act = async (f: () => Promise<string>) => {
    setBusy(true)
    setMsg(null)
    try {
      setMsg(await f())
    } catch (e) {
      setMsg(message(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="use">
      <fieldset>
        <legend>Batch predict</legend>
        <label>
          Table to score
          <input value={table} onChange={(e) => setTable(e.target.value)} />
        </label>
        <label>
          New table name
          <input value={output} onChange={(e) => setOutput(e.target.value)} />
        </label>
        <button type="button" disabled={busy} onClick={() => void act(async () => {
          const r = await call('builder.batchPredict', { buildId: detail.id, candidate, table, output })
          return `Scored ${r.rows.toLocaleString()} rows into the Data room table ${r.table}.`
        })}>
          Batch predict
        </button>
      </fieldset>
      <fieldset>
        <legend>Registry</legend>
        <label>
          Registered model name
          <input value={model} onChange={(e) => setModel(e.target.value)} />
        </label>
        <button type="button" disabled={busy} onClick={() => void act(async () => {
          const r = await call('builder.register', { buildId: detail.id, candidate, modelName: model })
          setRegistered({ name: r.name, version: r.version })
          return `Registered ${r.name} version ${r.version} with a model card draft; fill in its intended use, then request review.`
        })}>
          Register model
        </button>
      </fieldset>
      {registered && <Deploy model={registered.name} version={registered.version} />}
      <fieldset>
        <legend>Reproduce</legend>
        <button type="button" disabled={busy} onClick={() => void act(async () => {
          const { path } = await call('builder.notebook', { buildId: detail.id, candidate })
          await openInNotebooks(path)
          return `Notebook written to ${path}`
        })}>
          Open as notebook
        </button>
      </fieldset>
      {msg && <p role="status">{msg}</p>}
    </div>
  )
}

/** Opens a notebook file in the Notebooks room (the room is switched to once the file is loaded). */
async function openInNotebooks(path: string): Promise<void> {
  const { useNotebookStore } = await import('../notebooks/useNotebookStore')
  const nb = useNotebookStore.getState()
  await nb.openNotebook(path)
  const err = useNotebookStore.getState().error
  if (useNotebookStore.getState().doc?.path !== path && err) throw new Error(err)
  void nb.refreshFiles()
  useCommandStore.getState().run('room.notebooks')
}

/** Serves a registered version as an endpoint and follows its state until it answers. */
function Deploy({ model, version }: { model: string; version: number }) {
  const [name, setName] = useState(endpointName(model))
  const [endpoint, setEndpoint] = useState<EndpointInfo | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    if (!endpoint) return
    return onEvent('endpoint.changed', (e) => {
      if (e.name === endpoint.name) setEndpoint(e)
    })
  }, [endpoint?.name])
  const deploy = async () => {
    setBusy(true)
    setErr(null)
    try {
      setEndpoint((await call('endpoints.deploy', { name, model, version })).endpoint)
    } catch (e) {
      setErr(message(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <fieldset>
      <legend>Deploy</legend>
      <label>
        Endpoint name
        <input value={name} onChange={(e) => setName(e.target.value)} disabled={!!endpoint} />
      </label>
      <button type="button" disabled={busy || !!endpoint || !name} onClick={() => void deploy()}>
        Deploy {model} v{version}
      </button>
      {err && <p role="alert">{err}</p>}
      {endpoint && (
        <div className="endpoint-state" role="group" aria-label="Endpoint">
          <span>
            Endpoint <strong>{endpoint.name}</strong>{' '}
            <span className={`state state-${endpoint.state}`} aria-label="Endpoint state">
              {endpoint.state}
            </span>
            {endpoint.error ? ` (${endpoint.error})` : ''}
          </span>
          <code aria-label="Endpoint URL">{endpoint.url}</code>
          <button
            type="button"
            onClick={() => openEndpoint(endpoint.name)}
          >
            Open in Endpoints
          </button>
        </div>
      )}
    </fieldset>
  )
}

/** An endpoint name from a model name: lowercase letters, digits and dashes. */
function endpointName(model: string): string {
  return model.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 64).replace(/-+$/, '') || 'model'
}
