import { useCallback, useEffect, useState } from 'react'
import type { EndpointInfo, EndpointMetrics, InvokeResult, SignatureInfo, VariantSpec } from '../../../../shared/endpoints'
import { call, onEvent } from '../../api/client'
import { Plot } from '../../components/Plot'
import { DeployDialog, perHour, useVersions } from './DeployDialog'
import { useEndpointsNav } from './useEndpointsNav'
import { DriftPanel } from './DriftPanels'
import { BatchPanel, ReplayPanel } from './TrafficPanels'
import './endpoints.css'
import { fmtMs } from './format'
import { errorText } from '../../lib/errors'

export function EndpointsRoom() {
  const [list, setList] = useState<EndpointInfo[]>([])
  const [metrics, setMetrics] = useState<Record<string, EndpointMetrics>>({})
  const [selected, setSelected] = useState<string | null>(() => useEndpointsNav.getState().focus)
  const [deploying, setDeploying] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const focus = useEndpointsNav((s) => s.focus)
  useEffect(() => {
    if (!focus) return
    setSelected(focus)
    useEndpointsNav.getState().clear()
  }, [focus])

  const refresh = useCallback(async () => {
    try {
      const l = await call('endpoints.list', {})
      setList(l)
      const ms = await Promise.all(l.map((e) => call('endpoints.metrics', { name: e.name }).catch(() => null)))
      setMetrics(Object.fromEntries(ms.filter((m): m is EndpointMetrics => m !== null).map((m) => [m.name, m])))
    } catch (e) {
      setError(errorText(e))
    }
  }, [])

  useEffect(() => {
    void refresh()
    const off = onEvent('endpoint.changed', (e) => setList((l) => (l.some((x) => x.name === e.name) ? l.map((x) => (x.name === e.name ? { ...e, token: x.token } : x)) : [...l, e])))
    const t = setInterval(() => void refresh(), 3000)
    return () => {
      off()
      clearInterval(t)
    }
  }, [refresh])

  const current = list.find((e) => e.name === selected) ?? null
  return (
    <div className="endpoints-room">
      <section className="endpoints-list" aria-label="Endpoints list">
        <div className="endpoints-bar">
          <h2>Endpoints</h2>
          <button type="button" className="btn primary small" onClick={() => setDeploying(true)}>
            Deploy
          </button>
        </div>
        {error && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
        {list.length === 0 ? (
          <p className="muted">No endpoints yet. Deploy a registered model version to serve it.</p>
        ) : (
          <table className="endpoints-table" aria-label="Endpoints">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>Versions</th>
                <th>Traffic</th>
                <th>p50</th>
                <th>Req/s</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => {
                const m = metrics[e.name]?.variants ?? []
                const req = m.filter((v) => !v.shadow).reduce((a, v) => a + v.rps, 0)
                const p50 = m.find((v) => v.variant === e.variants.find((x) => !x.shadow)?.name)?.p50 ?? null
                return (
                  <tr key={e.name} aria-selected={e.name === selected} className={e.name === selected ? 'selected' : ''}>
                    <td>
                      <button type="button" className="link" onClick={() => setSelected(e.name)} aria-label={`Open endpoint ${e.name}`}>
                        {e.name}
                      </button>
                    </td>
                    <td>
                      <span className={`state state-${e.state}`}>{e.state}</span>
                      {e.sagemaker ? ` SageMaker${e.sagemaker.status ? ` ${e.sagemaker.status}` : ''}` : ''}
                    </td>
                    <td>{e.variants.map((v) => `${e.model} v${v.version}`).join(', ')}</td>
                    <td>{e.variants.map((v) => (v.shadow ? `${v.name}: shadow` : `${v.name}: ${v.weight}%`)).join(' · ')}</td>
                    <td>{fmtMs(p50)}</td>
                    <td>{req.toFixed(2)}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        )}
      </section>
      {current && <EndpointPage key={current.name} endpoint={current} metrics={metrics[current.name] ?? null} onChanged={refresh} onDeleted={() => setSelected(null)} />}
      {deploying && (
        <DeployDialog
          onClose={() => setDeploying(false)}
          onDeployed={(name) => {
            setDeploying(false)
            setSelected(name)
            void refresh()
          }}
        />
      )}
    </div>
  )
}

function EndpointPage({ endpoint: e, metrics, onChanged, onDeleted }: { endpoint: EndpointInfo; metrics: EndpointMetrics | null; onChanged: () => void; onDeleted: () => void }) {
  const [error, setError] = useState<string | null>(null)
  const [showToken, setShowToken] = useState(false)
  const act = async (f: () => Promise<unknown>) => {
    setError(null)
    try {
      await f()
      onChanged()
    } catch (err) {
      setError(errorText(err))
    }
  }
  return (
    <section className="endpoint-page" aria-label={`Endpoint ${e.name}`}>
      <header className="endpoint-head">
        <h2>{e.name}</h2>
        <span className={`state state-${e.state}`} aria-label="State">
          {e.state}
        </span>
        <div className="spacer" />
        {e.state === 'stopped' ? (
          <button type="button" className="btn small" onClick={() => void act(() => call('endpoints.start', { name: e.name }))}>
            Start
          </button>
        ) : (
          <button type="button" className="btn small" onClick={() => void act(() => call('endpoints.stop', { name: e.name }))}>
            Stop
          </button>
        )}
        <button
          type="button"
          className="btn small"
          onClick={() =>
            void act(async () => {
              const what = e.sagemaker ? ` This deletes SageMaker endpoint ${e.sagemaker.endpointName} on ${e.sagemaker.targetName} with its configuration and models.` : ''
              if (!window.confirm(`Delete endpoint ${e.name}?${what}`)) return
              await call('endpoints.delete', { name: e.name })
              onDeleted()
            })
          }
        >
          Delete
        </button>
      </header>
      <dl className="endpoint-facts">
        <dt>URL</dt>
        <dd>
          <code aria-label="Endpoint URL">{e.url}</code>
        </dd>
        <dt>Token</dt>
        <dd>
          <code aria-label="Token">{!e.token ? 'hidden for your role' : showToken ? e.token : '•'.repeat(16)}</code>{' '}
          <button type="button" className="btn ghost small" onClick={() => setShowToken((s) => !s)}>
            {showToken ? 'Hide token' : 'Show token'}
          </button>
          <button type="button" className="btn ghost small" onClick={() => void navigator.clipboard?.writeText(`curl -H 'Authorization: Bearer ${e.token}' -H 'Content-Type: application/json' ${e.url} -d @request.json`)}>
            Copy curl
          </button>
        </dd>
        <dt>Model</dt>
        <dd>
          {e.model}
          {e.alias ? ` (follows @${e.alias})` : ''}
          {e.sagemaker ? '' : ` · Python ${e.interpreter}`}
        </dd>
        {e.sagemaker && (
          <>
            <dt>Where</dt>
            <dd aria-label="Where">
              SageMaker {e.sagemaker.targetName}
              {e.sagemaker.region ? ` (${e.sagemaker.region})` : ''} · endpoint <code>{e.sagemaker.endpointName}</code>
            </dd>
            <dt>SageMaker status</dt>
            <dd>
              <span className={`state state-${e.state}`} aria-label="SageMaker status">
                {e.sagemaker.status ?? (e.state === 'stopped' ? 'deleted (stopped)' : 'not known yet')}
              </span>
            </dd>
            <dt>Instances</dt>
            <dd aria-label="Instances">
              {e.sagemaker.instanceType} × {e.sagemaker.instanceCount} per variant
              {e.sagemaker.costPerHour !== null ? ` · ${perHour(e.sagemaker.costPerHour, e.sagemaker.currency)}` : e.sagemaker.pricePerHour === null ? ' · price not in the table' : ''}
            </dd>
          </>
        )}
      </dl>
      {(e.error || error) && (
        <pre role="alert" className="error-box small endpoint-error">
          {error ?? e.error}
        </pre>
      )}
      <Variants endpoint={e} act={act} />
      <div className="endpoint-columns">
        <TestPanel endpoint={e} />
        <MetricsPanel metrics={metrics} />
      </div>
      <BatchPanel endpoint={e} />
      <CapturePanel endpoint={e} act={act} />
      <DriftPanel endpoint={e} />
      <ReplayPanel endpoint={e} />
    </section>
  )
}

function Variants({ endpoint: e, act }: { endpoint: EndpointInfo; act: (f: () => Promise<unknown>) => Promise<void> }) {
  const versions = useVersions(e.model)
  const [version, setVersion] = useState<number | ''>('')
  const [weight, setWeight] = useState(10)
  const [mode, setMode] = useState<'canary' | 'shadow'>('canary')
  const primary = e.variants.find((v) => !v.shadow)
  // SageMaker takes minutes to move an endpoint: answer at once, its status shows the progress
  const managed = e.sagemaker ? { background: true } : {}
  const addVariant = () => {
    if (version === '' || !primary) return
    const keep: VariantSpec[] = e.variants
      .filter((v) => v.name !== mode)
      .map((v) => ({ name: v.name, weight: v.shadow ? 0 : v.name === primary.name && mode === 'canary' ? 100 - weight : v.weight, shadow: v.shadow }))
    const next: VariantSpec[] = [...keep, { name: mode, version, weight: mode === 'shadow' ? 0 : weight, shadow: mode === 'shadow' }]
    if (mode === 'canary') {
      const others = next.filter((v) => !v.shadow && v.name !== primary.name && v.name !== 'canary').reduce((a, v) => a + v.weight, 0)
      next.forEach((v) => {
        if (v.name === primary.name) v.weight = 100 - weight - others
      })
    }
    void act(() => call('endpoints.update', { name: e.name, variants: next, ...managed }))
  }
  return (
    <section className="endpoint-section" aria-label="Variants">
      <h3>Variants</h3>
      <table className="endpoints-table" aria-label="Variants table">
        <thead>
          <tr>
            <th>Variant</th>
            <th>Version</th>
            <th>Traffic</th>
            <th>State</th>
            <th>Server</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {e.variants.map((v) => (
            <tr key={v.name}>
              <td>{v.name}</td>
              <td>
                v{v.version}
                {v.alias ? ` @${v.alias}` : ''}
              </td>
              <td>{v.shadow ? 'shadow (copy)' : `${v.weight}%`}</td>
              <td>
                <span className={`state state-${v.state}`}>{v.state}</span>
                {v.restarts > 0 ? ` (${v.restarts} restarts)` : ''}
              </td>
              <td>
                {v.server === 'sagemaker' && e.sagemaker ? `SageMaker · ${v.instances ?? 0} × ${e.sagemaker.instanceType}` : v.server}
                {v.port ? ` :${v.port}` : ''}
              </td>
              <td>
                {e.variants.length > 1 && (
                  <button type="button" className="btn small" onClick={() => void act(() => call('endpoints.update', { name: e.name, promote: v.name, ...managed }))} aria-label={`Promote ${v.name}`}>
                    Promote
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="variant-controls">
        <label>
          Roll out
          <select value={mode} onChange={(ev) => setMode(ev.target.value as 'canary' | 'shadow')} aria-label="Rollout kind">
            <option value="canary">canary</option>
            {!e.sagemaker && <option value="shadow">shadow</option>}
          </select>
        </label>
        <label>
          Version
          <select value={version} onChange={(ev) => setVersion(ev.target.value === '' ? '' : Number(ev.target.value))} aria-label="Rollout version">
            <option value="">choose…</option>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
        </label>
        {mode === 'canary' && (
          <label>
            Canary traffic %
            <input type="number" min={1} max={100} value={weight} onChange={(ev) => setWeight(Number(ev.target.value))} aria-label="Canary traffic %" />
          </label>
        )}
        <button type="button" className="btn small" disabled={version === ''} onClick={addVariant}>
          Start {mode}
        </button>
        <button type="button" className="btn small" disabled={!e.previous} onClick={() => void act(() => call('endpoints.update', { name: e.name, rollback: true, ...managed }))}>
          Rollback
        </button>
      </div>
    </section>
  )
}

function defaultValue(type: string): string {
  return type === 'string' ? '' : type === 'boolean' ? 'false' : '0'
}

function TestPanel({ endpoint: e }: { endpoint: EndpointInfo }) {
  const [sig, setSig] = useState<SignatureInfo | null>(null)
  const [values, setValues] = useState<Record<string, string>>({})
  const [json, setJson] = useState('')
  const [result, setResult] = useState<InvokeResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const version = e.variants.find((v) => !v.shadow)?.version
  useEffect(() => {
    void call('endpoints.signature', { name: e.name }).then(
      (s) => {
        setSig(s)
        const first = s.example?.[0] ?? {}
        const vals = Object.fromEntries(s.inputs.map((c) => [c.name, first[c.name] !== undefined && first[c.name] !== null ? String(first[c.name]) : defaultValue(c.type)]))
        setValues(vals)
        setJson(JSON.stringify({ dataframe_records: s.example ?? [vals] }, null, 2))
      },
      (err) => setError(errorText(err))
    )
  }, [e.name, version])
  const send = async (body: string) => {
    setBusy(true)
    setError(null)
    try {
      setResult(await call('endpoints.invoke', { name: e.name, body, contentType: 'application/json' }))
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  const fromFields = () => {
    const row = Object.fromEntries(
      (sig?.inputs ?? []).map((c) => {
        const raw = values[c.name] ?? ''
        const num = ['double', 'float', 'long', 'integer'].includes(c.type)
        return [c.name, num ? (raw.trim() === '' ? null : Number(raw)) : c.type === 'boolean' ? raw === 'true' : raw]
      })
    )
    return JSON.stringify({ dataframe_records: [row] })
  }
  return (
    <section className="endpoint-section test-panel" aria-label="Test">
      <h3>Test</h3>
      {sig && sig.inputs.length > 0 ? (
        <form
          className="test-form"
          onSubmit={(ev) => {
            ev.preventDefault()
            void send(fromFields())
          }}
        >
          {sig.inputs.map((c) => (
            <label key={c.name}>
              {c.name} <span className="muted">({c.type})</span>
              <input value={values[c.name] ?? ''} onChange={(ev) => setValues((v) => ({ ...v, [c.name]: ev.target.value }))} aria-label={c.name} inputMode={c.type === 'string' ? 'text' : 'decimal'} />
            </label>
          ))}
          <button type="submit" className="btn primary small" disabled={busy || e.state !== 'running'}>
            Send
          </button>
        </form>
      ) : (
        <p className="muted">The model has no signature; use the JSON request below.</p>
      )}
      <label className="json-editor">
        JSON request
        <textarea value={json} onChange={(ev) => setJson(ev.target.value)} rows={6} spellCheck={false} aria-label="JSON request" />
      </label>
      <button type="button" className="btn small" disabled={busy || e.state !== 'running'} onClick={() => void send(json)}>
        Send JSON
      </button>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {result && (
        <div className="test-result" role="status" aria-label="Prediction">
          <div>
            HTTP {result.status} · {fmtMs(result.latencyMs)}
            {result.variant ? ` · variant ${result.variant}` : ''}
          </div>
          <pre>{JSON.stringify(result.body, null, 2)}</pre>
        </div>
      )}
    </section>
  )
}

function MetricsPanel({ metrics }: { metrics: EndpointMetrics | null }) {
  if (!metrics) return <section className="endpoint-section" aria-label="Metrics" />
  const latency = metrics.variants.map((v) => ({ type: 'scatter' as const, mode: 'lines+markers', name: `${v.variant} p50`, x: v.series.map((p) => new Date(p.t)), y: v.series.map((p) => p.p50) }))
  const p99 = metrics.variants.map((v) => ({ type: 'scatter' as const, mode: 'lines', line: { dash: 'dot' }, name: `${v.variant} p99`, x: v.series.map((p) => new Date(p.t)), y: v.series.map((p) => p.p99) }))
  const now = Date.now()
  const xaxis = { type: 'date', range: [new Date(now - 15 * 60_000), new Date(now)] }
  const rate = metrics.variants.map((v) => ({ type: 'bar' as const, name: v.variant, x: v.series.map((p) => new Date(p.t)), y: v.series.map((p) => p.requests / (metrics.bucketMs / 1000)) }))
  return (
    <section className="endpoint-section" aria-label="Metrics">
      <h3>Metrics (last hour)</h3>
      <table className="endpoints-table" aria-label="Variant metrics">
        <thead>
          <tr>
            <th>Variant</th>
            <th>Requests</th>
            <th>Req/s</th>
            <th>p50</th>
            <th>p95</th>
            <th>p99</th>
            <th>Errors</th>
          </tr>
        </thead>
        <tbody>
          {metrics.variants.map((v) => (
            <tr key={v.variant}>
              <td>{v.variant}</td>
              <td>{v.requests}</td>
              <td>{v.rps.toFixed(2)}</td>
              <td>{fmtMs(v.p50)}</td>
              <td>{fmtMs(v.p95)}</td>
              <td>{fmtMs(v.p99)}</td>
              <td>{(v.errorRate * 100).toFixed(1)}%</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Plot label="Latency per variant" data={[...latency, ...p99]} height={200} layout={{ xaxis, yaxis: { title: { text: 'ms' } }, margin: { t: 10, b: 30, l: 40, r: 10 } }} />
      <Plot label="Requests per second per variant" data={rate} height={160} layout={{ xaxis, barmode: 'stack', yaxis: { title: { text: 'req/s' } }, margin: { t: 10, b: 30, l: 40, r: 10 } }} />
    </section>
  )
}

function CapturePanel({ endpoint: e, act }: { endpoint: EndpointInfo; act: (f: () => Promise<unknown>) => Promise<void> }) {
  const [pct, setPct] = useState(e.capture.samplingPercent || 100)
  const [opened, setOpened] = useState<string | null>(null)
  return (
    <section className="endpoint-section capture-panel" aria-label="Data capture">
      <h3>Data capture</h3>
      <label>
        <input
          type="checkbox"
          checked={e.capture.enabled}
          onChange={(ev) => void act(() => call('endpoints.capture', { name: e.name, enabled: ev.target.checked, samplingPercent: pct }))}
          aria-label="Capture requests"
        />{' '}
        Capture requests
      </label>
      <label>
        Sampling %
        <input
          type="number"
          min={0}
          max={100}
          value={pct}
          onChange={(ev) => setPct(Number(ev.target.value))}
          onBlur={() => e.capture.enabled && void act(() => call('endpoints.capture', { name: e.name, enabled: true, samplingPercent: pct }))}
          aria-label="Sampling %"
        />
      </label>
      <button type="button" className="btn small" onClick={() => void act(async () => setOpened((await call('endpoints.openCapture', { name: e.name })).source))}>
        Open captured data
      </button>
      {opened && <span role="status"> Added to the Data room as {opened}</span>}
    </section>
  )
}
