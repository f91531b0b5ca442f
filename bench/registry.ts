/**
 * `npm run bench:registry`: the model registry over 10,000 registered models and 100,000 versions,
 * each measurement beside a naive baseline in the same run:
 *  - search with a tag filter (MLflow's search_model_versions / search_registered_models) against
 *    (a) the same queries on a copy of the database without the registry's secondary indexes and
 *    (b) an N+1 reader that loads every version and asks for its tags one query per row;
 *  - the review page's data (card, metrics vs champion, artifacts, checklist, policies, reviews)
 *    against the same call on the unindexed copy;
 *  - verifying a 100,000-event audit chain against a per-row reader (one query per event, JSON
 *    re-parsed and re-serialised canonically).
 * Prints `name: value` lines. Runs in-process on a temp data dir; nothing leaves the machine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createHash } from 'node:crypto'
import type { Principal } from '../src/shared/auth'
import { openDatabase, type AppDatabase } from '../src/main/db'
import { DomainEventBus } from '../src/main/domainEvents'
import { silentLogger } from '../src/main/log'
import { AuditLog, canonicalJson, GENESIS_HASH } from '../src/main/services/audit/AuditLog'
import { RegistryService } from '../src/main/services/registry/RegistryService'
import { TrackingService } from '../src/main/services/tracking/TrackingService'

const MODELS = Number(process.env.BENCH_MODELS ?? 10_000)
const VERSIONS_PER_MODEL = Number(process.env.BENCH_VERSIONS_PER_MODEL ?? 10)
const AUDIT_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 100_000)
const TEAMS = 50

const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const ms = (x: number) => x.toFixed(2)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const scientist: Principal = { id: 'u-sci', name: 'sci', role: 'scientist', via: 'session' }
const reviewer: Principal = { id: 'u-rev', name: 'rev', role: 'reviewer', via: 'session' }

async function time<T>(runs: number, f: () => T | Promise<T>): Promise<{ p50: number; last: T }> {
  let last!: T
  for (let i = 0; i < 3; i++) last = await f()
  const xs: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    last = await f()
    xs.push(performance.now() - t0)
  }
  return { p50: median(xs), last }
}

function services(dataDir: string, db: AppDatabase) {
  const tracking = new TrackingService({ db, dataDir, log: silentLogger, emit: () => {} })
  const audit = new AuditLog(db)
  const registry = new RegistryService({ db, audit, tracking, domain: new DomainEventBus(), emit: () => {}, log: silentLogger, policyDirs: () => [join(dataDir, 'policies')] })
  return { tracking, audit, registry }
}

/** Bulk rows straight into the tables (the service's own paths are measured, not the seeding). */
function seed(db: AppDatabase) {
  const now = Date.now()
  const insModel = db.prepare('INSERT INTO registered_models (id, name, description, created_at, updated_at, created_by_id, created_by_name, next_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  const insModelTag = db.prepare('INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?)')
  const insVersion = db.prepare(
    `INSERT INTO model_versions (id, model_id, version, description, created_at, updated_at, created_by_id, created_by_name, run_id, artifact_path, source, approval_status, risk_tier, review_round, review_requested_at)
     VALUES (?, ?, ?, '', ?, ?, 'u-sci', 'sci', NULL, 'model', ?, ?, ?, ?, ?)`
  )
  const insVersionTag = db.prepare('INSERT INTO model_version_tags (version_id, key, value) VALUES (?, ?, ?)')
  const insAlias = db.prepare('INSERT INTO model_aliases (model_id, alias, version_id) VALUES (?, ?, ?)')
  const insReview = db.prepare("INSERT INTO model_reviews (version_id, round, reviewer_id, reviewer_name, decision, comment, created_at) VALUES (?, 1, ?, 'someone', ?, 'ok', ?)")
  const insSnapshot = db.prepare('INSERT INTO model_card_snapshots (version_id, published_at, content, content_hash) VALUES (?, ?, ?, ?)')
  const insTick = db.prepare("INSERT INTO review_checklist_ticks (version_id, item_id, checked_by_id, checked_by_name, checked_at) VALUES (?, ?, 'u-rev', 'rev', ?)")
  db.transaction(() => {
    let vid = 0
    for (let m = 1; m <= MODELS; m++) {
      insModel.run(m, `model-${String(m).padStart(5, '0')}`, `model number ${m}`, now - m, now - m, 'u-sci', 'sci', VERSIONS_PER_MODEL + 1)
      insModelTag.run(m, 'team', `team-${m % TEAMS}`)
      insModelTag.run(m, 'domain', m % 2 ? 'payments' : 'lending')
      for (let v = 1; v <= VERSIONS_PER_MODEL; v++) {
        vid++
        const pending = vid % 100 === 0
        insVersion.run(vid, m, v, now - vid, now - vid, `mlflow-artifacts:/0/x/artifacts/model`, pending ? 'PendingManualApproval' : v === 1 ? 'Approved' : 'None', 'medium', pending ? 1 : 0, pending ? now - vid : null)
        insVersionTag.run(vid, 'team', `team-${m % TEAMS}`)
        insVersionTag.run(vid, 'stage', ['candidate', 'validated', 'shadow', 'retired'][v % 4])
        if (v === 1) {
          insAlias.run(m, 'champion', vid)
          // an approved first version: its request and two approvals, a published card and ticked checklist
          insReview.run(vid, 'u-sci', 'requested', now - vid)
          insReview.run(vid, 'u-rev', 'approved', now - vid)
          insReview.run(vid, 'u-rev2', 'approved', now - vid)
          insSnapshot.run(vid, now - vid, '{"fields":{},"riskTier":"medium"}', 'h'.repeat(64))
          insTick.run(vid, 'bias', now - vid)
        }
      }
    }
  })()
}

function seedAudit(audit: AuditLog, db: AppDatabase) {
  const batch = 10_000
  for (let i = 0; i < AUDIT_EVENTS; i += batch) {
    db.transaction(() => {
      for (let j = i; j < Math.min(AUDIT_EVENTS, i + batch); j++) {
        const m = (j % MODELS) + 1
        audit.append({
          actor: j % 3 ? scientist : reviewer,
          action: j % 3 ? 'version.create' : 'review.approve',
          entityType: 'version',
          entity: `model-${String(m).padStart(5, '0')}/${(j % VERSIONS_PER_MODEL) + 1}`,
          before: j % 3 ? null : { approvals: 0 },
          after: { source: 'mlflow-artifacts:/0/x/artifacts/model', tags: { team: `team-${m % TEAMS}` } },
          comment: j % 3 ? '' : 'looks good'
        })
      }
    })()
  }
}

/** The review-page subject: two runs with metrics, params and evaluation artifacts; champion on v1. */
function seedReviewSubject(dataDir: string, tracking: TrackingService, db: AppDatabase) {
  const mk = (acc: number) => {
    const run = tracking.runs.create({ experimentId: '0', runName: 'train' })
    const id = run.info.run_id
    const metrics = Array.from({ length: 20 }, (_, i) => ({ key: i === 0 ? 'accuracy' : `metric_${i}`, value: i === 0 ? acc : i / 10, timestamp: Date.now(), step: 0 }))
    tracking.runs.logBatch(id, metrics, Array.from({ length: 20 }, (_, i) => ({ key: `param_${i}`, value: String(i) })), [])
    const dir = join(dataDir, 'artifacts', tracking.runArtifactDir(tracking.runs.require(id))!)
    for (const f of ['model/MLmodel', 'model/model.pkl', 'plots/roc.png', 'plots/pr.png', 'confusion_matrix.png', 'shap_summary.png', 'fairness_report.html']) {
      mkdirSync(dirname(join(dir, f)), { recursive: true })
      writeFileSync(join(dir, f), 'x')
    }
    return id
  }
  const champion = mk(0.9)
  const candidate = mk(0.93)
  const name = 'model-00042'
  const id = (db.prepare('SELECT id FROM registered_models WHERE name = ?').get(name) as { id: number }).id
  db.prepare('UPDATE model_versions SET run_id = ? WHERE model_id = ? AND version = 1').run(champion, id)
  db.prepare("UPDATE model_versions SET run_id = ?, approval_status = 'PendingManualApproval', review_round = 1, review_requested_at = ? WHERE model_id = ? AND version = 2").run(candidate, Date.now(), id)
  const pol = join(dataDir, 'policies')
  mkdirSync(pol, { recursive: true })
  for (let f = 0; f < 3; f++) {
    const rules = Array.from({ length: 4 }, (_, i) => `  - name: rule-${f}-${i}\n    scope: { models: "model-*", risk_tiers: [medium, high] }\n    expr: metrics.accuracy >= 0.${8 + (i % 2)} && size(params) > 3\n    severity: ${i % 2 ? 'warn' : 'block'}\n    message: rule ${i} of file ${f}\n`)
    writeFileSync(join(pol, `policy-${f}.yaml`), `rules:\n${rules.join('')}`)
  }
  return { name, version: 2 }
}

const REGISTRY_INDEXES = [
  'registered_models_by_updated',
  'registered_models_by_created',
  'registered_model_tags_by_value',
  'model_versions_by_approval',
  'model_versions_by_run',
  'model_versions_by_updated',
  'model_version_tags_by_value',
  'model_aliases_by_version',
  'model_card_snapshots_by_version',
  'model_reviews_by_version',
  'audit_events_by_entity',
  'audit_events_by_actor'
]

/** Naive search: every version of the store, then one query per row for its tags, filtered in JS. */
function naiveSearchVersions(db: AppDatabase, key: string, value: string, limit: number) {
  const all = db.prepare('SELECT v.id, m.name, v.version FROM model_versions v JOIN registered_models m ON m.id = v.model_id').all() as { id: number; name: string; version: number }[]
  const tagsOf = db.prepare('SELECT key, value FROM model_version_tags WHERE version_id = ?')
  const hits = all.filter((v) => (tagsOf.all(v.id) as { key: string; value: string }[]).some((t) => t.key === key && t.value === value))
  hits.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : b.version - a.version))
  return hits.slice(0, limit)
}

/** Naive verification: one query per event, before/after parsed and re-serialised canonically. */
function naiveVerify(db: AppDatabase): { ok: boolean; checked: number } {
  const n = (db.prepare('SELECT max(seq) AS n FROM audit_events').get() as { n: number }).n
  const one = db.prepare('SELECT * FROM audit_events WHERE seq = ?')
  let prev = GENESIS_HASH
  for (let seq = 1; seq <= n; seq++) {
    const r = one.get(seq) as Record<string, any>
    const before = r.before === null ? null : canonicalJson(JSON.parse(r.before))
    const after = r.after === null ? null : canonicalJson(JSON.parse(r.after))
    const body = JSON.stringify([r.seq, r.time, r.actor_id, r.actor_name, r.action, r.entity_type, r.entity, before, after, r.comment])
    const h = createHash('sha256').update(prev).update(body).digest('hex')
    if (h !== r.hash || r.prev_hash !== prev) return { ok: false, checked: seq - 1 }
    prev = r.hash
  }
  return { ok: true, checked: n }
}

export async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'atelier-bench-registry-'))
  try {
    const dataDir = join(root, 'data')
    const db = openDatabase(join(dataDir, 'atelier.db'))
    const { tracking, audit, registry } = services(dataDir, db)
    let t0 = performance.now()
    seed(db)
    const subject = seedReviewSubject(dataDir, tracking, db)
    line('models', MODELS)
    line('versions', MODELS * VERSIONS_PER_MODEL)
    line('seed_ms', ms(performance.now() - t0))
    t0 = performance.now()
    seedAudit(audit, db)
    line('audit_events', AUDIT_EVENTS)
    line('audit_append_per_s', Math.round(AUDIT_EVENTS / ((performance.now() - t0) / 1000)))
    db.exec('ANALYZE')

    // the same data without the registry's secondary indexes
    const naiveDir = join(root, 'naive')
    mkdirSync(naiveDir, { recursive: true })
    db.exec(`VACUUM INTO '${join(naiveDir, 'atelier.db').replace(/'/g, "''")}'`)
    const ndb = openDatabase(join(naiveDir, 'atelier.db'))
    for (const ix of REGISTRY_INDEXES) ndb.exec(`DROP INDEX IF EXISTS ${ix}`)
    ndb.exec('ANALYZE')
    const naive = services(dataDir, ndb)

    // ---- search with a tag filter ----
    const filter = "tags.team = 'team-7'"
    const vs = await time(20, () => registry.searchVersions({ filter, maxResults: 100 }))
    const vsNoIx = await time(5, () => naive.registry.searchVersions({ filter, maxResults: 100 }))
    const vsN1 = await time(1, () => naiveSearchVersions(ndb, 'team', 'team-7', 100))
    if (vs.last.versions.map((v) => `${v.name}/${v.version}`).join() !== vsN1.last.map((v) => `${v.name}/${v.version}`).join()) throw new Error('search results differ from the naive baseline')
    line('search_versions_tag_ms', ms(vs.p50))
    line('search_versions_tag_no_index_ms', ms(vsNoIx.p50))
    line('search_versions_tag_n_plus_1_ms', ms(vsN1.p50))
    line('search_versions_ratio_no_index_over_service', (vsNoIx.p50 / vs.p50).toFixed(1))
    line('search_versions_ratio_n_plus_1_over_service', (vsN1.p50 / vs.p50).toFixed(1))
    const ms2 = await time(20, () => registry.searchModels({ filter: "tags.team = 'team-7' AND tags.domain = 'payments'", maxResults: 100 }))
    const ms2NoIx = await time(5, () => naive.registry.searchModels({ filter: "tags.team = 'team-7' AND tags.domain = 'payments'", maxResults: 100 }))
    line('search_models_tag_ms', ms(ms2.p50))
    line('search_models_tag_no_index_ms', ms(ms2NoIx.p50))
    line('search_models_ratio_no_index_over_service', (ms2NoIx.p50 / ms2.p50).toFixed(1))
    line('search_within_budget_50ms', vs.p50 <= 50 && ms2.p50 <= 50 ? 'yes' : 'NO')

    // ---- review queue and review page ----
    const q = await time(20, () => registry.reviews.queue(100))
    const qNoIx = await time(5, () => naive.registry.reviews.queue(100))
    line('review_queue_ms', ms(q.p50))
    line('review_queue_no_index_ms', ms(qNoIx.p50))
    line('review_queue_ratio_no_index_over_service', (qNoIx.p50 / q.p50).toFixed(1))
    const page = await time(20, () => registry.reviews.page(subject.name, subject.version, reviewer))
    const pageNoIx = await time(5, () => naive.registry.reviews.page(subject.name, subject.version, reviewer))
    if (page.last.metrics.length !== 20 || page.last.champion?.version !== 1 || page.last.policies.results.length !== 12) throw new Error('review page data incomplete')
    line('review_page_ms', ms(page.p50))
    line('review_page_no_index_ms', ms(pageNoIx.p50))
    line('review_page_ratio_no_index_over_service', (pageNoIx.p50 / page.p50).toFixed(1))
    line('review_page_within_budget_100ms', page.p50 <= 100 ? 'yes' : 'NO')

    // ---- audit chain verification ----
    const v = await time(3, () => audit.verify())
    if (!v.last.ok || v.last.checked !== AUDIT_EVENTS) throw new Error(`audit verification failed: ${JSON.stringify(v.last)}`)
    const nv = await time(1, () => naiveVerify(db))
    if (!nv.last.ok) throw new Error('naive verification disagrees')
    line('audit_verify_100k_ms', ms(v.p50))
    line('audit_verify_naive_ms', ms(nv.p50))
    line('audit_verify_ratio_naive_over_service', (nv.p50 / v.p50).toFixed(1))
    line('audit_verify_within_budget_1s', v.p50 <= 1000 ? 'yes' : 'NO')
    tracking.dispose()
    naive.tracking.dispose()
    ndb.close()
    db.close()
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (!process.env.VITEST) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
