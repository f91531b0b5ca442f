import { useEffect, useRef, useState } from 'react'
import type { ArtifactPreview as Preview } from '../../../../shared/api'
import type { EvaluationArtifact, ReviewOutcome, ReviewPage as Page } from '../../../../shared/registry'
import { call } from '../../api/client'
import { ArtifactPreview } from '../../components/ArtifactPreview'
import { Field } from '../../components/Field'
import { CardView } from '../models/CardTab'
import { approvalLabel, formatTime, reviewGate } from '../models/logic'
import { useModelsStore } from '../models/useModelsStore'
import { ActionError, ApprovalBadge, MetricDeltaTable, PolicyBadge, RiskBadge, errorText, useCan } from '../models/widgets'
import { PolicyResults, ReviewHistory } from './parts'
import { useReviewsStore } from './useReviewsStore'

/** Evaluation artifacts with their previews (plots and tables inline, the first few loaded at once). */
function Artifacts({ runId, items }: { runId: string | null; items: EvaluationArtifact[] }) {
  const [previews, setPreviews] = useState<Record<string, Preview | string>>({})
  useEffect(() => {
    if (!runId) return
    let alive = true
    for (const a of items.slice(0, 8))
      call('tracking.artifacts.read', { runId, path: a.path }).then(
        (p) => alive && setPreviews((m) => ({ ...m, [a.path]: p })),
        (e: unknown) => alive && setPreviews((m) => ({ ...m, [a.path]: errorText(e) }))
      )
    return () => {
      alive = false
    }
  }, [runId, items])
  if (items.length === 0) return <p className="muted">The source run logged no evaluation artifacts (plots, confusion matrix, explainability or bias reports).</p>
  return (
    <div className="rev-artifacts">
      {items.map((a) => {
        const p = previews[a.path]
        return (
          <figure key={a.path} className="rev-artifact" aria-label={`Artifact ${a.path}`}>
            <figcaption>
              <span className="mono">{a.path}</span> <span className="badge">{a.kind.replace('_', ' ')}</span>
            </figcaption>
            {typeof p === 'string' ? <p className="error-box small">{p}</p> : p ? <ArtifactPreview p={p} /> : <p className="muted">{runId ? 'Loading…' : ''}</p>}
          </figure>
        )
      })}
    </div>
  )
}

function Checklist({ page, onChanged }: { page: Page; onChanged: () => void }) {
  const [items, setItems] = useState(page.checklist.items)
  const canReview = useCan('review')
  const [error, setError] = useState<string | null>(null)
  useEffect(() => setItems(page.checklist.items), [page.checklist.items])
  const toggle = async (itemId: string, checked: boolean) => {
    // shown at once; the server's answer (who ticked it, when) replaces it, an error reverts it
    const before = items
    setItems(items.map((i) => (i.id === itemId ? { ...i, checked } : i)))
    try {
      const c = await call('registry.checklist.set', { name: page.version.name, version: page.version.version, itemId, checked })
      setItems(c.items)
      setError(null)
      onChanged()
    } catch (e) {
      setItems(before)
      setError(errorText(e))
    }
  }
  if (items.length === 0) return <p className="muted">No checklist items are configured.</p>
  return (
    <>
      <ul className="rev-checklist" aria-label="Checklist">
        {items.map((i) => (
          <li key={i.id}>
            <label>
              <input type="checkbox" checked={i.checked} disabled={!canReview} onChange={(e) => void toggle(i.id, e.target.checked)} /> {i.label}
            </label>
            {i.checkedBy && (
              <span className="muted">
                {' '}
                ✓ {i.checkedBy.name}, {formatTime(i.checkedAt)}
              </span>
            )}
          </li>
        ))}
      </ul>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
    </>
  )
}

function outcomeText(o: ReviewOutcome): string {
  const s = o.version.approvalStatus
  if (s === 'PendingManualApproval') return `Your approval is recorded (${o.approvals} of ${o.requiredApprovals}); the version stays Pending until the next reviewer approves.`
  return `${o.version.name} version ${o.version.version} is now ${approvalLabel(s)}.`
}

/** `reloading`: a fresher page is on its way; deciding now would send the revision being replaced. */
function Decision({ page, onDone, reloading }: { page: Page; onDone: () => void; reloading: boolean }) {
  const [comment, setComment] = useState('')
  const [alias, setAlias] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [outcome, setOutcome] = useState<string | null>(null)
  const v = page.version
  const { pending, canApprove, canReject, reasons } = reviewGate(page, comment)
  const hasComment = comment.trim().length > 0
  const aliases = [...new Set(['champion', 'challenger', ...Object.keys(page.model.aliases)])]
  const act = async (kind: 'approve' | 'reject') => {
    setBusy(true)
    setError(null)
    setOutcome(null)
    try {
      const o =
        kind === 'approve'
          ? await call('registry.review.approve', { name: v.name, version: v.version, comment, moveAlias: alias || undefined, expectedRevision: v.revision })
          : await call('registry.review.reject', { name: v.name, version: v.version, comment, expectedRevision: v.revision })
      setOutcome(outcomeText(o))
      setComment('')
      onDone()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="kv-section rev-decision" aria-label="Decision">
      <h3>Decision</h3>
      {outcome && (
        <div role="status" className="success-box">
          {outcome}
        </div>
      )}
      {!pending && !outcome && <p className="muted">This version is {approvalLabel(v.approvalStatus)}; there is nothing to decide.</p>}
      {pending && (
        <>
          {reasons.length > 0 && (
            <ul className="rev-reasons" aria-label="Why approval is not possible">
              {reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          )}
          <Field label="Review comment">
            <textarea rows={4} value={comment} onChange={(e) => setComment(e.target.value)} placeholder="What you checked and why you decide so (required)" />
          </Field>
          <div className="rev-actions">
            <Field label="Move alias" className="inline-field">
              <select value={alias} onChange={(e) => setAlias(e.target.value)}>
                <option value="">Don’t move an alias</option>
                {aliases.map((a) => (
                  <option key={a} value={a}>
                    @{a}
                    {page.model.aliases[a] ? ` (now v${page.model.aliases[a]})` : ''}
                  </option>
                ))}
              </select>
            </Field>
            <span className="spacer" />
            <button type="button" className="btn danger" disabled={busy || reloading || !canReject} onClick={() => void act('reject')}>
              Reject
            </button>
            <button type="button" className="btn primary" disabled={busy || reloading || !canApprove} onClick={() => void act('approve')}>
              Approve
            </button>
          </div>
          {!hasComment && <p className="muted rev-hint">Write a comment to approve or reject.</p>}
        </>
      )}
      <ActionError error={error} onReload={() => (setError(null), onDone())} />
    </section>
  )
}

/** Everything a reviewer needs to judge one version, and the decision. */
export function ReviewPage({ name, version }: { name: string; version: number }) {
  const revision = useReviewsStore((s) => s.revision)
  const closeReview = useReviewsStore((s) => s.closeReview)
  const refresh = useReviewsStore((s) => s.refresh)
  const [page, setPage] = useState<Page | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [reload, setReload] = useState(0)
  const [reloading, setReloading] = useState(false)
  const [stale, setStale] = useState(false)
  const lastChange = useReviewsStore((s) => s.lastChange)
  const shownRevision = useRef<number | null>(null)
  useEffect(() => {
    let alive = true
    setReloading(true)
    call('registry.review.page', { name, version })
      .then(
        (p) => {
          if (!alive) return
          shownRevision.current = p.version.revision
          setPage(p)
          setError(null)
          setStale(false)
        },
        (e: unknown) => alive && setError(errorText(e))
      )
      .finally(() => alive && setReloading(false))
    return () => {
      alive = false
    }
  }, [name, version, revision, reload])
  // Someone (another reviewer, another door) changed this version: say so rather than swap what the
  // reviewer is reading under them; deciding on the old state gets a conflict error from the service.
  useEffect(() => {
    if (!lastChange || lastChange.name !== name || (lastChange.version !== null && lastChange.version !== version)) return
    let alive = true
    call('registry.versions.get', { name, version }).then(
      (v) => alive && shownRevision.current !== null && v.revision !== shownRevision.current && setStale(true),
      () => undefined
    )
    return () => {
      alive = false
    }
  }, [lastChange, name, version])
  // in the same render as the request for it, so that no click lands between the two
  const reloadPage = () => {
    setReloading(true)
    setReload((n) => n + 1)
  }
  const done = () => {
    reloadPage()
    void refresh()
  }
  const card = page?.card.published && page.version.approvalStatus === 'Approved' ? page.card.published : page?.card
  return (
    <section className="reg-page" aria-label={`Review of ${name} version ${version}`}>
      <header className="reg-head">
        <button type="button" className="btn small ghost" onClick={closeReview}>
          ← Queue
        </button>
        <h2>
          Review: {name} · Version {version}
        </h2>
        {page && (
          <>
            <ApprovalBadge status={page.version.approvalStatus} />
            <span className="muted">Risk tier</span> <RiskBadge tier={page.version.riskTier} />
            <span className="muted">Policies</span> <PolicyBadge state={page.policies.state} />
            <span className="muted">
              {page.approvals} of {page.requiredApprovals} approvals
            </span>
          </>
        )}
        <span className="spacer" />
        <button type="button" className="btn small ghost" onClick={() => useModelsStore.getState().reveal(name, version)}>
          Open in Models
        </button>
      </header>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {stale && (
        <div role="alert" className="notice-box rev-stale">
          This version was changed since you opened it (by another reviewer or an edit to its card).
          <button type="button" className="btn small" onClick={reloadPage}>
            Reload review
          </button>
        </div>
      )}
      {!page ? (
        !error && <p className="muted reg-overview">Loading…</p>
      ) : (
        <div className="rev-body">
          <div className="rev-main">
            <section className="kv-section" aria-label="Metrics against the champion">
              <h3>Metrics {page.champion ? `vs champion (version ${page.champion.version})` : '(no champion to compare with)'}</h3>
              <MetricDeltaTable
                label="Metrics against the champion"
                refName={page.champion ? `Champion v${page.champion.version}` : 'Champion'}
                valueName={`Version ${version}`}
                rows={page.metrics}
              />
            </section>
            <section className="kv-section" aria-label="Evaluation artifacts">
              <h3>Evaluation artifacts</h3>
              <Artifacts runId={page.version.runId} items={page.evaluationArtifacts} />
            </section>
            <section className="kv-section" aria-label="Model card">
              <h3>Model card</h3>
              <div className="rev-card">{card && <CardView fields={card.fields} riskTier={card.riskTier} />}</div>
            </section>
          </div>
          <div className="rev-side">
            <Decision page={page} onDone={done} reloading={reloading} />
            <section className="kv-section">
              <h3>Checklist</h3>
              <Checklist page={page} onChanged={() => undefined} />
            </section>
            <section className="kv-section">
              <h3>Policies (evaluated {formatTime(page.policies.evaluatedAt)})</h3>
              <PolicyResults policies={page.policies} />
            </section>
            <section className="kv-section" aria-label="Review history">
              <h3>Earlier reviews</h3>
              <ReviewHistory reviews={page.reviews} />
            </section>
          </div>
        </div>
      )}
    </section>
  )
}
