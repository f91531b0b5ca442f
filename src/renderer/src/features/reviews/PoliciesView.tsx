import { useEffect, useState } from 'react'
import type { PolicyList } from '../../../../shared/registry'
import { call } from '../../api/client'
import { errorText } from '../models/widgets'

/** The policy rules in force (workspace first, then the global set), and the files or rules that are broken. */
export function PoliciesView() {
  const [list, setList] = useState<PolicyList | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [reload, setReload] = useState(0)
  useEffect(() => {
    let alive = true
    call('registry.policies.list', {}).then(
      (l) => alive && (setList(l), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [reload])
  const broken = list ? list.errors.length + list.rules.filter((r) => r.error).length : 0
  return (
    <section className="reg-page" aria-label="Policies">
      <header className="reg-head">
        <h2>Policies</h2>
        {list && (
          <span className="muted" role="status">
            {list.rules.length} rules{broken ? `, ${broken} broken` : ''}
          </span>
        )}
        <span className="spacer" />
        <button type="button" className="btn small" onClick={() => setReload((n) => n + 1)}>
          Reload policies
        </button>
      </header>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {list && (
        <div className="reg-overview">
          <p className="muted">
            Read from {list.sources.map((s, i) => <code key={s}>{i ? ', ' : ''}{s}</code>)}. A broken file or rule is reported on every review it could apply to until it is fixed.
          </p>
          {list.errors.map((e) => (
            <div key={`${e.file}:${e.line}`} role="alert" className="error-box small">
              {e.file}, line {e.line}: {e.reason}
            </div>
          ))}
          <table className="stats-table reg-table" aria-label="Policy rules">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Severity</th>
                <th scope="col">Models</th>
                <th scope="col">Risk tiers</th>
                <th scope="col">Expression</th>
                <th scope="col">Message</th>
                <th scope="col">Where</th>
              </tr>
            </thead>
            <tbody>
              {list.rules.map((r) => (
                <tr key={r.id} className={r.error ? 'rev-broken' : ''}>
                  <th scope="row">{r.name}</th>
                  <td>{r.severity}</td>
                  <td className="mono">{r.scope.models}</td>
                  <td>{r.scope.riskTiers?.join(', ') ?? 'all'}</td>
                  <td className="mono reg-wrap">{r.expr}</td>
                  <td className="reg-wrap">{r.error ? `Broken: ${r.error}` : r.message}</td>
                  <td className="mono muted">
                    {r.file.split('/').pop()}:{r.line}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.rules.length === 0 && <p className="empty-note muted">No policy rules.</p>}
        </div>
      )}
    </section>
  )
}
