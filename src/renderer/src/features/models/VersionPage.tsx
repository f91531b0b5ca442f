import { useCallback, useEffect, useState } from 'react'
import type { ArtifactPreview as Preview, TrackingArtifact, TrackingRun } from '../../../../shared/api'
import type { ModelVersion, ReviewPage } from '../../../../shared/registry'
import { call } from '../../api/client'
import { ArtifactPreview } from '../../components/ArtifactPreview'
import { Dialog } from '../../components/Dialog'
import { Field } from '../../components/Field'
import { KeyValueTable } from '../../components/KeyValueTable'
import { useCommandStore } from '../commands/useCommandStore'
import { DeployDialog } from '../endpoints/DeployDialog'
import { useExperimentsStore } from '../experiments/useExperimentsStore'
import { useReviewsStore } from '../reviews/useReviewsStore'
import { CardTab } from './CardTab'
import { LineageTab } from './LineageTab'
import { formatMetric, formatTime } from './logic'
import { useModelsStore, type VersionTab } from './useModelsStore'
import { ActionError, ApprovalBadge, PolicyBadge, RiskBadge, Tabs, errorText, useCan } from './widgets'
import { PolicyResults, ReviewHistory } from '../reviews/parts'
import { PushToSageMakerDialog, SageMakerPackages } from './SageMakerPush'

const TABS: { id: VersionTab; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'card', label: 'Model card' },
  { id: 'lineage', label: 'Lineage' },
  { id: 'reviews', label: 'Reviews' },
  { id: 'files', label: 'Files' }
]

function RequestReviewDialog({ v, onClose, onDone }: { v: ModelVersion; onClose: () => void; onDone: () => void }) {
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = async () => {
    setBusy(true)
    setError(null)
    try {
      await call('registry.review.request', { name: v.name, version: v.version, comment: comment.trim() || undefined, expectedRevision: v.revision })
      onDone()
      onClose()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <Dialog title={`Request review of ${v.name} version ${v.version}`} onClose={onClose}>
      <form
        className="dialog-body form"
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <p className="muted">
          The version enters the review queue. Policies are evaluated now; the risk tier on the model card decides how many reviewers must approve (low:
          approved by policy when every rule passes).
        </p>
        <Field label="Note for reviewers (optional)">
          <textarea rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />
        </Field>
        <ActionError error={error} onReload={() => (onDone(), onClose())} />
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy}>
            Request review
          </button>
        </div>
      </form>
    </Dialog>
  )
}

/** The version's aliases (`champion`, `challenger`…): an alias set here moves from whichever version held it. */
function Aliases({ v, onChanged }: { v: ModelVersion; onChanged: () => void }) {
  const [alias, setAlias] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [deployAlias, setDeployAlias] = useState<string | null>(null)
  const canWrite = useCan('write')
  const run = async (f: () => Promise<unknown>) => {
    try {
      await f()
      setError(null)
      setAlias('')
      onChanged()
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <section className="kv-section reg-kv" aria-label="Aliases">
      <h3>Aliases</h3>
      <div className="reg-alias-row">
        {v.aliases.length === 0 && <span className="muted">None</span>}
        {v.aliases.map((a) => (
          <span key={a} className="reg-alias">
            @{a}{' '}
            {canWrite && (
              <button type="button" className="btn small ghost" aria-label={`Deploy alias ${a}`} onClick={() => setDeployAlias(a)}>
                Deploy
              </button>
            )}
            {canWrite && (
              <button type="button" className="icon-btn small" aria-label={`Remove alias ${a}`} onClick={() => void run(() => call('registry.alias.delete', { name: v.name, alias: a }))}>
                ×
              </button>
            )}
          </span>
        ))}
        {canWrite && (
          <form
            className="reg-alias-form"
            onSubmit={(e) => {
              e.preventDefault()
              if (alias.trim()) void run(() => call('registry.alias.set', { name: v.name, version: v.version, alias: alias.trim() }))
            }}
          >
            <input type="text" aria-label="New alias" placeholder="champion" value={alias} list="reg-alias-suggestions" onChange={(e) => setAlias(e.target.value)} />
            <datalist id="reg-alias-suggestions">
              <option value="champion" />
              <option value="challenger" />
            </datalist>
            <button type="submit" className="btn small" disabled={!alias.trim()}>
              Set alias
            </button>
          </form>
        )}
      </div>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {deployAlias && <DeployDialog initial={{ model: v.name, alias: deployAlias }} offerOpen onClose={() => setDeployAlias(null)} />}
    </section>
  )
}

function Overview({ v, onChanged }: { v: ModelVersion; onChanged: () => void }) {
  const [run, setRun] = useState<TrackingRun | null>(null)
  useEffect(() => {
    if (!v.runId) return setRun(null)
    let alive = true
    call('tracking.run.get', { runId: v.runId }).then(
      (r) => alive && setRun(r),
      () => alive && setRun(null)
    )
    return () => {
      alive = false
    }
  }, [v.runId])
  const openRun = () => {
    if (!run) return
    const exp = useExperimentsStore.getState()
    exp.selectExperiment(run.experimentId)
    exp.showDetails(run.runId)
    useCommandStore.getState().run('room.experiments')
  }
  return (
    <div className="reg-overview">
      <div className="reg-facts">
        <KeyValueTable
          className="reg-kv"
          title="Version"
          entries={[
            ['Status', v.approvalStatus === 'PendingManualApproval' ? 'Pending' : v.approvalStatus === 'None' ? 'Not requested' : v.approvalStatus],
            ['Risk tier', v.riskTier ?? 'not set'],
            ['Created by', v.createdBy.name],
            ['Created', formatTime(v.createdAt)],
            ['Source', v.source],
            ['Run', run ? `${run.runName || run.runId} (${run.status.toLowerCase()})` : (v.runId ?? '—')],
            ['Revision', String(v.revision)]
          ]}
        />
        {run && (
          <button type="button" className="btn small" onClick={openRun}>
            Open source run
          </button>
        )}
      </div>
      {v.description && <p className="reg-desc">{v.description}</p>}
      <Aliases v={v} onChanged={onChanged} />
      <SageMakerPackages v={v} reload={v.revision} />
      <KeyValueTable className="reg-kv" title="Metrics" entries={Object.entries(v.metrics).sort().map(([k, x]) => [k, formatMetric(x)] as [string, string])} />
      <KeyValueTable className="reg-kv" title="Parameters" entries={run ? Object.entries(run.params).sort() : []} />
      <KeyValueTable className="reg-kv" title="Tags" entries={Object.entries(v.tags).sort()} />
    </div>
  )
}

function ReviewsTab({ v, revision }: { v: ModelVersion; revision: number }) {
  const [page, setPage] = useState<ReviewPage | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    call('registry.review.page', { name: v.name, version: v.version }).then(
      (p) => alive && (setPage(p), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [v.name, v.version, revision])
  if (error)
    return (
      <div role="alert" className="error-box">
        {error}
      </div>
    )
  if (!page) return <p className="muted">Loading…</p>
  return (
    <div className="reg-overview">
      <p>
        {page.approvals} of {page.requiredApprovals} approvals in the current round.{' '}
        {v.approvalStatus === 'PendingManualApproval' && (
          <button type="button" className="link-btn" onClick={() => useReviewsStore.getState().reveal(v.name, v.version)}>
            Open in Reviews
          </button>
        )}
      </p>
      <section className="kv-section" aria-label="Policy results">
        <h3>Policies</h3>
        <PolicyResults policies={page.policies} />
      </section>
      <section className="kv-section" aria-label="Review history">
        <h3>Reviews</h3>
        <ReviewHistory reviews={page.reviews} />
      </section>
    </div>
  )
}

function FilesTab({ v }: { v: ModelVersion }) {
  const [dir, setDir] = useState(v.artifactPath)
  const [files, setFiles] = useState<TrackingArtifact[]>([])
  const [preview, setPreview] = useState<Preview | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    if (!v.runId) return
    let alive = true
    call('tracking.artifacts.list', { runId: v.runId, path: dir || undefined }).then(
      (r) => alive && (setFiles(r.files), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [v.runId, dir])
  if (!v.runId) return <p className="muted">The files are at {v.source} (not in this app’s artifact store).</p>
  const open = (f: TrackingArtifact) => {
    if (f.isDir) return setDir(f.path)
    call('tracking.artifacts.read', { runId: v.runId!, path: f.path }).then(setPreview, (e: unknown) => setError(errorText(e)))
  }
  return (
    <div className="reg-overview">
      <p className="mono muted">
        runs:/{v.runId}/{dir}
      </p>
      {dir !== v.artifactPath && (
        <button type="button" className="link-btn" onClick={() => setDir(dir.slice(0, dir.lastIndexOf('/')))}>
          Up one folder
        </button>
      )}
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      <table className="stats-table reg-table" aria-label="Model files">
        <tbody>
          {files.map((f) => (
            <tr key={f.path}>
              <td>
                <button type="button" className="link-btn" onClick={() => open(f)} aria-label={`${f.isDir ? 'Open folder' : 'Preview'} ${f.path}`}>
                  {f.path.split('/').pop()}
                  {f.isDir ? '/' : ''}
                </button>
              </td>
              <td className="num muted">{f.size !== null ? `${f.size.toLocaleString()} B` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {preview && (
        <div className="exp-preview-wrap" role="region" aria-label={`File ${preview.path}`}>
          <div className="muted">
            {preview.path}
            {preview.truncated ? ' (truncated)' : ''}
          </div>
          <ArtifactPreview p={preview} />
        </div>
      )}
    </div>
  )
}

/** One model version: overview, model card, lineage, reviews and files. */
export function VersionPage({ version, tab }: { version: number; tab: VersionTab }) {
  const name = useModelsStore((s) => s.selected)!
  const revision = useModelsStore((s) => s.revision)
  const setTab = useModelsStore((s) => s.setTab)
  const showModel = useModelsStore((s) => s.showModel)
  const [v, setV] = useState<ModelVersion | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [asking, setAsking] = useState(false)
  const [deploying, setDeploying] = useState(false)
  const [pushing, setPushing] = useState(false)
  const [reload, setReload] = useState(0)
  const canWrite = useCan('write')

  const bump = useCallback(() => setReload((n) => n + 1), [])
  useEffect(() => {
    let alive = true
    call('registry.versions.get', { name, version }).then(
      (x) => alive && (setV(x), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [name, version, revision, reload])

  return (
    <section className="reg-page" aria-label={`${name} version ${version}`}>
      <header className="reg-head">
        <button type="button" className="btn small ghost" onClick={showModel}>
          ← All versions
        </button>
        <h2>
          {name} · Version {version}
        </h2>
        {v && <ApprovalBadge status={v.approvalStatus} />}
        {v?.aliases.map((a) => (
          <span key={a} className="reg-alias">
            @{a}
          </span>
        ))}
        {v && (
          <>
            <span className="muted">Risk tier</span> <RiskBadge tier={v.riskTier} /> <span className="muted">Policies</span> <PolicyBadge state={v.policyState} />
          </>
        )}
        <span className="spacer" />
        {v && canWrite && (
          <button type="button" className="btn small" onClick={() => setDeploying(true)}>
            Deploy
          </button>
        )}
        {v && canWrite && v.runId && (
          <button type="button" className="btn small" onClick={() => setPushing(true)}>
            Push to SageMaker…
          </button>
        )}
        {v && canWrite && (v.approvalStatus === 'None' || v.approvalStatus === 'Rejected') && (
          <button type="button" className="btn small primary" onClick={() => setAsking(true)}>
            Request review
          </button>
        )}
      </header>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      <Tabs tabs={TABS} value={tab} onChange={setTab} label="Version views" idPrefix="ver" />
      <div className="reg-panel" role="tabpanel" id={`ver-panel-${tab}`} aria-labelledby={`ver-tab-${tab}`}>
        {!v ? (
          <p className="muted">Loading…</p>
        ) : tab === 'overview' ? (
          <Overview v={v} onChanged={bump} />
        ) : tab === 'card' ? (
          <CardTab v={v} onSaved={(revision) => (setV({ ...v, revision }), bump())} />
        ) : tab === 'lineage' ? (
          <LineageTab v={v} />
        ) : tab === 'reviews' ? (
          <ReviewsTab v={v} revision={revision + reload} />
        ) : (
          <FilesTab v={v} />
        )}
      </div>
      {deploying && v && <DeployDialog initial={{ model: v.name, version: v.version }} offerOpen onClose={() => setDeploying(false)} />}
      {pushing && v && <PushToSageMakerDialog v={v} onClose={() => setPushing(false)} onPushed={bump} />}
      {asking && v && <RequestReviewDialog v={v} onClose={() => setAsking(false)} onDone={bump} />}
    </section>
  )
}
