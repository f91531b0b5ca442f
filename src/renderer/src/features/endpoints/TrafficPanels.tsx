/** The endpoint page's batch prediction over a Data-room table and replay of captured traffic against another version. */
import { useEffect, useState } from 'react'
import type { BatchStatus, EndpointInfo, ReplayResult } from '../../../../shared/endpoints'
import { call, onEvent } from '../../api/client'
import { Plot } from '../../components/Plot'
import { fmtMs } from './format'
import { errorText } from '../../lib/errors'

export function BatchPanel({ endpoint: e }: { endpoint: EndpointInfo }) {
  const [table, setTable] = useState('')
  const [status, setStatus] = useState<BatchStatus | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => onEvent('endpoint.batch', (b) => setStatus((s) => (s && s.batchId === b.batchId ? b : s))), [])
  const start = async () => {
    setError(null)
    try {
      setStatus(await call('endpoints.batch.start', { name: e.name, table }))
    } catch (err) {
      setError(errorText(err))
    }
  }
  const running = status?.state === 'running'
  return (
    <section className="endpoint-section" aria-label="Batch prediction">
      <h3>Batch prediction</h3>
      <div className="variant-controls">
        <label>
          Data room table
          <input value={table} onChange={(ev) => setTable(ev.target.value)} aria-label="Batch table" placeholder="table name" />
        </label>
        <button type="button" className="btn small" disabled={!table || running || e.state !== 'running'} onClick={() => void start()}>
          Run batch
        </button>
        {running && (
          <button type="button" className="btn small" onClick={() => void call('endpoints.batch.cancel', { batchId: status!.batchId })}>
            Cancel batch
          </button>
        )}
      </div>
      {status && (
        <div role="status" aria-label="Batch status" className="batch-status">
          <progress max={Math.max(1, status.rowsTotal)} value={status.rowsDone} aria-label="Batch progress" /> {status.rowsDone.toLocaleString()} / {status.rowsTotal.toLocaleString()} rows ·{' '}
          {status.state}
          {status.table ? ` · result in the Data room as ${status.table}` : ''}
          {status.error ? ` · ${status.error}` : ''}
        </div>
      )}
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
    </section>
  )
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`)
const signed = (v: number | null, f: (x: number) => string) => (v === null ? '—' : `${v > 0 ? '+' : v < 0 ? '−' : '±'}${f(Math.abs(v))}`)

/** Shadow evaluation: the last N captured requests replayed against the last three approved versions. */
export function ReplayPanel({ endpoint: e }: { endpoint: EndpointInfo }) {
  const [n, setN] = useState(200)
  const [labelColumn, setLabelColumn] = useState('')
  const [result, setResult] = useState<ReplayResult | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = async () => {
    setBusy(true)
    setError(null)
    try {
      setResult(await call('endpoints.replay', { name: e.name, n, ...(labelColumn.trim() ? { labelColumn: labelColumn.trim() } : {}) }))
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  const ok = result?.versions.filter((v) => v.state === 'ok') ?? []
  const labels = ok.map((v) => `v${v.version}${v.servedNow ? ' (served)' : ''}`)
  return (
    <section className="endpoint-section" aria-label="Shadow evaluation">
      <h3>Shadow evaluation (replay)</h3>
      <p className="muted">Replays captured requests against the last three approved versions of {e.model}, each on a scoring server started for it.</p>
      <div className="variant-controls">
        <label>
          Last N requests
          <input type="number" min={1} max={10000} value={n} onChange={(ev) => setN(Number(ev.target.value))} aria-label="Replay last N requests" />
        </label>
        <label>
          Label column (optional)
          <input value={labelColumn} onChange={(ev) => setLabelColumn(ev.target.value)} aria-label="Label column" placeholder="sent along with the inputs" />
        </label>
        <button type="button" className="btn small" disabled={busy || n < 1} onClick={() => void run()}>
          {busy ? 'Replaying…' : 'Replay'}
        </button>
      </div>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {result && (
        <>
          <p role="status" aria-label="Replay summary">
            {result.requests} requests ({result.rows} rows) replayed
            {result.labelled ? `; labels from column ${result.labelColumn}, served accuracy ${pct(result.served.accuracy)}` : result.labelColumn ? `; no captured rows carry ${result.labelColumn}` : ''}; served
            p50 {fmtMs(result.served.p50)} through the proxy.
          </p>
          <table className="endpoints-table" aria-label="Replay results">
            <thead>
              <tr>
                <th>Version</th>
                <th>Agreement with served</th>
                <th>Errors</th>
                <th>p50</th>
                <th>p95</th>
                <th>Accuracy (Δ)</th>
                <th>MAE (Δ)</th>
              </tr>
            </thead>
            <tbody>
              {result.versions.map((v) => (
                <tr key={v.version}>
                  <td>
                    Version {v.version}
                    {v.aliases.map((a) => ` @${a}`).join('')}
                    {v.servedNow ? ' · served' : ''}
                  </td>
                  {v.state === 'failed' ? (
                    <td colSpan={6} className="error-text">
                      failed: {v.error}
                    </td>
                  ) : (
                    <>
                      <td>{pct(v.agreement)}</td>
                      <td>{v.errors}</td>
                      <td>{fmtMs(v.p50)}</td>
                      <td>{fmtMs(v.p95)}</td>
                      <td>
                        {pct(v.accuracy)} ({signed(v.accuracyDelta, (x) => `${(x * 100).toFixed(1)} pt`)})
                      </td>
                      <td>
                        {v.mae === null ? '—' : v.mae.toFixed(3)} ({signed(v.maeDelta, (x) => x.toFixed(3))})
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {ok.length > 0 && (
            <Plot
              label="Replay agreement and latency per version"
              data={[
                { type: 'bar', name: 'agreement %', x: labels, y: ok.map((v) => (v.agreement ?? 0) * 100), yaxis: 'y' },
                ...(result.labelled ? [{ type: 'bar' as const, name: 'accuracy %', x: labels, y: ok.map((v) => (v.accuracy ?? 0) * 100), yaxis: 'y' }] : []),
                { type: 'scatter', mode: 'markers', name: 'p50 ms', x: labels, y: ok.map((v) => v.p50), yaxis: 'y2', marker: { size: 12, symbol: 'diamond' } }
              ]}
              height={220}
              layout={{
                barmode: 'group',
                yaxis: { title: { text: '%' }, range: [0, 105] },
                yaxis2: { title: { text: 'p50 ms' }, overlaying: 'y', side: 'right', rangemode: 'tozero' },
                margin: { t: 10, b: 40, l: 40, r: 50 }
              }}
            />
          )}
        </>
      )}
    </section>
  )
}
