import { useEffect, useState } from 'react'
import { MODEL_CARD_FIELDS, MODEL_CARD_LABELS, RISK_TIERS, type ModelCard, type ModelCardField, type ModelVersion, type RiskTier } from '../../../../shared/registry'
import { call } from '../../api/client'
import { Field } from '../../components/Field'
import { formatTime } from './logic'
import { ActionError, Markdown, RiskBadge, download, errorText, useCan } from './widgets'

type Draft = Record<ModelCardField, string> & { riskTier: RiskTier | '' }

function draftOf(card: ModelCard): Draft {
  const d = { ...card.fields, riskTier: card.riskTier ?? '' } as Draft
  if (!d.evaluation.trim() && card.suggestedEvaluation) d.evaluation = card.suggestedEvaluation
  return d
}

/** The card's fields as read-only sections (preview, published snapshot, review page). */
export function CardView({ fields, riskTier }: { fields: Record<ModelCardField, string>; riskTier: RiskTier | null }) {
  return (
    <div className="reg-card-view">
      <section className="reg-card-field" aria-label="Risk tier">
        <h3>Risk tier</h3>
        <RiskBadge tier={riskTier} />
      </section>
      {MODEL_CARD_FIELDS.map((f) => (
        <section key={f} className="reg-card-field" aria-label={MODEL_CARD_LABELS[f]}>
          <h3>{MODEL_CARD_LABELS[f]}</h3>
          {f === 'owner' ? <p>{fields[f] || <span className="muted">Not filled in.</span>}</p> : <Markdown source={fields[f] ?? ''} />}
        </section>
      ))}
    </div>
  )
}

function ExportButtons({ v, draft }: { v: ModelVersion; draft: boolean }) {
  const [error, setError] = useState<string | null>(null)
  const exportAs = async (format: 'markdown' | 'html') => {
    try {
      const x = await call('registry.card.export', { name: v.name, version: v.version, format, draft })
      download(x.fileName, x.mimeType, x.content)
      setError(null)
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <>
      <button type="button" className="btn small" onClick={() => void exportAs('markdown')}>
        Export Markdown
      </button>
      <button type="button" className="btn small" onClick={() => void exportAs('html')}>
        Export HTML
      </button>
      {error && (
        <span role="alert" className="error-box small">
          {error}
        </span>
      )}
    </>
  )
}

/**
 * The model card: Markdown fields with a preview while the version is not approved; after approval
 * the published snapshot, read-only, with its content hash.
 */
export function CardTab({ v, onSaved }: { v: ModelVersion; onSaved: (revision: number) => void }) {
  const [card, setCard] = useState<ModelCard | null>(null)
  const [draft, setDraft] = useState<Draft | null>(null)
  const [mode, setMode] = useState<'edit' | 'preview'>('edit')
  const [loadError, setLoadError] = useState<string | null>(null)
  const [saveError, setSaveError] = useState<unknown>(null)
  const [saved, setSaved] = useState(false)
  const [busy, setBusy] = useState(false)
  const [reload, setReload] = useState(0)
  const canWrite = useCan('write')

  useEffect(() => {
    let alive = true
    call('registry.card.get', { name: v.name, version: v.version }).then(
      (c) => alive && (setCard(c), setDraft(draftOf(c)), setLoadError(null)),
      (e: unknown) => alive && setLoadError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [v.name, v.version, v.approvalStatus, reload])

  if (loadError)
    return (
      <div role="alert" className="error-box">
        {loadError}
      </div>
    )
  if (!card || !draft) return <p className="muted">Loading…</p>

  if (v.approvalStatus === 'Approved' && card.published) {
    const p = card.published
    return (
      <div className="reg-card">
        <div className="reg-card-bar">
          <span className="reg-status st-Approved">Published</span>
          <span className="muted">
            {formatTime(p.publishedAt)} · read-only · content hash <code aria-label="Content hash">{p.contentHash}</code>
          </span>
          <span className="spacer" />
          <ExportButtons v={v} draft={false} />
        </div>
        <CardView fields={p.fields} riskTier={p.riskTier} />
      </div>
    )
  }

  if (!canWrite)
    return (
      <div className="reg-card">
        <div className="reg-card-bar">
          <span className="muted">{card.updatedBy ? `Saved by ${card.updatedBy.name}, ${formatTime(card.updatedAt)}` : 'Not filled in yet'} · read-only for your role</span>
          <span className="spacer" />
          <ExportButtons v={v} draft={true} />
        </div>
        <CardView fields={card.fields} riskTier={card.riskTier} />
      </div>
    )

  const set = (k: keyof Draft, value: string) => {
    setSaved(false)
    setDraft({ ...draft, [k]: value })
  }
  const dirty = MODEL_CARD_FIELDS.some((f) => draft[f] !== card.fields[f]) || draft.riskTier !== (card.riskTier ?? '')
  const save = async () => {
    setBusy(true)
    setSaveError(null)
    try {
      const input = Object.fromEntries(MODEL_CARD_FIELDS.map((f) => [f, draft[f]])) as Record<ModelCardField, string>
      const next = await call('registry.card.save', {
        name: v.name,
        version: v.version,
        card: { ...input, ...(draft.riskTier ? { riskTier: draft.riskTier } : {}) },
        expectedRevision: card.revision
      })
      setCard(next)
      setDraft(draftOf(next))
      setSaved(true)
      onSaved(next.revision)
    } catch (e) {
      setSaveError(e)
    } finally {
      setBusy(false)
    }
  }
  const suggestedUsed = !card.fields.evaluation.trim() && card.suggestedEvaluation && draft.evaluation === card.suggestedEvaluation

  return (
    <form
      className="reg-card"
      aria-label="Model card"
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
    >
      <div className="reg-card-bar">
        <div role="group" aria-label="Card view" className="reg-tabs">
          <button type="button" className={`reg-tab ${mode === 'edit' ? 'active' : ''}`} aria-pressed={mode === 'edit'} onClick={() => setMode('edit')}>
            Edit
          </button>
          <button type="button" className={`reg-tab ${mode === 'preview' ? 'active' : ''}`} aria-pressed={mode === 'preview'} onClick={() => setMode('preview')}>
            Preview
          </button>
        </div>
        <span className="muted">{card.updatedBy ? `Saved by ${card.updatedBy.name}, ${formatTime(card.updatedAt)}` : 'Not saved yet'}</span>
        {saved && !dirty && (
          <span role="status" className="reg-saved">
            Saved
          </span>
        )}
        <span className="spacer" />
        <ExportButtons v={v} draft={true} />
        <button type="submit" className="btn small primary" disabled={busy || !dirty}>
          Save card
        </button>
      </div>
      <ActionError error={saveError} onReload={() => (setSaveError(null), setReload((n) => n + 1))} />
      {mode === 'preview' ? (
        <CardView fields={draft} riskTier={draft.riskTier || null} />
      ) : (
        <div className="reg-card-edit">
          <div className="reg-card-row">
            <Field label="Risk tier">
              <select
                value={draft.riskTier}
                disabled={v.approvalStatus === 'PendingManualApproval'}
                title={v.approvalStatus === 'PendingManualApproval' ? 'The risk tier decides how many reviewers approve; it cannot change during a review.' : undefined}
                onChange={(e) => set('riskTier', e.target.value)}
              >
                <option value="">Not set</option>
                {RISK_TIERS.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={MODEL_CARD_LABELS.owner} className="field grow">
              <input type="text" value={draft.owner} onChange={(e) => set('owner', e.target.value)} />
            </Field>
          </div>
          {MODEL_CARD_FIELDS.filter((f) => f !== 'owner').map((f) => (
            <Field key={f} label={MODEL_CARD_LABELS[f]} className="field reg-md-field">
              <textarea className="mono" rows={f === 'evaluation' ? 6 : 4} value={draft[f]} onChange={(e) => set(f, e.target.value)} />
            </Field>
          ))}
          {suggestedUsed && <p className="muted">Evaluation is filled from the source run’s metrics; save the card to keep it.</p>}
        </div>
      )}
    </form>
  )
}
