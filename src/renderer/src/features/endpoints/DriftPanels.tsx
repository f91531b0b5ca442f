/** The endpoint page's drift monitoring: baseline, checks, alerts, and the backtest over past traffic. */
import { useCallback, useEffect, useState } from 'react'
import { BACKTEST_PERIODS, type BacktestResult, type EndpointInfo, type MonitorInfo } from '../../../../shared/endpoints'
import { call, onEvent } from '../../api/client'
import { Plot } from '../../components/Plot'
import { errorText } from '../../lib/errors'

export function DriftPanel({ endpoint: e }: { endpoint: EndpointInfo }) {
  const [m, setM] = useState<MonitorInfo | null>(null)
  const [table, setTable] = useState('')
  const [consecutive, setConsecutive] = useState(3)
  const [webhook, setWebhook] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [note, setNote] = useState<string | null>(null)
  const load = useCallback(() => {
    void call('endpoints.drift.get', { name: e.name }).then(
      (x) => {
        setM(x)
        if (x.table) setTable((t) => t || x.table!)
        setConsecutive(x.consecutive)
        setWebhook((w) => w || (x.webhookUrl ?? ''))
      },
      (err) => setError(errorText(err))
    )
  }, [e.name])
  useEffect(() => {
    load()
    const off = onEvent('endpoint.alarm', (a) => a.name === e.name && load())
    return off
  }, [e.name, load])
  const run = async (f: () => Promise<MonitorInfo>) => {
    setError(null)
    try {
      setM(await f())
    } catch (err) {
      setError(errorText(err))
    }
  }
  const history = m?.history ?? []
  const names = m?.features.map((f) => f.name) ?? []
  const psiTraces = names.map((n) => ({
    type: 'scatter' as const,
    mode: 'lines+markers',
    name: n,
    x: history.map((w) => new Date(w.to)),
    y: history.map((w) => w.features.find((f) => f.name === n)?.psi ?? null)
  }))
  return (
    <section className="endpoint-section drift-panel" aria-label="Drift">
      <h3>Drift monitoring</h3>
      {m?.alarmFiring && (
        <div role="alert" aria-label="Drift alarm" className="error-box small">
          Drift alarm: {m.consecutive} consecutive windows drifted from the baseline ({m.table}).
        </div>
      )}
      <div className="variant-controls">
        <label>
          Training table
          <input value={table} onChange={(ev) => setTable(ev.target.value)} aria-label="Baseline table" placeholder="a Data room table" />
        </label>
        <button type="button" className="btn small" disabled={!table} onClick={() => void run(() => call('endpoints.drift.baseline', { name: e.name, table }))}>
          Compute baseline
        </button>
        <label>
          Alarm after N windows
          <input type="number" min={1} max={100} value={consecutive} onChange={(ev) => setConsecutive(Number(ev.target.value))} aria-label="Alarm after N windows" />
        </label>
        <label>
          Webhook URL
          <input value={webhook} onChange={(ev) => setWebhook(ev.target.value)} aria-label="Webhook URL" placeholder="optional" />
        </label>
        <button
          type="button"
          className="btn small"
          onClick={() => void run(() => call('endpoints.drift.configure', { name: e.name, consecutive, webhookUrl: webhook.trim() ? webhook.trim() : null }))}
        >
          Save alarm
        </button>
        <button
          type="button"
          className="btn small"
          disabled={!m?.baselineRows}
          onClick={() =>
            void run(async () => {
              const r = await call('endpoints.drift.check', { name: e.name })
              setNote(r.window ? null : 'No new captured requests since the last check (turn capture on).')
              return r.monitor
            })
          }
        >
          Check now
        </button>
      </div>
      {m?.baselineRows ? (
        <p className="muted">
          Baseline: {m.table}, {m.baselineRows.toLocaleString()} rows, features {names.join(', ')}; checked every {m.windowMinutes} min.
        </p>
      ) : (
        <p className="muted">No baseline yet: name the table the model was trained on.</p>
      )}
      {note && <p role="status">{note}</p>}
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {history.length > 0 && (
        <>
          <table className="endpoints-table" aria-label="Drift windows">
            <thead>
              <tr>
                <th>Window end</th>
                <th>Rows</th>
                <th>Drifted features</th>
                <th>Alarm</th>
              </tr>
            </thead>
            <tbody>
              {[...history].reverse().slice(0, 10).map((w) => (
                <tr key={w.to}>
                  <td>{new Date(w.to).toLocaleTimeString()}</td>
                  <td>{w.rows}</td>
                  <td>
                    {w.features
                      .filter((f) => f.drifted)
                      .map((f) => `${f.name} (PSI ${f.psi.toFixed(2)}${f.ks !== null ? `, KS ${f.ks.toFixed(2)}` : ''}, q ${f.qValue.toExponential(1)})`)
                      .join('; ') || (w.violations.length ? w.violations.join('; ') : '—')}
                  </td>
                  <td>{w.alarm ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Plot label="PSI per feature over windows" data={psiTraces} height={180} layout={{ yaxis: { title: { text: 'PSI' } }, margin: { t: 10, b: 30, l: 40, r: 10 } }} />
        </>
      )}
      {m?.baselineRows ? <BacktestPanel name={e.name} consecutive={m.consecutive} /> : null}
    </section>
  )
}

/** Runs the alarm rule over history (a table split by a time column) to see when it would have fired. */
function BacktestPanel({ name, consecutive }: { name: string; consecutive: number }) {
  const [table, setTable] = useState('')
  const [timeColumn, setTimeColumn] = useState('')
  const [period, setPeriod] = useState<(typeof BACKTEST_PERIODS)[number]>('month')
  const [n, setN] = useState(consecutive)
  const [result, setResult] = useState<BacktestResult | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => setN(consecutive), [consecutive])
  const run = async () => {
    setBusy(true)
    setError(null)
    try {
      setResult(await call('endpoints.drift.backtest', { name, table, timeColumn, period, consecutive: n }))
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  const windows = result?.windows ?? []
  const features = windows[0]?.features.map((f) => f.name) ?? []
  const x = windows.map((w) => w.period.slice(0, 10))
  const psiMax = Math.max(0.01, ...windows.flatMap((w) => w.features.map((f) => f.psi)))
  const traces = [
    ...features.map((f) => ({
      type: 'scatter' as const,
      mode: 'lines+markers',
      name: `${f} PSI`,
      x,
      y: windows.map((w) => w.features.find((g) => g.name === f)?.psi ?? null)
    })),
    ...(['fired', 'cleared'] as const).map((a) => ({
      type: 'scatter' as const,
      mode: 'markers',
      name: `alarm ${a}`,
      marker: { symbol: a === 'fired' ? 'triangle-up' : 'circle-open', size: 14, color: a === 'fired' ? '#d62728' : '#2ca02c' },
      x: windows.filter((w) => w.alarm === a).map((w) => w.period.slice(0, 10)),
      y: windows.filter((w) => w.alarm === a).map(() => psiMax * 1.08)
    }))
  ]
  // the periods the alarm is up, shaded
  const shapes = windows.flatMap((w, i) =>
    w.firing ? [{ type: 'rect', xref: 'x', yref: 'paper', x0: i - 0.5, x1: i + 0.5, y0: 0, y1: 1, fillcolor: 'rgba(214,39,40,0.12)', line: { width: 0 }, layer: 'below' }] : []
  )
  return (
    <section className="backtest" aria-label="Backtest">
      <h4>Backtest the alarm rule on history</h4>
      <div className="variant-controls">
        <label>
          History table
          <input value={table} onChange={(ev) => setTable(ev.target.value)} aria-label="History table" placeholder="a Data room table" />
        </label>
        <label>
          Time column
          <input value={timeColumn} onChange={(ev) => setTimeColumn(ev.target.value)} aria-label="Time column" placeholder="e.g. event_time" />
        </label>
        <label>
          Split by
          <select value={period} onChange={(ev) => setPeriod(ev.target.value as (typeof BACKTEST_PERIODS)[number])} aria-label="Split by">
            {BACKTEST_PERIODS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Alarm after N periods
          <input type="number" min={1} max={100} value={n} onChange={(ev) => setN(Number(ev.target.value))} aria-label="Backtest N" />
        </label>
        <button type="button" className="btn small" disabled={!table || !timeColumn || busy} onClick={() => void run()}>
          {busy ? 'Backtesting…' : 'Run backtest'}
        </button>
      </div>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {result && (
        <>
          <p role="status" aria-label="Backtest summary">
            {windows.length} {result.period}s of {result.table}: the alarm (after {result.consecutive} drifted in a row) would have fired{' '}
            {windows.filter((w) => w.alarm === 'fired').length} time(s)
            {windows.some((w) => w.alarm === 'fired') ? `, first in ${windows.find((w) => w.alarm === 'fired')!.period.slice(0, 10)}` : ''}.
          </p>
          <table className="endpoints-table" aria-label="Backtest windows">
            <thead>
              <tr>
                <th>Period</th>
                <th>Rows</th>
                {features.map((f) => (
                  <th key={f}>{f} PSI / KS</th>
                ))}
                <th>Drifted</th>
                <th>Alarm</th>
              </tr>
            </thead>
            <tbody>
              {windows.map((w) => (
                <tr key={w.period} className={w.firing ? 'alarm-up' : ''}>
                  <td>{w.period.slice(0, 10)}</td>
                  <td>{w.rows.toLocaleString()}</td>
                  {features.map((f) => {
                    const d = w.features.find((g) => g.name === f)
                    return (
                      <td key={f} className={d?.drifted ? 'drifted' : ''}>
                        {d ? `${d.psi.toFixed(2)}${d.ks !== null ? ` / ${d.ks.toFixed(2)}` : ''}` : '—'}
                      </td>
                    )
                  })}
                  <td>{w.drifted ? 'yes' : 'no'}</td>
                  <td>{w.alarm ?? (w.firing ? 'up' : '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Plot
            label="Backtest PSI per period and alarm"
            data={traces}
            height={220}
            layout={{ shapes, yaxis: { title: { text: 'PSI' } }, xaxis: { type: 'category' }, margin: { t: 10, b: 40, l: 40, r: 10 } }}
          />
        </>
      )}
    </section>
  )
}
