import { useCallback, useEffect, useState } from 'react'
import type { JobTarget } from '../../../../shared/jobs'
import type { SageMakerPendingPackage } from '../../../../shared/registry'
import { call } from '../../api/client'
import { formatAge, formatTime } from '../models/logic'
import { errorText } from '../models/widgets'

interface TargetPackages {
  target: JobTarget
  packages: SageMakerPendingPackage[]
  error: string | null
}

function PackageRow({ p, onDone }: { p: SageMakerPendingPackage; onDone: () => void }) {
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const label = `${p.group} package ${p.packageVersion}`
  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(true)
    setError(null)
    try {
      await call('registry.sagemaker.review', { target: p.target, packageArn: p.packageArn, decision, comment })
      onDone()
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <tr>
      <td>
        <span title={p.packageArn}>{label}</span>
        {p.description && <div className="muted small">{p.description}</div>}
      </td>
      <td>{p.createdAt ? formatTime(p.createdAt) : ''}</td>
      <td>{p.createdAt ? formatAge(p.createdAt, Date.now()) : ''}</td>
      <td>
        <input aria-label={`Comment for ${label}`} value={comment} onChange={(e) => setComment(e.target.value)} placeholder="Comment (required)" />
        {error && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
      </td>
      <td>
        <button type="button" disabled={busy || comment.trim() === ''} onClick={() => void decide('approve')} aria-label={`Approve ${label}`}>
          Approve
        </button>{' '}
        <button type="button" disabled={busy || comment.trim() === ''} onClick={() => void decide('reject')} aria-label={`Reject ${label}`}>
          Reject
        </button>
      </td>
    </tr>
  )
}

/** SageMaker Model Registry packages waiting for approval on each saved SageMaker target. */
export function SageMakerQueue() {
  const [rows, setRows] = useState<TargetPackages[]>([])
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(async () => {
    try {
      const targets = (await call('jobs.targets.list', {})).filter((t) => t.kind === 'sagemaker')
      const out = await Promise.all(
        targets.map(async (target) => {
          try {
            return { target, packages: await call('registry.sagemaker.pending', { target: target.id }), error: null }
          } catch (e) {
            return { target, packages: [], error: errorText(e) }
          }
        })
      )
      setRows(out)
      setError(null)
    } catch (e) {
      setError(errorText(e))
    }
  }, [])
  useEffect(() => {
    void load()
  }, [load])
  if (!error && rows.length === 0) return null
  return (
    <section className="reg-page" aria-label="SageMaker pending packages">
      <header className="reg-head">
        <h2>SageMaker Model Registry</h2>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </header>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {rows.map(({ target, packages, error: e }) => (
        <div key={target.id} className="reg-table-wrap">
          <header className="reg-head">
            <h3>
              {target.name} <span className="muted small">({target.sagemaker?.region})</span>
            </h3>
          </header>
          {e && (
            <div role="alert" className="error-box small">
              {e}
            </div>
          )}
          <table className="stats-table reg-table" aria-label={`Pending SageMaker packages on ${target.name}`}>
            <thead>
              <tr>
                <th scope="col">Model package</th>
                <th scope="col">Created</th>
                <th scope="col">Waiting</th>
                <th scope="col">Comment</th>
                <th scope="col">Decision</th>
              </tr>
            </thead>
            <tbody>
              {packages.map((p) => (
                <PackageRow key={p.packageArn} p={p} onDone={() => void load()} />
              ))}
            </tbody>
          </table>
          {packages.length === 0 && !e && <p className="empty-note muted">No SageMaker package is waiting for approval.</p>}
        </div>
      ))}
    </section>
  )
}
