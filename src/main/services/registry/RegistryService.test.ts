import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError } from '../../../shared/errors'
import { alice, bob, carol, createRegistryHarness, type RegistryHarness } from './testing'

let h: RegistryHarness
beforeEach(async () => {
  h = await createRegistryHarness()
})
afterEach(async () => h.cleanup())

/** The AppError code a call fails with (sync or async). */
async function codeOf(f: () => unknown): Promise<string> {
  try {
    await f()
  } catch (err) {
    if (err instanceof AppError) return err.code
    throw err
  }
  throw new Error('expected the call to fail')
}

const rows = (table: string) => (h.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

describe('registered models and versions', () => {
  it('creates, finds, renames and deletes models; bad and duplicate names get clear codes', async () => {
    const m = h.registry.createModel({ name: 'fraud', description: 'card fraud', tags: { team: 'risk' } }, alice)
    expect(m).toMatchObject({ name: 'fraud', description: 'card fraud', tags: { team: 'risk' }, createdBy: { id: 'u-alice', name: 'alice' }, versionCount: 0, latestVersion: null })
    expect(await codeOf(() => h.registry.createModel({ name: 'fraud' }, alice))).toBe('ALREADY_EXISTS')
    for (const bad of ['', ' lead', 'a/b', 'x@y', 'models:x', 'x'.repeat(300)]) expect(await codeOf(() => h.registry.createModel({ name: bad }, alice))).toBe('INVALID_REQUEST')
    h.registry.createModel({ name: 'churn' }, alice)
    expect(await codeOf(() => h.registry.renameModel('fraud', 'churn', alice))).toBe('ALREADY_EXISTS')
    expect(h.registry.renameModel('fraud', 'fraud-v2', alice).name).toBe('fraud-v2')
    expect(await codeOf(() => h.registry.getModel('fraud'))).toBe('NOT_FOUND')
    expect(h.registry.listModels({ query: 'FRAUD' }).models.map((x) => x.name)).toEqual(['fraud-v2'])
    expect(h.registry.listModels({ tags: { team: 'risk' } }).models.map((x) => x.name)).toEqual(['fraud-v2'])
    h.registry.deleteModel('fraud-v2', alice)
    expect(h.registry.listModels({}).models.map((x) => x.name)).toEqual(['churn'])
    expect(h.audit.list({ entity: 'fraud-v2' }).events.map((e) => e.action)).toEqual(['model.delete', 'model.rename'])
  })

  it('registers versions from a run folder with an MLmodel; numbers are never reused', async () => {
    const runId = h.makeRun({ metrics: { accuracy: 0.9 }, files: { 'notes/readme.txt': 'x' } })
    expect(await codeOf(() => h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model' }, alice))).toBe('NOT_FOUND')
    const v1 = await h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model', createModel: true }, alice)
    expect(v1).toMatchObject({ name: 'fraud', version: 1, runId, artifactPath: 'model', approvalStatus: 'None', metrics: { accuracy: 0.9 }, createdBy: { id: 'u-alice' } })
    expect(v1.source).toMatch(/^mlflow-artifacts:\/0\/[0-9a-f]{32}\/artifacts\/model$/)
    expect(await codeOf(() => h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'notes' }, alice))).toBe('INVALID_REQUEST')
    expect(await codeOf(() => h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: '../x' }, alice))).toBe('INVALID_REQUEST')
    expect(await codeOf(() => h.registry.createVersionFromRun({ name: 'fraud', runId: 'f'.repeat(32), artifactPath: 'model' }, alice))).toBe('NOT_FOUND')
    const v2 = await h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model' }, alice)
    expect(v2.version).toBe(2)
    h.registry.deleteVersion('fraud', 2, alice)
    expect((await h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model' }, alice)).version).toBe(3)
    expect(h.registry.listVersions({ name: 'fraud' }).versions.map((v) => v.version)).toEqual([3, 1])
    expect(await codeOf(() => h.registry.getVersion('fraud', 2))).toBe('NOT_FOUND')
  })

  it('aliases move between versions, resolve models:/ URIs, and vanish with their version', async () => {
    await h.register('fraud')
    await h.register('fraud')
    const moved: unknown[] = []
    h.domain.on('alias.moved', (e) => moved.push({ from: e.from, to: e.to }))
    h.registry.setAlias('fraud', 'champion', 1, alice)
    expect(h.registry.setAlias('fraud', 'champion', 2, alice).aliases).toEqual({ champion: 2 })
    expect(moved).toEqual([{ from: null, to: 1 }, { from: 1, to: 2 }])
    expect(h.registry.resolveModelUri('models:/fraud@champion')).toMatchObject({ name: 'fraud', version: 2 })
    expect(h.registry.resolveModelUri('models:/fraud/1').artifactUri).toMatch(/\/artifacts\/model$/)
    expect(h.registry.resolveModelUri('models:/fraud/latest').version).toBe(2)
    expect(await codeOf(() => h.registry.resolveModelUri('models:/fraud@nope'))).toBe('NOT_FOUND')
    expect(await codeOf(() => h.registry.resolveModelUri('runs:/x/model'))).toBe('INVALID_REQUEST')
    expect(await codeOf(() => h.registry.setAlias('fraud', 'latest', 1, alice))).toBe('INVALID_REQUEST')
    expect(await codeOf(() => h.registry.setAlias('fraud', 'v3', 1, alice))).toBe('INVALID_REQUEST')
    expect(await codeOf(() => h.registry.setAlias('fraud', 'prod', 9, alice))).toBe('NOT_FOUND')
    h.registry.deleteVersion('fraud', 2, alice)
    expect(h.registry.getModel('fraud').aliases).toEqual({})
  })

  it('tags on models and versions; version changes bump the revision, and a stale revision conflicts', async () => {
    const { version, revision } = await h.register('fraud')
    h.registry.setTag('fraud', null, 'team', 'risk', alice)
    h.registry.setTag('fraud', version, 'stage', 'candidate', alice)
    const v = h.registry.getVersion('fraud', version)
    expect(v.tags).toEqual({ stage: 'candidate' })
    expect(v.revision).toBe(revision + 1)
    expect(h.registry.listVersions({ tags: { stage: 'candidate' } }).versions).toHaveLength(1)
    expect(h.registry.updateVersion('fraud', version, { description: 'first' }, alice, v.revision).description).toBe('first')
    expect(await codeOf(() => h.registry.updateVersion('fraud', version, { description: 'stale' }, bob, v.revision))).toBe('REGISTRY_CONFLICT')
    expect(h.registry.getVersion('fraud', version).description).toBe('first')
    h.registry.deleteTag('fraud', version, 'stage', alice)
    expect(h.registry.getVersion('fraud', version).tags).toEqual({})
    expect(await codeOf(() => h.registry.setTag('fraud', null, '', 'x', alice))).toBe('INVALID_REQUEST')
  })
})

describe('reviews', () => {
  it('high risk: two distinct reviewers; stays Pending after the first; the registrant cannot approve', async () => {
    const { version, revision } = await h.register('fraud', { riskTier: 'high' })
    const req = await h.registry.reviews.request('fraud', version, alice, { comment: 'please review', expectedRevision: revision })
    expect(req.version.approvalStatus).toBe('PendingManualApproval')
    expect(req.requiredApprovals).toBe(2)
    expect(h.registry.reviews.queue().map((q) => [q.name, q.version, q.riskTier, q.approvals, q.requiredApprovals])).toEqual([['fraud', version, 'high', 0, 2]])
    expect(await codeOf(() => h.registry.reviews.approve('fraud', version, alice, { comment: 'mine is great' }))).toBe('SELF_APPROVAL')
    expect(await codeOf(() => h.registry.reviews.approve('fraud', version, bob, { comment: '   ' }))).toBe('COMMENT_REQUIRED')
    // the first reviewer asks for `champion`: it moves when the second approval completes the review
    const first = await h.registry.reviews.approve('fraud', version, bob, { comment: 'looks good', moveAlias: 'champion', expectedRevision: req.version.revision })
    expect(first.version.approvalStatus).toBe('PendingManualApproval')
    expect(first.version.aliases).toEqual([])
    expect(first.approvals).toBe(1)
    expect(await codeOf(() => h.registry.reviews.approve('fraud', version, bob, { comment: 'again' }))).toBe('ALREADY_REVIEWED')
    expect(h.approved).toEqual([])
    const second = await h.registry.reviews.approve('fraud', version, carol, { comment: 'agreed', expectedRevision: first.version.revision })
    expect(second.version).toMatchObject({ approvalStatus: 'Approved', aliases: ['champion'] })
    expect(h.approved).toHaveLength(1)
    expect(h.approved[0]).toMatchObject({ name: 'fraud', version, byPolicy: false, approvers: [{ id: 'u-bob' }, { id: 'u-carol' }] })
    // the card was frozen with its hash
    const card = await h.registry.cards.get('fraud', version)
    expect(card.published?.contentHash).toMatch(/^[0-9a-f]{64}$/)
    // saving the card of an Approved version again is not a new approval
    await h.registry.cards.save('fraud', version, { limitations: 'none known' }, alice)
    expect(h.approved).toHaveLength(1)
    expect(await codeOf(() => h.registry.reviews.approve('fraud', version, carol, { comment: 'x' }))).toBe('INVALID_STATE')
    const actions = h.audit.list({ entity: `fraud/${version}` }).events.map((e) => `${e.action}:${e.actor.name}`).reverse()
    expect(actions).toEqual(['version.create:alice', 'card.save:alice', 'review.request:alice', 'review.approve:bob', 'review.approve:carol', 'version.approved:carol', 'card.save:alice'])
    expect(h.audit.list({ entity: 'fraud@champion' }).events[0]).toMatchObject({ action: 'alias.set', comment: 'agreed', after: { version } })
    expect(h.audit.verify().ok).toBe(true)
  })

  it('whoever asked for the review cannot approve it either (a version registered with the shared tracking token names no person)', async () => {
    const kernel = { id: 'app:tracking', name: 'tracking', role: 'scientist', via: 'api-token' } as const
    const admin = { id: 'u-ada', name: 'ada', role: 'admin', via: 'session' } as const
    const { version } = await h.register('fraud', { actor: kernel, riskTier: 'medium' })
    await h.registry.reviews.request('fraud', version, admin, {})
    expect(await codeOf(() => h.registry.reviews.approve('fraud', version, admin, { comment: 'mine' }))).toBe('SELF_APPROVAL')
    expect((await h.registry.reviews.page('fraud', version, admin)).canReview.reasons).toEqual(['You asked for this review; another reviewer must review it.'])
    expect((await h.registry.reviews.approve('fraud', version, bob, { comment: 'ok' })).version.approvalStatus).toBe('Approved')
  })

  it('two reviewers on the same revision: the second gets REGISTRY_CONFLICT and nothing of theirs is written', async () => {
    const { version, revision } = await h.register('fraud', { riskTier: 'high' })
    const pending = await h.registry.reviews.request('fraud', version, alice, { expectedRevision: revision })
    const seen = pending.version.revision
    await h.registry.reviews.approve('fraud', version, bob, { comment: 'ok', expectedRevision: seen })
    const reviewsBefore = rows('model_reviews')
    const auditBefore = h.audit.list().total
    expect(await codeOf(() => h.registry.reviews.reject('fraud', version, carol, { comment: 'no', expectedRevision: seen }))).toBe('REGISTRY_CONFLICT')
    expect(rows('model_reviews')).toBe(reviewsBefore)
    expect(h.audit.list().total).toBe(auditBefore)
    expect(h.registry.getVersion('fraud', version).approvalStatus).toBe('PendingManualApproval')
  })

  it('medium risk needs one reviewer; reject needs a comment and a rejected version can be reviewed again', async () => {
    const { version } = await h.register('churn', { riskTier: 'medium' })
    expect(await codeOf(() => h.registry.reviews.approve('churn', version, bob, { comment: 'early' }))).toBe('INVALID_STATE')
    await h.registry.reviews.request('churn', version, alice, {})
    expect(await codeOf(() => h.registry.reviews.request('churn', version, alice, {}))).toBe('INVALID_STATE')
    expect(await codeOf(() => h.registry.reviews.reject('churn', version, bob, { comment: '' }))).toBe('COMMENT_REQUIRED')
    const rejected = await h.registry.reviews.reject('churn', version, bob, { comment: 'leaks the label' })
    expect(rejected.version.approvalStatus).toBe('Rejected')
    // the risk tier cannot be lowered while pending, but can after a rejection
    await h.registry.cards.save('churn', version, { riskTier: 'medium', limitations: 'fixed the leak' }, alice)
    await h.registry.reviews.request('churn', version, alice, {})
    expect(await codeOf(() => h.registry.cards.save('churn', version, { riskTier: 'low' }, alice))).toBe('INVALID_STATE')
    const ok = await h.registry.reviews.approve('churn', version, bob, { comment: 'fixed' })
    expect(ok.version.approvalStatus).toBe('Approved')
    expect(h.registry.reviews.reviewsOf(h.registry.store.version('churn', version)).map((r) => [r.round, r.decision])).toEqual([
      [1, 'requested'],
      [1, 'rejected'],
      [2, 'requested'],
      [2, 'approved']
    ])
  })

  it('low risk is approved by policy when every policy passes, and waits for a reviewer when one does not', async () => {
    h.policy('quality.yaml', `rules:\n  - name: min-accuracy\n    expr: metrics.accuracy >= 0.9\n    severity: warn\n    message: Accuracy below 0.9\n`)
    const good = await h.register('scorer', { riskTier: 'low', metrics: { accuracy: 0.95 } })
    const auto = await h.registry.reviews.request('scorer', good.version, alice, {})
    expect(auto.version.approvalStatus).toBe('Approved')
    expect(auto.review).toMatchObject({ decision: 'approved-by-policy', reviewer: { id: 'policy' } })
    expect(h.approved.at(-1)).toMatchObject({ name: 'scorer', version: good.version, byPolicy: true })
    const weak = await h.register('scorer', { riskTier: 'low', metrics: { accuracy: 0.7 } })
    const waits = await h.registry.reviews.request('scorer', weak.version, alice, {})
    expect(waits.version.approvalStatus).toBe('PendingManualApproval')
    expect(waits.policies.warnings).toEqual(['min-accuracy: Accuracy below 0.9'])
    expect((await h.registry.reviews.approve('scorer', weak.version, bob, { comment: 'accepted the warning' })).version.approvalStatus).toBe('Approved')
  })

  it('a blocking policy refuses approval with its message, through the service and the REST door', async () => {
    h.policy('quality.yaml', `rules:\n  - name: min-accuracy\n    scope: { models: "fraud*", risk_tiers: [medium, high] }\n    expr: metrics.accuracy >= 0.9\n    severity: block\n    message: Accuracy must be at least 0.9\n`)
    const weak = await h.register('fraud', { riskTier: 'medium', metrics: { accuracy: 0.8 } })
    const req = await h.registry.reviews.request('fraud', weak.version, alice, {})
    expect(req.policies.state).toBe('block')
    expect(req.policies.blocking).toEqual(['min-accuracy: Accuracy must be at least 0.9'])
    const err = await h.registry.reviews.approve('fraud', weak.version, bob, { comment: 'ship it' }).catch((e) => e)
    expect(err).toMatchObject({ code: 'POLICY_BLOCKED', details: { reasons: ['min-accuracy: Accuracy must be at least 0.9'] } })
    const page = await h.registry.reviews.page('fraud', weak.version, bob)
    expect(page.canReview.ok).toBe(false)
    expect(page.canReview.reasons).toContain('Blocked by policy: min-accuracy: Accuracy must be at least 0.9')
    const rest = await h.api('POST', 'model-versions/approve', { name: 'fraud', version: String(weak.version), comment: 'ship it' })
    expect(rest.status).toBe(400)
    expect(rest.body).toMatchObject({ error_code: 'INVALID_STATE', atelier_code: 'POLICY_BLOCKED', reasons: ['min-accuracy: Accuracy must be at least 0.9'] })
    expect(h.registry.getVersion('fraud', weak.version).approvalStatus).toBe('PendingManualApproval')
    // out of scope (another model) the rule is skipped
    const other = await h.register('churn', { riskTier: 'medium', metrics: { accuracy: 0.5 } })
    const r2 = await h.registry.reviews.request('churn', other.version, alice, {})
    expect(r2.policies.results.map((r) => r.outcome)).toEqual(['skipped'])
  })

  it('a policy file that does not parse, or an expression that does not type-check, is reported with file, line and reason and blocks', async () => {
    h.policy('a-broken.yaml', 'rules:\n  - name: x\n    name: y\n')
    h.policy('b-types.yaml', `rules:\n  - name: ok\n    expr: approvals >= 0\n    message: fine\n  - name: wrong-type\n    expr: metrics.accuracy >= 'high'\n    severity: block\n    message: m\n  - name: unknown-var\n    expr: score > 1.0\n    message: m\n  - name: not-bool\n    expr: metrics.accuracy + 1.0\n    message: m\n  - name: bad-severity\n    expr: true\n    severity: fatal\n    message: m\n`)
    const list = h.registry.policies.list()
    expect(list.errors).toHaveLength(1)
    expect(list.errors[0]).toMatchObject({ file: expect.stringMatching(/a-broken\.yaml$/), line: 3 })
    const byName = Object.fromEntries(list.rules.map((r) => [r.name, r]))
    expect(byName.ok.error).toBeNull()
    expect(byName['wrong-type']).toMatchObject({ line: 6, error: expect.stringMatching(/type error: found no matching overload for '_>=_' applied to '\(double, string\)'/) })
    expect(byName['unknown-var'].error).toMatch(/undeclared reference to 'score'/)
    expect(byName['not-bool'].error).toMatch(/must give a bool, not double/)
    expect(byName['bad-severity']).toMatchObject({ line: 17, error: expect.stringMatching(/severity must be block or warn/) })
    const { version } = await h.register('fraud', { riskTier: 'medium' })
    const req = await h.registry.reviews.request('fraud', version, alice, {})
    expect(req.policies.state).toBe('error')
    expect(await codeOf(() => h.registry.reviews.approve('fraud', version, bob, { comment: 'ok' }))).toBe('POLICY_BLOCKED')
    // the policy set is recorded in the audit trail
    expect(h.audit.list({ entityType: 'policy' }).events[0]).toMatchObject({ action: 'policy.change' })
  })

  it('policies see params, tags, card fields and approvals', async () => {
    h.policy('p.yaml', `- name: owner\n  expr: card.owner != '' && card.risk_tier == 'high'\n  message: An owner is required\n- name: two\n  expr: approvals >= 2 || risk_tier != 'high'\n  message: two approvals\n- name: depth\n  expr: int(params.max_depth) <= 10 && tags.team == 'risk'\n  message: shallow trees\n`)
    const runId = h.makeRun({ metrics: { accuracy: 0.99 }, params: { max_depth: '6' } })
    const v = await h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model', createModel: true }, alice)
    h.registry.setTag('fraud', null, 'team', 'risk', alice)
    await h.registry.cards.save('fraud', v.version, { riskTier: 'high', owner: 'alice' }, alice)
    const req = await h.registry.reviews.request('fraud', v.version, alice, {})
    expect(req.policies.results.map((r) => [r.name, r.outcome])).toEqual([
      ['owner', 'pass'],
      ['two', 'fail'],
      ['depth', 'pass']
    ])
    // at the second approval `approvals` counts it
    await h.registry.reviews.approve('fraud', v.version, bob, { comment: 'ok' }).catch(() => null)
    expect(h.registry.getVersion('fraud', v.version).approvalStatus).toBe('PendingManualApproval')
  })
})

describe('cards, checklist, review page, lineage, compare', () => {
  it('the card starts with the run metrics as evaluation; exports Markdown and HTML (escaped), the published one after approval', async () => {
    const { version } = await h.register('fraud', { metrics: { accuracy: 0.93, loss: 0.2 } })
    const card = await h.registry.cards.get('fraud', version)
    expect(card.fields.evaluation).toBe('| Metric | Value |\n| --- | --- |\n| accuracy | 0.93 |\n| loss | 0.2 |')
    await h.registry.cards.save('fraud', version, { intendedUse: 'Flag **card** fraud <script>x</script>', riskTier: 'medium', owner: 'alice' }, alice)
    const md = await h.registry.cards.export('fraud', version, 'markdown', false)
    expect(md.content).toContain('## Intended use\n\nFlag **card** fraud <script>x</script>')
    expect(md.contentHash).toBeNull()
    const html = await h.registry.cards.export('fraud', version, 'html', false)
    expect(html.content).toContain('Flag <strong>card</strong> fraud &lt;script&gt;x&lt;/script&gt;')
    expect(html.content).toContain('<td>accuracy</td><td>0.93</td>')
    await h.registry.reviews.request('fraud', version, alice, {})
    await h.registry.reviews.approve('fraud', version, bob, { comment: 'ok' })
    await h.registry.cards.save('fraud', version, { intendedUse: 'changed later' }, alice)
    const published = await h.registry.cards.export('fraud', version, 'markdown', false)
    expect(published.contentHash).toMatch(/^[0-9a-f]{64}$/)
    expect(published.content).toContain('Flag **card** fraud')
    expect((await h.registry.cards.export('fraud', version, 'markdown', true)).content).toContain('changed later')
  })

  it('checklist items are configurable and ticked per version', async () => {
    const { version } = await h.register('fraud')
    expect(h.registry.checklist.get('fraud', version).items.map((i) => i.id)).toEqual(['intended-use', 'evaluation-data', 'bias', 'limitations'])
    h.registry.checklist.configure([{ label: 'Data approved by DPO' }, { id: 'bias', label: 'Bias assessed' }], alice)
    const ticked = h.registry.checklist.set('fraud', version, 'bias', true, bob)
    expect(ticked.items).toEqual([
      { id: 'data-approved-by-dpo', label: 'Data approved by DPO', checked: false, checkedBy: null, checkedAt: null },
      { id: 'bias', label: 'Bias assessed', checked: true, checkedBy: { id: 'u-bob', name: 'bob' }, checkedAt: expect.any(Number) }
    ])
    expect(await codeOf(() => h.registry.checklist.set('fraud', version, 'nope', true, bob))).toBe('NOT_FOUND')
    expect(h.audit.list({ entityType: 'checklist' }).events.map((e) => e.action)).toEqual(['checklist.tick', 'checklist.configure'])
  })

  it('the review page compares metrics with the champion and lists evaluation artifacts', async () => {
    const champ = await h.register('fraud', { metrics: { accuracy: 0.9, loss: 0.3 } })
    h.registry.setAlias('fraud', 'champion', champ.version, alice)
    const runId = h.makeRun({ metrics: { accuracy: 0.95, loss: 0.2 }, params: { depth: '5' }, files: { 'plots/roc.png': 'p', 'eval/confusion_matrix.json': '{}', 'shap_summary.png': 'p', 'fairness_report.html': '<p>', 'data.csv': 'a' } })
    const v = await h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model' }, alice)
    await h.registry.reviews.request('fraud', v.version, alice, {})
    const page = await h.registry.reviews.page('fraud', v.version, bob)
    expect(page.champion).toEqual({ version: champ.version })
    const acc = page.metrics.find((m) => m.key === 'accuracy')!
    expect(acc.champion).toBe(0.9)
    expect(acc.delta).toBeCloseTo(0.05)
    expect(page.metrics.find((m) => m.key === 'loss')).toMatchObject({ higherIsBetter: false })
    expect(page.evaluationArtifacts.map((a) => [a.path, a.kind])).toEqual([
      ['eval/confusion_matrix.json', 'confusion_matrix'],
      ['fairness_report.html', 'bias'],
      ['plots/roc.png', 'plot'],
      ['shap_summary.png', 'explainability']
    ])
    expect(page.params).toEqual({ depth: '5' })
    expect(page.canReview).toEqual({ ok: true, reasons: [] })
    expect((await h.registry.reviews.page('fraud', v.version, alice)).canReview.reasons).toEqual([
      'Reviewing needs the review permission (reviewer or admin role).',
      'You registered this version; another reviewer must review it.'
    ])
    expect(page.reviews.map((r) => r.decision)).toEqual(['requested'])
  })

  it('lineage: version ← run ← datasets and code; OpenLineage events; compare two versions', async () => {
    const runId = h.makeRun({ metrics: { accuracy: 0.9 }, params: { depth: '3' }, tags: { 'mlflow.source.git.commit': 'abc123def456', 'mlflow.source.name': 'work/train.ipynb', 'atelier.job.id': 'job-1234567' } })
    h.tracking.runs.logInputs(runId, [
      { dataset: { name: 'transactions', digest: 'd1g3st', source_type: 'local', source: '{"uri": "/data/tx.parquet"}', schema: '{"mlflow_colspec": [{"name": "amount", "type": "double"}]}' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }
    ] as never)
    h.tracking.runs.update(runId, { status: 'FINISHED', endTime: Date.now() })
    const v = await h.registry.createVersionFromRun({ name: 'fraud', runId, artifactPath: 'model', createModel: true }, alice)
    const g = await h.registry.lineage('fraud', v.version)
    expect(g.nodes.map((n) => n.kind).sort()).toEqual(['code', 'file', 'job', 'model_version', 'notebook', 'run'])
    expect(g.edges).toContainEqual({ from: `run:${runId}`, to: 'model_version:fraud/1', kind: 'registered_from' })
    expect(g.edges).toContainEqual({ from: 'dataset:transactions@d1g3st', to: `run:${runId}`, kind: 'input' })
    const ol = await h.registry.openLineage('fraud', v.version)
    expect(ol.events.map((e) => e.eventType)).toEqual(['START', 'COMPLETE'])
    expect(ol.events[1]).toMatchObject({
      run: { runId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-/) },
      inputs: [{ namespace: 'local', name: '/data/tx.parquet', facets: { schema: { fields: [{ name: 'amount', type: 'double' }] }, version: { datasetVersion: 'd1g3st' } } }],
      outputs: [{ namespace: 'atelier-registry', name: 'models:/fraud/1' }]
    })
    const other = h.makeRun({ metrics: { accuracy: 0.95, f1: 0.8 }, params: { depth: '4' } })
    const v2 = await h.registry.createVersionFromRun({ name: 'fraud', runId: other, artifactPath: 'model' }, alice)
    await h.registry.cards.save('fraud', v2.version, { owner: 'bob' }, alice)
    const cmp = await h.registry.compare({ name: 'fraud', version: 1 }, { name: 'fraud', version: v2.version })
    expect(cmp.params).toEqual([{ key: 'depth', a: '3', b: '4', same: false }])
    expect(cmp.metrics.map((m) => [m.key, m.a, m.b])).toEqual([
      ['accuracy', 0.9, 0.95],
      ['f1', null, 0.8]
    ])
    expect(cmp.metrics[0].delta).toBeCloseTo(0.05)
    expect(cmp.card.find((c) => c.field === 'owner')).toMatchObject({ a: '', b: 'bob', same: false })
  })
})

describe('audit trail over registry changes', () => {
  it('every change is an audit event in the same transaction; editing one row behind the app is found by seq', async () => {
    const { version } = await h.register('fraud', { riskTier: 'medium' })
    await h.registry.reviews.request('fraud', version, alice, {})
    await h.registry.reviews.approve('fraud', version, bob, { comment: 'ok', moveAlias: 'champion' })
    const total = h.audit.list().total
    expect(total).toBeGreaterThanOrEqual(6)
    expect(h.audit.verify()).toMatchObject({ ok: true, checked: total })
    const approveSeq = h.audit.list({ actor: 'bob' }).events.find((e) => e.action === 'review.approve')!.seq
    h.db.exec('DROP TRIGGER audit_events_no_update')
    h.db.prepare("UPDATE audit_events SET comment = 'rubber stamp' WHERE seq = ?").run(approveSeq)
    expect(h.audit.verify().firstBroken?.seq).toBe(approveSeq)
  })

  it('registry.changed events reach the UI after each commit, and not for failed changes', async () => {
    h.registry.createModel({ name: 'fraud' }, alice)
    await codeOf(() => h.registry.createModel({ name: 'fraud' }, alice))
    expect(h.changed).toEqual([{ kind: 'model', name: 'fraud', version: null, action: 'model.create' }])
  })
})
