/** Review pieces shown both in the Reviews room and on a version's Reviews tab. */
import type { PolicyEvaluation, Review, ReviewDecision } from '../../../../shared/registry'
import { formatTime } from '../models/logic'

const DECISION: Record<ReviewDecision, string> = {
  requested: 'Review requested',
  approved: 'Approved',
  rejected: 'Rejected',
  'approved-by-policy': 'Approved by policy'
}

export function ReviewHistory({ reviews }: { reviews: Review[] }) {
  if (reviews.length === 0) return <p className="muted">No reviews yet.</p>
  return (
    <ol className="rev-history" aria-label="Earlier reviews">
      {reviews.map((r) => (
        <li key={r.id} className={`rev-entry d-${r.decision}`}>
          <div>
            <strong>{DECISION[r.decision] ?? r.decision}</strong> by {r.reviewer.name} <span className="muted">· {formatTime(r.createdAt)} · round {r.round}</span>
          </div>
          {r.comment && <p className="rev-comment">{r.comment}</p>}
        </li>
      ))}
    </ol>
  )
}

const OUTCOME_GLYPH = { pass: '✓', fail: '✕', error: '!', skipped: '–' } as const

export function PolicyResults({ policies }: { policies: PolicyEvaluation }) {
  return (
    <div className="rev-policies">
      {policies.fileErrors.map((f) => (
        <div key={`${f.file}:${f.line}`} role="alert" className="error-box small">
          Policy file {f.file}, line {f.line}: {f.reason}
        </div>
      ))}
      {policies.results.length === 0 ? (
        <p className="muted">No policy applies to this version.</p>
      ) : (
        <table className="stats-table reg-table" aria-label="Policy results">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Result</th>
              <th scope="col">Severity</th>
              <th scope="col">Message</th>
              <th scope="col">Where</th>
            </tr>
          </thead>
          <tbody>
            {policies.results.map((r) => (
              <tr key={r.ruleId} className={`pol-row o-${r.outcome} s-${r.severity}`}>
                <th scope="row">{r.name}</th>
                <td>
                  <span aria-hidden="true">{OUTCOME_GLYPH[r.outcome]}</span> {r.outcome}
                </td>
                <td>{r.severity}</td>
                <td className="reg-wrap">{r.error ? `${r.message} (${r.error})` : r.message}</td>
                <td className="mono muted">
                  {r.file.split('/').pop()}:{r.line}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}
