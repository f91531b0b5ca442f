import { useCallback, useEffect, useState } from 'react'
import type { AuditEvent, AuditVerification } from '../../../../shared/registry'
import { call } from '../../api/client'
import { formatTime } from '../models/logic'
import { download, errorText, useCan } from '../models/widgets'

const PAGE = 200

/** Before and after of an event, folded away until asked for. */
function Change({ e }: { e: AuditEvent }) {
  if (e.before == null && e.after == null) return null
  const show = (x: unknown) => (x == null ? '—' : JSON.stringify(x, null, 1))
  return (
    <details className="rev-change">
      <summary>Before / after</summary>
      <div className="rev-change-body">
        <pre className="mono">{show(e.before)}</pre>
        <pre className="mono">{show(e.after)}</pre>
      </div>
    </details>
  )
}

/** The audit trail: newest first, filterable by actor and entity; verification and export. */
export function AuditView() {
  const [events, setEvents] = useState<AuditEvent[]>([])
  const [next, setNext] = useState<number | null>(null)
  const [total, setTotal] = useState(0)
  const [actor, setActor] = useState('')
  const [entity, setEntity] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [verify, setVerify] = useState<AuditVerification | null>(null)
  const [verifying, setVerifying] = useState(false)
  const canExport = useCan('admin')

  const load = useCallback(
    async (before?: number) => {
      try {
        const p = await call('audit.list', { actor: actor.trim() || undefined, entity: entity.trim() || undefined, beforeSeq: before, limit: PAGE })
        setEvents((old) => (before ? [...old, ...p.events] : p.events))
        setNext(p.nextBeforeSeq)
        setTotal(p.total)
        setError(null)
      } catch (e) {
        setError(errorText(e))
      }
    },
    [actor, entity]
  )
  useEffect(() => {
    void load()
  }, [load])

  const runVerify = async () => {
    setVerifying(true)
    try {
      setVerify(await call('audit.verify', {}))
      setError(null)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setVerifying(false)
    }
  }
  const exportAs = async (format: 'jsonl' | 'csv') => {
    try {
      const x = await call('audit.export', { format })
      download(x.fileName, x.mimeType, x.content)
    } catch (e) {
      setError(errorText(e))
    }
  }

  return (
    <section className="reg-page" aria-label="Audit trail">
      <header className="reg-head">
        <h2>Audit trail</h2>
        <span className="muted" role="status">
          {total.toLocaleString()} events
        </span>
        <input type="search" aria-label="Filter by actor" placeholder="Actor" value={actor} onChange={(e) => setActor(e.target.value)} />
        <input type="search" aria-label="Filter by entity" placeholder="Entity, e.g. fraud/3" value={entity} onChange={(e) => setEntity(e.target.value)} />
        <span className="spacer" />
        <button type="button" className="btn small" onClick={() => void runVerify()} disabled={verifying}>
          Verify audit trail
        </button>
        {canExport && (
          <>
            <button type="button" className="btn small" onClick={() => void exportAs('jsonl')}>
              Export JSON Lines
            </button>
            <button type="button" className="btn small" onClick={() => void exportAs('csv')}>
              Export CSV
            </button>
          </>
        )}
      </header>
      {verify && (
        <div role="status" aria-label="Verification result" className={verify.ok ? 'success-box rev-verify' : 'error-box rev-verify'}>
          {verify.ok ? (
            <>
              <strong>OK</strong>: {verify.checked.toLocaleString()} events verified; the chain is intact (head {verify.headHash?.slice(0, 12) ?? '—'}).
            </>
          ) : (
            <>
              <strong>Broken</strong> at event #{verify.firstBroken?.seq}: {verify.firstBroken?.reason} ({verify.checked.toLocaleString()} events checked)
            </>
          )}
        </div>
      )}
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      <div className="reg-table-wrap">
        <table className="stats-table reg-table" aria-label="Audit events">
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Entity</th>
              <th scope="col">Comment</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} className={verify?.firstBroken?.seq === e.seq ? 'rev-broken' : ''}>
                <td className="num mono">{e.seq}</td>
                <td>{formatTime(e.time, true)}</td>
                <td>{e.actor.name}</td>
                <td className="mono">{e.action}</td>
                <td className="mono">{e.entity}</td>
                <td className="reg-wrap">{e.comment}</td>
                <td>
                  <Change e={e} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.length === 0 && !error && <p className="empty-note muted">No events.</p>}
        {next !== null && (
          <button type="button" className="btn small rev-more" onClick={() => void load(next)}>
            Load older events
          </button>
        )}
      </div>
    </section>
  )
}
