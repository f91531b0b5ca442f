/** Pieces the Models and Reviews rooms share: tabs, status badges, markdown, metric deltas, downloads. */
import { useMemo, type KeyboardEvent } from 'react'
import type { ApprovalStatus, MetricComparison, PolicyState, RiskTier } from '../../../../shared/registry'
import { RemoteError } from '../../../../shared/errors'
import { roleCan, type Permission } from '../../../../shared/permissions'
import { useSessionStore } from '../auth/session'
import { renderMarkdown } from '../notebooks/markdown'
import { approvalLabel, deltaTone, formatDelta, formatMetric } from './logic'
import { errorText } from '../../lib/errors'

/** Whether the signed-in user's role allows `permission` (always on the desktop, where nobody signs in). */
export function useCan(permission: Permission): boolean {
  const principal = useSessionStore((s) => s.principal)
  return !principal || roleCan(principal.role, permission)
}

export { errorText }

/** Another caller changed the version since it was read (optimistic concurrency). */
export function isConflict(e: unknown): boolean {
  return e instanceof RemoteError && e.code === 'REGISTRY_CONFLICT'
}

/** Tabs with arrow-key movement; panels are rendered by the caller with id `${idPrefix}-panel-${tab}`. */
export function Tabs<T extends string>({
  tabs,
  value,
  onChange,
  label,
  idPrefix
}: {
  tabs: { id: T; label: string }[]
  value: T
  onChange: (t: T) => void
  label: string
  idPrefix: string
}) {
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return
    e.preventDefault()
    const i = tabs.findIndex((t) => t.id === value)
    const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]
    onChange(next.id)
    document.getElementById(`${idPrefix}-tab-${next.id}`)?.focus()
  }
  return (
    <div role="tablist" aria-label={label} className="reg-tabs" onKeyDown={onKey}>
      {tabs.map((t) => (
        <button
          key={t.id}
          id={`${idPrefix}-tab-${t.id}`}
          type="button"
          role="tab"
          aria-selected={value === t.id}
          aria-controls={`${idPrefix}-panel-${t.id}`}
          tabIndex={value === t.id ? 0 : -1}
          className={`reg-tab ${value === t.id ? 'active' : ''}`}
          onClick={() => onChange(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  )
}

const STATUS_GLYPH: Record<ApprovalStatus, string> = { None: '○', PendingManualApproval: '◷', Approved: '✓', Rejected: '✕' }

/** Approval status as a word and a glyph, coloured; never colour alone. */
export function ApprovalBadge({ status }: { status: ApprovalStatus }) {
  return (
    <span className={`reg-status st-${status}`}>
      <span aria-hidden="true">{STATUS_GLYPH[status]}</span> {approvalLabel(status)}
    </span>
  )
}

export function RiskBadge({ tier }: { tier: RiskTier | null }) {
  if (!tier) return <span className="muted">not set</span>
  return <span className={`reg-risk risk-${tier}`}>{tier}</span>
}

const POLICY_LABEL: Record<PolicyState, string> = { pass: 'Passing', warn: 'Warnings', block: 'Blocked', error: 'Policy error' }

export function PolicyBadge({ state }: { state: PolicyState | null }) {
  if (!state) return <span className="muted">not evaluated</span>
  return <span className={`reg-policy pol-${state}`}>{POLICY_LABEL[state]}</span>
}

/** Sanitized Markdown (the notebooks' renderer: GFM, math, DOMPurify). */
export function Markdown({ source, className, label }: { source: string; className?: string; label?: string }) {
  const html = useMemo(() => renderMarkdown(source), [source])
  if (!source.trim()) return <p className="muted">Not filled in.</p>
  return <div className={`reg-md ${className ?? ''}`} aria-label={label} dangerouslySetInnerHTML={{ __html: html }} />
}

/** A signed delta coloured by whether it is an improvement (with the words for screen readers). */
export function Delta({ delta, higherIsBetter }: { delta: number | null; higherIsBetter: boolean }) {
  const tone = deltaTone(delta, higherIsBetter)
  return (
    <span className={`reg-delta ${tone ?? ''}`}>
      {formatDelta(delta)}
      {tone && tone !== 'same' && <span className="sr-only"> ({tone})</span>}
    </span>
  )
}

/** Metrics of a version (`value`) against a reference (`champion`: the champion, or the other side of a comparison). */
export function MetricDeltaTable({ rows, label, refName, valueName }: { rows: MetricComparison[]; label: string; refName: string; valueName: string }) {
  if (rows.length === 0) return <p className="muted">No metrics.</p>
  return (
    <table className="stats-table reg-table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col" className="num">
            {refName}
          </th>
          <th scope="col" className="num">
            {valueName}
          </th>
          <th scope="col" className="num">
            Delta
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => (
          <tr key={m.key}>
            <th scope="row">{m.key}</th>
            <td className="num mono">{formatMetric(m.champion)}</td>
            <td className="num mono">{formatMetric(m.value)}</td>
            <td className="num mono">
              <Delta delta={m.delta} higherIsBetter={m.higherIsBetter} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** Saves text as a file through the browser's download (works in Electron and in `serve`). */
export function download(fileName: string, mimeType: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mimeType }))
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** An error, and for a conflict a way to reload what the other caller wrote. */
export function ActionError({ error, onReload }: { error: unknown; onReload: () => void }) {
  if (!error) return null
  if (isConflict(error))
    return (
      <div role="alert" className="error-box reg-conflict">
        <strong>Someone else changed this version while you were looking at it.</strong> {errorText(error)} Nothing of yours was saved;
        reload to see the current state (your comment is kept).
        <div>
          <button type="button" className="btn small" onClick={onReload}>
            Reload
          </button>
        </div>
      </div>
    )
  return (
    <div role="alert" className="error-box">
      {errorText(error)}
    </div>
  )
}
