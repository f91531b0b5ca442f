import { useEffect } from 'react'
import { onEvent } from '../../api/client'
import { formatAge, formatTime } from '../models/logic'
import { PolicyBadge, RiskBadge, Tabs } from '../models/widgets'
import { AuditView } from './AuditView'
import { PoliciesView } from './PoliciesView'
import { ReviewPage } from './ReviewPage'
import { SageMakerQueue } from './SageMakerQueue'
import { useReviewsStore, type ReviewsTab } from './useReviewsStore'
import '../models/models.css'

const TABS: { id: ReviewsTab; label: string }[] = [
  { id: 'queue', label: 'Queue' },
  { id: 'policies', label: 'Policies' },
  { id: 'audit', label: 'Audit trail' }
]

function Queue() {
  const queue = useReviewsStore((s) => s.queue)
  const error = useReviewsStore((s) => s.queueError)
  const loading = useReviewsStore((s) => s.loading)
  const openReview = useReviewsStore((s) => s.openReview)
  const now = Date.now()
  return (
    <section className="reg-page" aria-label="Review queue">
      <header className="reg-head">
        <h2>Pending reviews</h2>
        <span className="muted" role="status">
          {loading && queue.length === 0 ? 'Loading…' : `${queue.length} waiting, oldest first`}
        </span>
      </header>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      <div className="reg-table-wrap">
        <table className="stats-table reg-table" aria-label="Pending versions">
          <thead>
            <tr>
              <th scope="col">Model version</th>
              <th scope="col">Requested</th>
              <th scope="col">Waiting</th>
              <th scope="col">Requested by</th>
              <th scope="col">Risk tier</th>
              <th scope="col">Policies</th>
              <th scope="col">Approvals</th>
            </tr>
          </thead>
          <tbody>
            {queue.map((q) => (
              <tr key={`${q.name}/${q.version}`}>
                <td>
                  <button type="button" className="link-btn" onClick={() => openReview(q.name, q.version)}>
                    {q.name} version {q.version}
                  </button>
                </td>
                <td>{formatTime(q.requestedAt)}</td>
                <td>{formatAge(q.requestedAt, now)}</td>
                <td>{q.requestedBy.name}</td>
                <td>
                  <RiskBadge tier={q.riskTier} />
                </td>
                <td>
                  <PolicyBadge state={q.policyState} />
                </td>
                <td className="mono">
                  {q.approvals} / {q.requiredApprovals}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {queue.length === 0 && !loading && !error && <p className="empty-note muted">Nothing is waiting for review.</p>}
      </div>
      <SageMakerQueue />
    </section>
  )
}

/** Reviews room: the queue of pending versions, a version's review page, and the audit trail. */
export function ReviewsRoom() {
  const tab = useReviewsStore((s) => s.tab)
  const setTab = useReviewsStore((s) => s.setTab)
  const open = useReviewsStore((s) => s.open)
  const loadQueue = useReviewsStore((s) => s.loadQueue)
  const noteChange = useReviewsStore((s) => s.noteChange)

  useEffect(() => {
    void loadQueue()
    let timer: ReturnType<typeof setTimeout> | undefined
    const off = onEvent('registry.changed', (e) => {
      // the queue follows at once; an open review page only learns that its version changed
      noteChange(e)
      clearTimeout(timer)
      timer = setTimeout(() => void loadQueue(), 300)
    })
    return () => {
      clearTimeout(timer)
      off()
    }
  }, [loadQueue, noteChange])

  return (
    <div className="reg-room rev-room">
      <div className="reg-work">
        <div className="reg-tabbar">
          <Tabs tabs={TABS} value={tab} onChange={setTab} label="Reviews views" idPrefix="rev" />
        </div>
        <div className="reg-panel" role="tabpanel" id={`rev-panel-${tab}`} aria-labelledby={`rev-tab-${tab}`}>
          {tab === 'audit' ? <AuditView /> : tab === 'policies' ? <PoliciesView /> : open ? <ReviewPage key={`${open.name}/${open.version}`} name={open.name} version={open.version} /> : <Queue />}
        </div>
      </div>
    </div>
  )
}
