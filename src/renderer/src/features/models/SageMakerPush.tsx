/** Pushing a version to SageMaker Model Registry, and where it was pushed (on the version page). */
import { useEffect, useState } from 'react'
import type { JobTarget } from '../../../../shared/jobs'
import { packageGroupName, type ModelVersion, type SageMakerVersionPackage } from '../../../../shared/registry'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { Field } from '../../components/Field'
import { ProgressBar } from '../../components/ProgressBar'
import { formatTime } from './logic'
import { errorText } from './widgets'

const GROUP_RE = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/

function statusLabel(s: string): string {
  return s === 'PendingManualApproval' ? 'Pending manual approval' : s
}

/** The dialog: a SageMaker target and the package group, then the package's ARN and approval status. */
export function PushToSageMakerDialog({ v, onClose, onPushed }: { v: ModelVersion; onClose: () => void; onPushed: () => void }) {
  const [targets, setTargets] = useState<JobTarget[] | null>(null)
  const [target, setTarget] = useState('')
  const [group, setGroup] = useState(packageGroupName(v.name))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState<SageMakerVersionPackage | null>(null)
  useEffect(() => {
    let alive = true
    call('jobs.targets.list', {}).then(
      (all) => {
        if (!alive) return
        const sm = all.filter((t) => t.kind === 'sagemaker')
        setTargets(sm)
        setTarget((cur) => cur || sm[0]?.id || '')
      },
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [])
  const groupOk = GROUP_RE.test(group)
  const chosen = targets?.find((t) => t.id === target)
  const submit = async () => {
    setBusy(true)
    setError(null)
    try {
      setDone(await call('registry.sagemaker.push', { name: v.name, version: v.version, target, group }))
      onPushed()
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <Dialog title={`Push ${v.name} version ${v.version} to SageMaker`} onClose={onClose}>
      <form
        className="dialog-body form"
        onSubmit={(e) => {
          e.preventDefault()
          if (!done) void submit()
        }}
      >
        <p className="muted">
          The model folder is packed as model.tar.gz, uploaded to the target’s bucket and registered as a model package in the group, waiting for manual
          approval in SageMaker Model Registry (reviewed in the Reviews room).
        </p>
        {targets && targets.length === 0 && <p role="note">No SageMaker target is saved yet; add one in the Jobs room (Targets).</p>}
        <Field label="SageMaker target">
          <select value={target} onChange={(e) => setTarget(e.target.value)} disabled={busy || !!done || !targets?.length}>
            {targets?.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        {chosen?.sagemaker && (
          <p className="muted small">
            {chosen.sagemaker.region} · s3://{chosen.sagemaker.bucket}/{(chosen.sagemaker.prefix ?? 'atelier').replace(/^\/+|\/+$/g, '')}/registry/
          </p>
        )}
        <Field label="Model package group">
          <input type="text" value={group} onChange={(e) => setGroup(e.target.value)} disabled={busy || !!done} aria-invalid={!groupOk} />
        </Field>
        {!groupOk && <p className="error-box small">Letters, digits and dashes, up to 63, starting and ending with a letter or digit.</p>}
        {busy && (
          <div className="sm-push-progress">
            <ProgressBar label="Pushing to SageMaker" percent={null} />
            <span className="muted small">Packing and uploading model.tar.gz, then creating the model package…</span>
          </div>
        )}
        {error && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
        {done && (
          <div role="status" className="sm-push-done" aria-label="Pushed model package">
            <div>
              Model package <span className="mono">{done.packageArn}</span>
            </div>
            <div>Approval status: {statusLabel(done.approvalStatus)}</div>
            <div className="muted small mono">{done.modelDataUrl}</div>
          </div>
        )}
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose}>
            {done ? 'Close' : 'Cancel'}
          </button>
          {!done && (
            <button type="submit" className="btn primary" disabled={busy || !target || !groupOk}>
              Push
            </button>
          )}
        </div>
      </form>
    </Dialog>
  )
}

/** Where the version was pushed in SageMaker Model Registry; the statuses are read from SageMaker when shown. */
export function SageMakerPackages({ v, reload }: { v: ModelVersion; reload: number }) {
  const [rows, setRows] = useState<SageMakerVersionPackage[] | null>(null)
  const [targetNames, setTargetNames] = useState<Record<string, string>>({})
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    call('jobs.targets.list', {}).then(
      (all) => alive && setTargetNames(Object.fromEntries(all.map((t) => [t.id, t.name]))),
      () => undefined
    )
    const ref = { name: v.name, version: v.version }
    // stored first (instant, works offline), then refreshed from SageMaker
    call('registry.sagemaker.packages', ref).then(
      (r) => {
        if (!alive) return
        setRows(r)
        setError(null)
        if (r.length > 0)
          call('registry.sagemaker.packages', { ...ref, refresh: true }).then(
            (x) => alive && setRows(x),
            () => undefined
          )
      },
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [v.name, v.version, reload])
  if (error)
    return (
      <div role="alert" className="error-box small">
        {error}
      </div>
    )
  if (!rows || rows.length === 0) return null
  return (
    <section className="kv-section reg-kv" aria-label="SageMaker Model Registry">
      <h3>SageMaker Model Registry</h3>
      <table className="stats-table reg-table" aria-label="SageMaker model packages">
        <thead>
          <tr>
            <th scope="col">Model package</th>
            <th scope="col">Target</th>
            <th scope="col">Approval status</th>
            <th scope="col">Pushed</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.packageArn}>
              <td className="mono">{p.packageArn}</td>
              <td>{targetNames[p.target] ?? p.target}</td>
              <td>
                {statusLabel(p.approvalStatus)}
                {p.approvalDescription && <div className="muted small">“{p.approvalDescription}”</div>}
                {p.refreshError && <div className="muted small" title={p.refreshError}>as last seen ({formatTime(p.updatedAt)}); SageMaker: {p.refreshError}</div>}
              </td>
              <td>
                {formatTime(p.pushedAt)} by {p.pushedBy}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
