/**
 * Reviews: request → PendingManualApproval; approve / reject with a comment. The risk tier routes
 * the review (low: approved by policy when every policy passes; medium: one reviewer; high: two
 * distinct reviewers). Nobody reviews a version they registered; a failing blocking policy refuses
 * approval; `expectedRevision` turns a stale review into REGISTRY_CONFLICT. Each step is one
 * transaction with its audit events; `model_version.approved` fires after the commit of a real
 * transition into Approved.
 */
import type { Principal } from '../../../shared/auth'
import { AppError } from '../../../shared/errors'
import { roleCan } from '../../../shared/permissions'
import {
  REQUIRED_APPROVALS,
  type EvaluationArtifact,
  type MetricComparison,
  type PolicyEvaluation,
  type PrincipalRef,
  type Review,
  type ReviewDecision,
  type ReviewOutcome,
  type ReviewPage,
  type ReviewQueueItem,
  type RiskTier
} from '../../../shared/registry'
import type { PolicySubject } from './policies'
import type { RegistryService } from './RegistryService'
import { ref, VERSION_COLUMNS, type VersionRow } from './store'

/** Who acts when the policies approve a low-risk version. */
export const POLICY_ACTOR: PrincipalRef = Object.freeze({ id: 'policy', name: 'policy' })

const LOWER_IS_BETTER = /loss|error|err$|rmse|mse|mae|mape|perplexity|latency|duration|time|fpr|fnr|brier|wer|cer/i

export const higherIsBetter = (key: string) => !LOWER_IS_BETTER.test(key)

type ReviewRow = { id: number; version_id: number; round: number; reviewer_id: string; reviewer_name: string; decision: ReviewDecision; comment: string; created_at: number }

export class ReviewService {
  constructor(private readonly r: RegistryService) {}

  private get db() {
    return this.r.d.db
  }

  tierOf(v: VersionRow): RiskTier {
    return v.risk_tier ?? 'medium'
  }

  /** People's approvals needed: the tier's count, and at least one once a person must review. */
  required(v: VersionRow): number {
    return Math.max(1, REQUIRED_APPROVALS[this.tierOf(v)])
  }

  approversInRound(v: VersionRow): PrincipalRef[] {
    return (
      this.db
        .prepare("SELECT DISTINCT reviewer_id AS id, reviewer_name AS name FROM model_reviews WHERE version_id = ? AND round = ? AND decision IN ('approved', 'approved-by-policy') ORDER BY id")
        .all(v.id, v.review_round) as PrincipalRef[]
    )
  }

  subject(v: VersionRow, approvals: number): PolicySubject {
    const model = this.db.prepare('SELECT key, value FROM registered_model_tags WHERE model_id = ?').all(v.model_id) as { key: string; value: string }[]
    const own = this.db.prepare('SELECT key, value FROM model_version_tags WHERE version_id = ?').all(v.id) as { key: string; value: string }[]
    const tags: Record<string, string> = {}
    for (const t of [...model, ...own]) tags[t.key] = t.value
    return {
      name: v.name,
      version: v.version,
      riskTier: v.risk_tier,
      metrics: v.run_id ? (this.r.store.runMetrics([v.run_id]).get(v.run_id) ?? {}) : {},
      params: this.r.store.runParams(v.run_id),
      tags,
      card: this.r.cards.subjectCard(v),
      approvals
    }
  }

  evaluateRow(v: VersionRow, approvals = this.approversInRound(v).length): PolicyEvaluation {
    return this.r.policies.evaluate(this.subject(v, approvals), this.r.now())
  }

  async evaluate(name: string, version: number): Promise<PolicyEvaluation> {
    return this.evaluateRow(this.r.store.version(name, version))
  }

  /** Records a change of the policy files (their content hash) the first time a review sees it. */
  private notePolicySet(actor: PrincipalRef) {
    const { setHash, rules, errors } = this.r.policies.list()
    const last = this.db.prepare("SELECT after FROM audit_events WHERE action = 'policy.change' ORDER BY seq DESC LIMIT 1").get() as { after: string | null } | undefined
    const lastHash = last?.after ? (JSON.parse(last.after) as { hash?: string }).hash : undefined
    if (lastHash === setHash) return
    this.r.audit({
      actor,
      action: 'policy.change',
      entityType: 'policy',
      entity: 'policies',
      before: lastHash ? { hash: lastHash } : null,
      after: { hash: setHash, rules: rules.map((r) => ({ id: r.id, expr: r.expr, severity: r.severity, error: r.error })), fileErrors: errors }
    })
  }

  private storePolicy(v: VersionRow, e: PolicyEvaluation) {
    this.db.prepare('UPDATE model_versions SET policy_state = ?, policy_result = ? WHERE id = ?').run(e.state, JSON.stringify(e), v.id)
  }

  private addReview(v: VersionRow, round: number, who: PrincipalRef, decision: ReviewDecision, comment: string): Review {
    const now = this.r.now()
    const id = Number(
      this.db
        .prepare('INSERT INTO model_reviews (version_id, round, reviewer_id, reviewer_name, decision, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(v.id, round, who.id, who.name, decision, comment, now).lastInsertRowid
    )
    return { id, name: v.name, version: v.version, reviewer: { id: who.id, name: who.name }, decision, comment, createdAt: now, round }
  }

  /** Moves the version into Approved: freezes the card, moves the alias, records it. In the caller's transaction. */
  private completeApproval(v: VersionRow, actor: PrincipalRef, comment: string, approvers: PrincipalRef[], moveAlias?: string) {
    this.db.prepare("UPDATE model_versions SET approval_status = 'Approved' WHERE id = ?").run(v.id)
    const cardHash = this.r.cards.publishInTx(v)
    const movedFrom = moveAlias ? this.r.moveAliasInTx(v, moveAlias, actor, comment) : undefined
    this.r.audit({
      actor,
      action: 'version.approved',
      entityType: 'version',
      entity: this.r.versionEntity(v),
      before: { approvalStatus: 'PendingManualApproval' },
      after: { approvalStatus: 'Approved', approvers, cardHash, ...(moveAlias ? { alias: moveAlias, aliasFrom: movedFrom ?? null } : {}) },
      comment
    })
    return { approvers, movedFrom, moveAlias }
  }

  private outcome(versionId: number, review: Review, policies: PolicyEvaluation): ReviewOutcome {
    const row = this.r.store.versionById(versionId)
    return {
      version: this.r.store.toVersions([row])[0],
      review,
      policies,
      approvals: this.approversInRound(row).filter((p) => p.id !== POLICY_ACTOR.id).length,
      requiredApprovals: row.risk_tier === 'low' && row.approval_status === 'Approved' && this.approversInRound(row).some((p) => p.id === POLICY_ACTOR.id) ? 0 : this.required(row)
    }
  }

  private afterApproved(v: VersionRow, approvers: PrincipalRef[], byPolicy: boolean, alias: { moveAlias?: string; movedFrom?: number | null }, actor: PrincipalRef) {
    const at = this.r.now()
    this.r.d.domain.emit('model_version.approved', { name: v.name, version: v.version, approvers, byPolicy, at })
    if (alias.moveAlias && alias.movedFrom !== v.version) {
      this.r.d.domain.emit('alias.moved', { name: v.name, alias: alias.moveAlias, from: alias.movedFrom ?? null, to: v.version, actor, at })
    }
  }

  async request(name: string, version: number, actor: Principal, o: { comment?: string; expectedRevision?: number }): Promise<ReviewOutcome> {
    let approved: { v: VersionRow; approvers: PrincipalRef[] } | null = null
    const result = this.r.tx((changed) => {
      const v = this.r.store.version(name, version)
      this.r.touch(v, o.expectedRevision)
      if (v.approval_status === 'PendingManualApproval') throw new AppError('INVALID_STATE', `Version ${version} of '${name}' is already pending review.`, { approvalStatus: v.approval_status })
      if (v.approval_status === 'Approved') throw new AppError('INVALID_STATE', `Version ${version} of '${name}' is already approved.`, { approvalStatus: v.approval_status })
      this.notePolicySet(ref(actor))
      const tier = this.tierOf(v)
      const round = v.review_round + 1
      const now = this.r.now()
      this.db
        .prepare(
          `UPDATE model_versions SET approval_status = 'PendingManualApproval', risk_tier = ?, review_round = ?, review_requested_at = ?,
             review_requested_by_id = ?, review_requested_by_name = ?, pending_alias = NULL WHERE id = ?`
        )
        .run(tier, round, now, actor.id, actor.name, v.id)
      const pending = this.r.store.versionById(v.id)
      const evaluation = this.evaluateRow(pending, 0)
      this.storePolicy(pending, evaluation)
      const review = this.addReview(pending, round, ref(actor), 'requested', o.comment?.trim() ?? '')
      this.r.audit({
        actor: ref(actor),
        action: 'review.request',
        entityType: 'review',
        entity: this.r.versionEntity(v),
        before: { approvalStatus: v.approval_status },
        after: { approvalStatus: 'PendingManualApproval', riskTier: tier, round, policyState: evaluation.state, blocking: evaluation.blocking, warnings: evaluation.warnings },
        comment: o.comment?.trim() ?? ''
      })
      if (tier === 'low' && evaluation.state === 'pass') {
        const auto = this.addReview(pending, round, POLICY_ACTOR, 'approved-by-policy', `Risk tier low: all ${evaluation.results.filter((x) => x.outcome === 'pass').length} applicable policies passed.`)
        this.completeApproval(pending, POLICY_ACTOR, auto.comment, [POLICY_ACTOR])
        approved = { v: pending, approvers: [POLICY_ACTOR] }
        changed({ kind: 'review', name, version, action: 'version.approved' })
        return this.outcome(v.id, auto, evaluation)
      }
      changed({ kind: 'review', name, version, action: 'review.request' })
      return this.outcome(v.id, review, evaluation)
    })
    if (approved) {
      const a = approved as { v: VersionRow; approvers: PrincipalRef[] }
      this.afterApproved(a.v, a.approvers, true, {}, POLICY_ACTOR)
    }
    return result
  }

  /** The checks approve and reject share; throws the first that fails. */
  private checkReviewer(v: VersionRow, actor: Principal, comment: string, expectedRevision: number | undefined, verb: 'approve' | 'reject') {
    if (comment.trim() === '') throw new AppError('COMMENT_REQUIRED', `A comment is required to ${verb} a version.`, { field: 'comment' })
    if (expectedRevision !== undefined && expectedRevision !== v.revision) {
      throw new AppError(
        'REGISTRY_CONFLICT',
        `Version ${v.version} of '${v.name}' was changed by someone else while you reviewed it (revision ${v.revision}, you had ${expectedRevision}). Reload it and review again.`,
        { name: v.name, version: v.version, expectedRevision, revision: v.revision }
      )
    }
    if (v.approval_status !== 'PendingManualApproval') {
      throw new AppError('INVALID_STATE', `Version ${v.version} of '${v.name}' is not pending review (its status is ${v.approval_status}).`, { approvalStatus: v.approval_status })
    }
    if (v.created_by_id === actor.id) {
      throw new AppError('SELF_APPROVAL', `You registered version ${v.version} of '${v.name}'; another reviewer must ${verb} it.`, { registeredBy: v.created_by_name })
    }
    // the one who asked for the review is an author too (a version registered with the kernels' shared
    // tracking token names no person, so the request is what ties it to one)
    if (v.review_requested_by_id === actor.id) {
      throw new AppError('SELF_APPROVAL', `You asked for the review of version ${v.version} of '${v.name}'; another reviewer must ${verb} it.`, { requestedBy: v.review_requested_by_name })
    }
  }

  async approve(name: string, version: number, actor: Principal, o: { comment: string; moveAlias?: string; expectedRevision?: number }): Promise<ReviewOutcome> {
    let approved: { v: VersionRow; approvers: PrincipalRef[]; moveAlias?: string; movedFrom?: number | null } | null = null
    const result = this.r.tx((changed) => {
      const v = this.r.store.version(name, version)
      this.checkReviewer(v, actor, o.comment, o.expectedRevision, 'approve')
      const approvers = this.approversInRound(v)
      if (approvers.some((p) => p.id === actor.id)) {
        throw new AppError('ALREADY_REVIEWED', `You already approved version ${version} of '${name}'; a different reviewer must give the next approval.`)
      }
      const evaluation = this.evaluateRow(v, approvers.length + 1)
      if (evaluation.blocking.length) {
        throw new AppError('POLICY_BLOCKED', `Blocked by policy: ${evaluation.blocking.join('; ')}`, { reasons: evaluation.blocking, policyState: evaluation.state })
      }
      this.r.touch(v, o.expectedRevision)
      this.notePolicySet(ref(actor))
      this.storePolicy(v, evaluation)
      const comment = o.comment.trim()
      const review = this.addReview(v, v.review_round, ref(actor), 'approved', comment)
      const now = [...approvers, ref(actor)]
      const required = this.required(v)
      this.r.audit({
        actor: ref(actor),
        action: 'review.approve',
        entityType: 'review',
        entity: this.r.versionEntity(v),
        before: { approvals: approvers.length },
        after: { approvals: now.length, required, policyState: evaluation.state, ...(o.moveAlias ? { moveAlias: o.moveAlias } : {}) },
        comment
      })
      // an alias asked for by an earlier approval of this round is moved when the last one comes in
      const alias = o.moveAlias ?? v.pending_alias ?? undefined
      if (now.length >= required) {
        const done = this.completeApproval(v, ref(actor), comment, now, alias)
        this.db.prepare('UPDATE model_versions SET pending_alias = NULL WHERE id = ?').run(v.id)
        approved = { v, approvers: now, moveAlias: alias, movedFrom: done.movedFrom }
        changed({ kind: 'review', name, version, action: 'version.approved' })
        if (alias) changed({ kind: 'alias', name, version, action: 'alias.set' })
      } else {
        if (o.moveAlias) this.db.prepare('UPDATE model_versions SET pending_alias = ? WHERE id = ?').run(o.moveAlias, v.id)
        changed({ kind: 'review', name, version, action: 'review.approve' })
      }
      return this.outcome(v.id, review, evaluation)
    })
    if (approved) {
      const a = approved as { v: VersionRow; approvers: PrincipalRef[]; moveAlias?: string; movedFrom?: number | null }
      this.afterApproved(a.v, a.approvers, false, { moveAlias: a.moveAlias, movedFrom: a.movedFrom }, ref(actor))
    }
    return result
  }

  async reject(name: string, version: number, actor: Principal, o: { comment: string; expectedRevision?: number }): Promise<ReviewOutcome> {
    return this.r.tx((changed) => {
      const v = this.r.store.version(name, version)
      this.checkReviewer(v, actor, o.comment, o.expectedRevision, 'reject')
      this.r.touch(v, o.expectedRevision)
      const comment = o.comment.trim()
      this.db.prepare("UPDATE model_versions SET approval_status = 'Rejected' WHERE id = ?").run(v.id)
      const review = this.addReview(v, v.review_round, ref(actor), 'rejected', comment)
      this.r.audit({
        actor: ref(actor),
        action: 'review.reject',
        entityType: 'review',
        entity: this.r.versionEntity(v),
        before: { approvalStatus: v.approval_status },
        after: { approvalStatus: 'Rejected' },
        comment
      })
      changed({ kind: 'review', name, version, action: 'review.reject' })
      const policies = v.policy_result ? (JSON.parse(v.policy_result) as PolicyEvaluation) : this.evaluateRow(v)
      return this.outcome(v.id, review, policies)
    })
  }

  /** Pending versions across all models, oldest request first. */
  queue(limit = 500): ReviewQueueItem[] {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS} FROM model_versions v JOIN registered_models m ON m.id = v.model_id
         WHERE v.approval_status = 'PendingManualApproval' ORDER BY v.review_requested_at, v.id LIMIT ?`
      )
      .all(limit) as VersionRow[]
    if (rows.length === 0) return []
    const counts = new Map<number, number>()
    for (const c of this.db
      .prepare(
        `SELECT r.version_id, count(DISTINCT r.reviewer_id) AS n FROM model_reviews r JOIN model_versions v ON v.id = r.version_id
         WHERE r.decision = 'approved' AND r.round = v.review_round AND r.version_id IN (${rows.map(() => '?').join(',')}) GROUP BY r.version_id`
      )
      .all(...rows.map((r) => r.id)) as { version_id: number; n: number }[]) {
      counts.set(c.version_id, c.n)
    }
    return rows.map((v) => ({
      name: v.name,
      version: v.version,
      requestedAt: v.review_requested_at ?? v.updated_at,
      requestedBy: { id: v.review_requested_by_id ?? v.created_by_id, name: v.review_requested_by_name ?? v.created_by_name },
      riskTier: v.risk_tier,
      policyState: v.policy_state,
      approvals: counts.get(v.id) ?? 0,
      requiredApprovals: this.required(v),
      revision: v.revision
    }))
  }

  reviewsOf(v: VersionRow): Review[] {
    return (this.db.prepare('SELECT * FROM model_reviews WHERE version_id = ? ORDER BY id').all(v.id) as ReviewRow[]).map((r) => ({
      id: r.id,
      name: v.name,
      version: v.version,
      reviewer: { id: r.reviewer_id, name: r.reviewer_name },
      decision: r.decision,
      comment: r.comment,
      createdAt: r.created_at,
      round: r.round
    }))
  }

  /** Everything the review page shows, for `actor` (canReview says whether they may act, and why not). */
  async page(name: string, version: number, actor: Principal): Promise<ReviewPage> {
    const v = this.r.store.version(name, version)
    const [mv] = this.r.store.toVersions([v])
    const model = this.r.getModel(name)
    const championVersion = model.aliases.champion
    const champion = championVersion !== undefined && championVersion !== version ? { version: championVersion } : null
    let championMetrics: Record<string, number> = {}
    if (champion) {
      const c = this.r.store.version(name, champion.version)
      championMetrics = c.run_id ? (this.r.store.runMetrics([c.run_id]).get(c.run_id) ?? {}) : {}
    }
    const keys = [...new Set([...Object.keys(mv.metrics), ...Object.keys(championMetrics)])].sort()
    const metrics: MetricComparison[] = keys.map((key) => {
      const value = mv.metrics[key] ?? null
      const ch = championMetrics[key] ?? null
      return { key, value, champion: ch, delta: value !== null && ch !== null ? value - ch : null, higherIsBetter: higherIsBetter(key) }
    })
    const approvers = this.approversInRound(v)
    const policies = this.evaluateRow(v, approvers.length + (v.approval_status === 'PendingManualApproval' ? 1 : 0))
    const reasons: string[] = []
    if (!roleCan(actor.role, 'review')) reasons.push('Reviewing needs the review permission (reviewer or admin role).')
    if (v.approval_status !== 'PendingManualApproval') reasons.push(`The version is not pending review (status ${v.approval_status}).`)
    if (v.created_by_id === actor.id) reasons.push('You registered this version; another reviewer must review it.')
    else if (v.approval_status === 'PendingManualApproval' && v.review_requested_by_id === actor.id) reasons.push('You asked for this review; another reviewer must review it.')
    if (approvers.some((p) => p.id === actor.id)) reasons.push('You already approved this version; a different reviewer must give the next approval.')
    for (const b of policies.blocking) reasons.push(`Blocked by policy: ${b}`)
    return {
      model,
      version: mv,
      card: this.r.cards.cardOf(v),
      champion,
      metrics,
      params: this.r.store.runParams(v.run_id),
      evaluationArtifacts: await this.evaluationArtifacts(v),
      checklist: this.r.checklist.of(v),
      policies,
      reviews: this.reviewsOf(v),
      approvals: approvers.filter((p) => p.id !== POLICY_ACTOR.id).length,
      requiredApprovals: this.required(v),
      canReview: { ok: reasons.length === 0, reasons }
    }
  }

  /** Plots, confusion matrices, explainability and bias reports among the run's artifacts (the model folder left out). */
  private async evaluationArtifacts(v: VersionRow): Promise<EvaluationArtifact[]> {
    if (!v.run_id) return []
    const out: EvaluationArtifact[] = []
    const queue: string[] = ['']
    let visited = 0
    while (queue.length && visited < 50 && out.length < 200) {
      const dir = queue.shift()!
      visited++
      let files: { path: string; is_dir: boolean; file_size?: number }[]
      try {
        files = await this.r.d.tracking.listRunArtifacts(v.run_id, dir)
      } catch {
        continue
      }
      for (const f of files) {
        if (f.is_dir) {
          if (f.path !== v.artifact_path && !files.some((x) => x.path === `${f.path}/MLmodel`)) queue.push(f.path)
          continue
        }
        if (f.path.endsWith('/MLmodel') || f.path === 'MLmodel') continue
        const kind = classify(f.path)
        if (kind) out.push({ path: f.path, kind, size: f.file_size ?? 0 })
      }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path))
  }
}

export function classify(path: string): EvaluationArtifact['kind'] | null {
  const p = path.toLowerCase()
  const base = p.split('/').pop() ?? p
  if (/confusion/.test(base)) return 'confusion_matrix'
  if (/shap|explain|importance|lime|pdp|partial_dependence/.test(base)) return 'explainability'
  if (/bias|fairness|disparit/.test(base)) return 'bias'
  if (/\.(png|jpe?g|svg|gif|webp)$/.test(base)) return 'plot'
  if (/\.(html?|md|pdf)$/.test(base) || /report|eval/.test(base)) return 'report'
  return null
}
