import { useEffect, useState } from 'react'
import type { VersionComparison } from '../../../../shared/registry'
import { call } from '../../api/client'
import { useModelsStore } from './useModelsStore'
import { ApprovalBadge, Markdown, MetricDeltaTable, errorText } from './widgets'

/** Two versions side by side: parameters, metrics (delta = b − a, coloured by direction) and card fields. */
export function CompareView({ a, b }: { a: number; b: number }) {
  const name = useModelsStore((s) => s.selected)!
  const revision = useModelsStore((s) => s.revision)
  const showModel = useModelsStore((s) => s.showModel)
  const [c, setC] = useState<VersionComparison | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    call('registry.compare', { a: { name, version: a }, b: { name, version: b } }).then(
      (x) => alive && (setC(x), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [name, a, b, revision])
  const la = `Version ${a}`
  const lb = `Version ${b}`
  return (
    <section className="reg-page" aria-label={`Compare ${name} versions ${a} and ${b}`}>
      <header className="reg-head">
        <button type="button" className="btn small ghost" onClick={showModel}>
          ← All versions
        </button>
        <h2>
          {name}: version {a} vs version {b}
        </h2>
        {c && (
          <>
            <ApprovalBadge status={c.a.approvalStatus} /> <span className="muted">vs</span> <ApprovalBadge status={c.b.approvalStatus} />
          </>
        )}
      </header>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {!c ? (
        !error && <p className="muted reg-overview">Loading…</p>
      ) : (
        <div className="reg-overview">
          <section className="kv-section">
            <h3>Metrics (delta = {lb} − {la})</h3>
            <MetricDeltaTable
              label="Metric comparison"
              refName={la}
              valueName={lb}
              rows={c.metrics.map((m) => ({ key: m.key, value: m.b, champion: m.a, delta: m.delta, higherIsBetter: m.higherIsBetter }))}
            />
          </section>
          <section className="kv-section">
            <h3>Parameters</h3>
            <table className="stats-table reg-table" aria-label="Parameter comparison">
              <thead>
                <tr>
                  <th scope="col">Parameter</th>
                  <th scope="col">{la}</th>
                  <th scope="col">{lb}</th>
                </tr>
              </thead>
              <tbody>
                {c.params.map((p) => (
                  <tr key={p.key} className={p.same ? '' : 'reg-differs'}>
                    <th scope="row">
                      {p.key}
                      {!p.same && <span className="sr-only"> (differs)</span>}
                    </th>
                    <td className="mono">{p.a ?? '—'}</td>
                    <td className="mono">{p.b ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {c.params.length === 0 && <p className="muted">No parameters.</p>}
          </section>
          <section className="kv-section">
            <h3>Model card</h3>
            <table className="stats-table reg-table reg-card-compare" aria-label="Model card comparison">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">{la}</th>
                  <th scope="col">{lb}</th>
                </tr>
              </thead>
              <tbody>
                {c.card.map((f) => (
                  <tr key={f.field} className={f.same ? '' : 'reg-differs'}>
                    <th scope="row">
                      {f.label}
                      {!f.same && <span className="sr-only"> (differs)</span>}
                    </th>
                    {[f.a, f.b].map((text, i) => (
                      <td key={i} className="reg-wrap">
                        {!text ? <span className="muted">—</span> : f.field === 'riskTier' || f.field === 'owner' ? text : <Markdown source={text} />}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </section>
  )
}
