/**
 * The model registry (local backend, the app's SQLite store): registered models, versions, aliases
 * and tags, with every change and its audit event written in one transaction. Cards and checklists
 * (cards.ts), reviews and policies (reviews.ts), lineage and comparison (lineage.ts) hang off it.
 * Both doors — the contract's `registry.*` methods and MLflow's REST API (rest.ts) — call this
 * class, so the rules hold for every caller.
 */
import { join } from 'node:path'
import type { EventName, Events } from '../../../shared/api'
import type { Principal } from '../../../shared/auth'
import { AppError } from '../../../shared/errors'
import {
  ALIAS_RE,
  type ApprovalStatus,
  type LineageGraph,
  type ModelVersion,
  type ModelVersionPage,
  type OpenLineageExport,
  type PrincipalRef,
  type RegisteredModel,
  type RegisteredModelPage,
  type RegistryChangedEvent,
  type VersionComparison
} from '../../../shared/registry'
import type { AppDatabase } from '../../db'
import type { DomainEventBus } from '../../domainEvents'
import type { Logger } from '../../log'
import type { AuditEntry, AuditLog } from '../audit/AuditLog'
import { MlflowError } from '../tracking/errors'
import { parseFilter, parseOrderBy, type Clause } from '../tracking/filter'
import { numericCondition, stringCondition, type Bind } from '../tracking/sqlFilter'
import type { TrackingService } from '../tracking/TrackingService'
import { CardService, ChecklistService } from './cards'
import { compareVersions, lineageGraph, openLineageEvents } from './lineage'
import { PolicyEngine } from './policies'
import { ReviewService } from './reviews'
import { checkModelName, ref, RegistryStore, VERSION_COLUMNS, type ModelRow, type VersionRow } from './store'

export interface RegistryDeps {
  db: AppDatabase
  audit: AuditLog
  tracking: TrackingService
  domain: DomainEventBus
  emit: <E extends EventName>(event: E, payload: Events[E]) => void
  /** Folders of policy files, in order (workspace `.atelier/policies`, then `<dataDir>/policies`). */
  policyDirs: () => string[]
  log: Logger
  now?: () => number
}

export interface SearchRequest {
  filter?: string
  orderBy?: string[]
  maxResults?: number
  pageToken?: string
}

const MODEL_ORDER: Record<string, string> = {
  name: 'm.name',
  creation_timestamp: 'm.created_at',
  last_updated_timestamp: 'm.updated_at',
  timestamp: 'm.updated_at'
}
const VERSION_ORDER: Record<string, string> = {
  name: 'm.name',
  version_number: 'v.version',
  creation_timestamp: 'v.created_at',
  last_updated_timestamp: 'v.updated_at',
  timestamp: 'v.updated_at'
}

/** Turns MLflow's filter/order errors (thrown as MlflowError by the shared parser) into AppErrors. */
function filterError<T>(f: () => T): T {
  try {
    return f()
  } catch (err) {
    if (err instanceof MlflowError) throw new AppError('INVALID_REQUEST', err.message)
    throw err
  }
}

function decodeToken(token: string | undefined): number {
  if (!token) return 0
  try {
    const o = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown }
    if (typeof o.offset === 'number' && Number.isInteger(o.offset) && o.offset >= 0) return o.offset
  } catch {
    // fall through
  }
  throw new AppError('INVALID_REQUEST', 'Invalid page token')
}
const encodeToken = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url')

export class RegistryService {
  readonly store: RegistryStore
  readonly policies: PolicyEngine
  readonly cards: CardService
  readonly checklist: ChecklistService
  readonly reviews: ReviewService
  readonly now: () => number

  /** Called before a version (or, with null, a whole model) is deleted; one that throws refuses it (an endpoint serving it). */
  readonly deleteGuards: ((name: string, version: number | null) => void)[] = []

  constructor(readonly d: RegistryDeps) {
    this.store = new RegistryStore(d.db)
    this.now = d.now ?? Date.now
    this.policies = new PolicyEngine(d.policyDirs)
    this.cards = new CardService(this)
    this.checklist = new ChecklistService(this)
    this.reviews = new ReviewService(this)
  }

  /** Policy folders for a workspace and a data dir. */
  static policyDirs(workspacePath: string | null, dataDir: string): string[] {
    return [...(workspacePath ? [join(workspacePath, '.atelier', 'policies')] : []), join(dataDir, 'policies')]
  }

  // ---------- plumbing ----------

  /** Runs `f` in one transaction; the UI events it queued go out after the commit. */
  tx<T>(f: (changed: (e: RegistryChangedEvent) => void) => T): T {
    const events: RegistryChangedEvent[] = []
    const result = this.d.db.transaction(() => f((e) => events.push(e)))()
    for (const e of events) this.d.emit('registry.changed', e)
    return result
  }

  audit(e: AuditEntry): void {
    this.d.audit.append(e)
  }

  /**
   * Bumps the version's revision; with `expected`, only if nobody changed it since the caller read
   * it (REGISTRY_CONFLICT otherwise). Call it first in the transaction that changes the version.
   */
  touch(v: VersionRow, expected?: number): number {
    const now = this.now()
    const r = this.d.db
      .prepare('UPDATE model_versions SET revision = revision + 1, updated_at = ? WHERE id = ? AND (? IS NULL OR revision = ?)')
      .run(now, v.id, expected ?? null, expected ?? null)
    if (r.changes === 0) {
      const current = (this.d.db.prepare('SELECT revision FROM model_versions WHERE id = ?').get(v.id) as { revision: number } | undefined)?.revision
      throw new AppError(
        'REGISTRY_CONFLICT',
        `Version ${v.version} of '${v.name}' was changed by someone else (revision ${current}, you had ${expected}). Reload it and try again.`,
        { name: v.name, version: v.version, expectedRevision: expected, revision: current }
      )
    }
    this.d.db.prepare('UPDATE registered_models SET updated_at = ? WHERE id = ?').run(now, v.model_id)
    return v.revision + 1
  }

  versionEntity = (v: { name: string; version: number }) => `${v.name}/${v.version}`

  // ---------- registered models ----------

  getModel(name: string): RegisteredModel {
    return this.store.toModels([this.store.model(name)])[0]
  }

  /** MLflow's search_registered_models: filter over `name` and `tags.<key>`, order, offset paging. */
  searchModels(req: SearchRequest): RegisteredModelPage {
    const where: string[] = []
    const binds: Bind[] = []
    for (const c of filterError(() => parseFilter(req.filter))) {
      if (c.type === 'tag') this.tagCondition(c, 'registered_model_tags', 'model_id', 'm.id', where, binds)
      else if (c.type === 'attribute' && c.key === 'name') {
        const s = filterError(() => stringCondition('m.name', c, 'attribute'))
        where.push(s.sql)
        binds.push(...s.binds)
      } else throw new AppError('INVALID_REQUEST', `Invalid attribute key '${c.key}' specified. Valid keys are '{'name'}' and tags.<key>`)
    }
    const order = this.orderClause(req.orderBy, MODEL_ORDER, ['m.name ASC'])
    return this.pageModels(where, binds, order, req.maxResults ?? 100, req.pageToken, 1000)
  }

  /** The UI's model list: free text over name and description, exact tag pairs. */
  listModels(req: { query?: string; tags?: Record<string, string>; maxResults?: number; pageToken?: string; orderBy?: 'name' | 'updated' | 'created'; descending?: boolean }): RegisteredModelPage {
    const where: string[] = []
    const binds: Bind[] = []
    if (req.query?.trim()) {
      where.push('(instr(lower(m.name), lower(?)) > 0 OR instr(lower(m.description), lower(?)) > 0)')
      binds.push(req.query.trim(), req.query.trim())
    }
    for (const [k, v] of Object.entries(req.tags ?? {})) {
      where.push('m.id IN (SELECT model_id FROM registered_model_tags WHERE key = ? AND value = ?)')
      binds.push(k, v)
    }
    const col = { name: 'm.name', updated: 'm.updated_at', created: 'm.created_at' }[req.orderBy ?? 'name']
    const dir = (req.descending ?? (req.orderBy !== 'name' && req.orderBy !== undefined)) ? 'DESC' : 'ASC'
    const order = col === 'm.name' ? [`m.name ${dir}`] : [`${col} ${dir}`, 'm.name ASC']
    return this.pageModels(where, binds, order, req.maxResults ?? 100, req.pageToken, 1000)
  }

  private pageModels(where: string[], binds: Bind[], order: string[], max: number, token: string | undefined, cap: number): RegisteredModelPage {
    if (max < 1 || max > cap) throw new AppError('INVALID_REQUEST', `Invalid value for request parameter max_results. It must be at most ${cap}, but got value ${max}`)
    const offset = decodeToken(token)
    const sql = `SELECT m.* FROM registered_models m${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`
    const rows = this.d.db.prepare(sql).all(...binds, max + 1, offset) as ModelRow[]
    const more = rows.length > max
    return { models: this.store.toModels(rows.slice(0, max)), nextPageToken: more ? encodeToken(offset + max) : null }
  }

  private tagCondition(c: Clause, table: string, idCol: string, outer: string, where: string[], binds: Bind[]) {
    const s = filterError(() => stringCondition('value', c, 'tag'))
    where.push(`${outer} IN (SELECT ${idCol} FROM ${table} WHERE key = ? AND ${s.sql})`)
    binds.push(c.key, ...s.binds)
  }

  private orderClause(orderBy: string[] | undefined, cols: Record<string, string>, fallback: string[]): string[] {
    const out: string[] = []
    for (const entry of orderBy ?? []) {
      const o = filterError(() => parseOrderBy(entry))
      const col = o.type === 'attribute' ? cols[o.key] : undefined
      if (!col) throw new AppError('INVALID_REQUEST', `Invalid order by key '${o.key}' specified. Valid keys are ${JSON.stringify(Object.keys(cols))}`)
      out.push(`${col} ${o.ascending ? 'ASC' : 'DESC'}`)
    }
    for (const f of fallback) if (!out.some((o) => o.split(' ')[0] === f.split(' ')[0])) out.push(f)
    return out
  }

  createModel(req: { name: string; description?: string; tags?: Record<string, string> | { key: string; value: string }[] }, actor: Principal): RegisteredModel {
    const name = checkModelName(req.name)
    const tags = normTags(req.tags)
    for (const t of tags) checkTag(t.key, t.value)
    return this.tx((changed) => {
      if (this.store.findModel(name)) throw new AppError('ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`, { name })
      const now = this.now()
      const id = Number(
        this.d.db
          .prepare('INSERT INTO registered_models (name, description, created_at, updated_at, created_by_id, created_by_name) VALUES (?, ?, ?, ?, ?, ?)')
          .run(name, req.description ?? '', now, now, actor.id, actor.name).lastInsertRowid
      )
      const put = this.d.db.prepare('INSERT OR REPLACE INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?)')
      for (const t of tags) put.run(id, t.key, t.value)
      const model = this.getModel(name)
      this.audit({ actor: ref(actor), action: 'model.create', entityType: 'model', entity: name, after: { description: model.description, tags: model.tags } })
      changed({ kind: 'model', name, version: null, action: 'model.create' })
      return model
    })
  }

  updateModel(name: string, description: string, actor: Principal): RegisteredModel {
    return this.tx((changed) => {
      const m = this.store.model(name)
      this.d.db.prepare('UPDATE registered_models SET description = ?, updated_at = ? WHERE id = ?').run(description, this.now(), m.id)
      this.audit({ actor: ref(actor), action: 'model.update', entityType: 'model', entity: name, before: { description: m.description }, after: { description } })
      changed({ kind: 'model', name, version: null, action: 'model.update' })
      return this.getModel(name)
    })
  }

  renameModel(name: string, newName: string, actor: Principal): RegisteredModel {
    checkModelName(newName, 'new_name')
    return this.tx((changed) => {
      const m = this.store.model(name)
      if (newName !== name && this.store.findModel(newName)) throw new AppError('ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`, { name: newName })
      this.d.db.prepare('UPDATE registered_models SET name = ?, updated_at = ? WHERE id = ?').run(newName, this.now(), m.id)
      this.audit({ actor: ref(actor), action: 'model.rename', entityType: 'model', entity: newName, before: { name }, after: { name: newName } })
      changed({ kind: 'model', name: newName, version: null, action: 'model.rename' })
      return this.getModel(newName)
    })
  }

  /** Deletes the model with its versions, aliases, cards and reviews (the audit trail keeps what they were). */
  deleteModel(name: string, actor: Principal): void {
    for (const guard of this.deleteGuards) guard(name, null)
    this.tx((changed) => {
      const m = this.store.model(name)
      const before = this.getModel(name)
      const versions = this.d.db.prepare('SELECT version, approval_status FROM model_versions WHERE model_id = ? ORDER BY version').all(m.id)
      this.d.db.prepare('DELETE FROM registered_models WHERE id = ?').run(m.id)
      this.audit({ actor: ref(actor), action: 'model.delete', entityType: 'model', entity: name, before: { ...before, versions } })
      changed({ kind: 'model', name, version: null, action: 'model.delete' })
    })
  }

  // ---------- versions ----------

  getVersion(name: string, version: number): ModelVersion {
    return this.store.toVersions([this.store.version(name, version)])[0]
  }

  /** MLflow's search_model_versions: filter over name, run_id, source_path, version_number, tags. */
  searchVersions(req: SearchRequest): ModelVersionPage {
    const where: string[] = []
    const binds: Bind[] = []
    for (const c of filterError(() => parseFilter(req.filter))) {
      if (c.type === 'tag') {
        this.tagCondition(c, 'model_version_tags', 'version_id', 'v.id', where, binds)
        continue
      }
      if (c.type !== 'attribute') throw new AppError('INVALID_REQUEST', `Invalid entity type '${c.type}': model versions can be filtered by attributes and tags.<key>`)
      const column = { name: 'm.name', run_id: 'v.run_id', source_path: 'v.source', approval_status: 'v.approval_status' }[c.key]
      let s
      if (column) s = filterError(() => stringCondition(column, c, 'attribute'))
      else if (c.key === 'version_number' || c.key === 'version') s = filterError(() => numericCondition('v.version', c, 'attribute'))
      else throw new AppError('INVALID_REQUEST', `Invalid attribute key '${c.key}' specified. Valid keys are '{'name', 'run_id', 'source_path', 'version_number'}' and tags.<key>`)
      where.push(s.sql)
      binds.push(...s.binds)
    }
    const order = this.orderClause(req.orderBy, VERSION_ORDER, ['m.name ASC', 'v.version DESC'])
    return this.pageVersions(where, binds, order, req.maxResults ?? 10_000, req.pageToken, 200_000)
  }

  /** The UI's versions table (one model, newest first) or a search across models. */
  listVersions(req: { name?: string; query?: string; tags?: Record<string, string>; approvalStatus?: ApprovalStatus; maxResults?: number; pageToken?: string }): ModelVersionPage {
    const where: string[] = []
    const binds: Bind[] = []
    if (req.name !== undefined) {
      const m = this.store.model(req.name)
      where.push('v.model_id = ?')
      binds.push(m.id)
    }
    if (req.query?.trim()) {
      where.push('(instr(lower(m.name), lower(?)) > 0 OR instr(lower(v.description), lower(?)) > 0)')
      binds.push(req.query.trim(), req.query.trim())
    }
    for (const [k, v] of Object.entries(req.tags ?? {})) {
      where.push('v.id IN (SELECT version_id FROM model_version_tags WHERE key = ? AND value = ?)')
      binds.push(k, v)
    }
    if (req.approvalStatus) {
      where.push('v.approval_status = ?')
      binds.push(req.approvalStatus)
    }
    const order = req.name !== undefined ? ['v.version DESC'] : ['v.updated_at DESC', 'v.id DESC']
    return this.pageVersions(where, binds, order, req.maxResults ?? 100, req.pageToken, 10_000)
  }

  private pageVersions(where: string[], binds: Bind[], order: string[], max: number, token: string | undefined, cap: number): ModelVersionPage {
    if (max < 1 || max > cap) throw new AppError('INVALID_REQUEST', `Invalid value for request parameter max_results. It must be at most ${cap}, but got value ${max}`)
    const offset = decodeToken(token)
    const sql = `SELECT ${VERSION_COLUMNS} FROM model_versions v JOIN registered_models m ON m.id = v.model_id${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`
    const rows = this.d.db.prepare(sql).all(...binds, max + 1, offset) as VersionRow[]
    const more = rows.length > max
    return { versions: this.store.toVersions(rows.slice(0, max)), nextPageToken: more ? encodeToken(offset + max) : null }
  }

  /**
   * A new version of `name` (MLflow's create_model_version). `source` is where the files are; with a
   * run, `artifactPath` is the folder inside the run's artifacts. Numbers are never reused.
   */
  createVersion(
    req: { name: string; source: string; runId?: string | null; artifactPath?: string; description?: string; tags?: Record<string, string> | { key: string; value: string }[]; createModel?: boolean },
    actor: Principal
  ): ModelVersion {
    const name = checkModelName(req.name)
    if (!req.source) throw new AppError('INVALID_REQUEST', "Missing value for required parameter 'source'.", { field: 'source' })
    const tags = normTags(req.tags)
    for (const t of tags) checkTag(t.key, t.value)
    return this.tx((changed) => {
      let m = this.store.findModel(name)
      if (!m && req.createModel) {
        this.createModel({ name }, actor)
        m = this.store.findModel(name)
      }
      if (!m) throw new AppError('NOT_FOUND', `Registered Model with name=${name} not found`, { name })
      const now = this.now()
      const version = m.next_version
      this.d.db.prepare('UPDATE registered_models SET next_version = next_version + 1, updated_at = ? WHERE id = ?').run(now, m.id)
      const id = Number(
        this.d.db
          .prepare(
            `INSERT INTO model_versions (model_id, version, description, created_at, updated_at, created_by_id, created_by_name, run_id, artifact_path, source)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
          )
          .run(m.id, version, req.description ?? '', now, now, actor.id, actor.name, req.runId ?? null, req.artifactPath ?? '', req.source).lastInsertRowid
      )
      const put = this.d.db.prepare('INSERT OR REPLACE INTO model_version_tags (version_id, key, value) VALUES (?, ?, ?)')
      for (const t of tags) put.run(id, t.key, t.value)
      const mv = this.getVersion(name, version)
      this.audit({
        actor: ref(actor),
        action: 'version.create',
        entityType: 'version',
        entity: this.versionEntity(mv),
        after: { source: mv.source, runId: mv.runId, artifactPath: mv.artifactPath, description: mv.description, tags: mv.tags }
      })
      changed({ kind: 'version', name, version, action: 'version.create' })
      return mv
    })
  }

  /** Registers `artifactPath` of a run (a folder holding an MLmodel file) — the UI's "Register model". */
  async createVersionFromRun(
    req: { name: string; runId: string; artifactPath: string; description?: string; tags?: Record<string, string>; createModel?: boolean },
    actor: Principal
  ): Promise<ModelVersion> {
    checkModelName(req.name)
    const run = this.run(req.runId)
    const path = req.artifactPath.replace(/^\/+|\/+$/g, '')
    if (path === '' || path.split('/').some((s) => s === '..' || s === '.')) {
      throw new AppError('INVALID_REQUEST', `Invalid artifact path '${req.artifactPath}'`, { field: 'artifactPath' })
    }
    let files: { path: string; is_dir: boolean }[] = []
    try {
      files = await this.d.tracking.listRunArtifacts(req.runId, path)
    } catch {
      files = []
    }
    if (!files.some((f) => !f.is_dir && f.path === `${path}/MLmodel`)) {
      throw new AppError('INVALID_REQUEST', `'${path}' in run ${req.runId} is not an MLflow model folder (it has no MLmodel file).`, { field: 'artifactPath' })
    }
    return this.createVersion(
      { name: req.name, source: `${run.artifact_uri.replace(/\/+$/, '')}/${path}`, runId: req.runId, artifactPath: path, description: req.description, tags: req.tags, createModel: req.createModel },
      actor
    )
  }

  run(runId: string) {
    try {
      return this.d.tracking.runs.require(runId)
    } catch (err) {
      if (err instanceof MlflowError) throw new AppError('NOT_FOUND', `Run with id=${runId} not found`, { runId })
      throw err
    }
  }

  updateVersion(name: string, version: number, patch: { description?: string }, actor: Principal, expectedRevision?: number): ModelVersion {
    return this.tx((changed) => {
      const v = this.store.version(name, version)
      this.touch(v, expectedRevision)
      if (patch.description !== undefined) this.d.db.prepare('UPDATE model_versions SET description = ? WHERE id = ?').run(patch.description, v.id)
      this.audit({ actor: ref(actor), action: 'version.update', entityType: 'version', entity: this.versionEntity(v), before: { description: v.description }, after: patch })
      changed({ kind: 'version', name, version, action: 'version.update' })
      return this.getVersion(name, version)
    })
  }

  /** As in MLflow, an Approved or aliased version can be deleted; the audit trail records what it was. */
  deleteVersion(name: string, version: number, actor: Principal): void {
    for (const guard of this.deleteGuards) guard(name, version)
    this.tx((changed) => {
      const v = this.store.version(name, version)
      const before = this.getVersion(name, version)
      this.d.db.prepare('DELETE FROM model_versions WHERE id = ?').run(v.id)
      this.d.db.prepare('UPDATE registered_models SET updated_at = ? WHERE id = ?').run(this.now(), v.model_id)
      this.audit({ actor: ref(actor), action: 'version.delete', entityType: 'version', entity: this.versionEntity(v), before })
      changed({ kind: 'version', name, version, action: 'version.delete' })
    })
  }

  // ---------- aliases and tags ----------

  setAlias(name: string, alias: string, version: number, actor: Principal): RegisteredModel {
    checkAlias(alias)
    const moved = this.tx((changed) => {
      const v = this.store.version(name, version)
      const from = this.store.aliasTarget(v.model_id, alias)
      if (from === version) return null
      this.touch(v)
      this.d.db.prepare('INSERT OR REPLACE INTO model_aliases (model_id, alias, version_id) VALUES (?, ?, ?)').run(v.model_id, alias, v.id)
      this.audit({ actor: ref(actor), action: 'alias.set', entityType: 'alias', entity: `${name}@${alias}`, before: from === null ? null : { version: from }, after: { version } })
      changed({ kind: 'alias', name, version, action: 'alias.set' })
      return { from }
    })
    if (moved) this.d.domain.emit('alias.moved', { name, alias, from: moved.from, to: version, actor: ref(actor), at: this.now() })
    return this.getModel(name)
  }

  /** Moves an alias inside a transaction the caller already holds (approval); returns the previous target. */
  moveAliasInTx(v: VersionRow, alias: string, actor: PrincipalRef, comment: string): number | null {
    const from = this.store.aliasTarget(v.model_id, alias)
    if (from === v.version) return from
    this.d.db.prepare('INSERT OR REPLACE INTO model_aliases (model_id, alias, version_id) VALUES (?, ?, ?)').run(v.model_id, alias, v.id)
    this.audit({ actor, action: 'alias.set', entityType: 'alias', entity: `${v.name}@${alias}`, before: from === null ? null : { version: from }, after: { version: v.version }, comment })
    return from
  }

  deleteAlias(name: string, alias: string, actor: Principal): RegisteredModel {
    checkAlias(alias)
    const from = this.tx((changed) => {
      const m = this.store.model(name)
      const target = this.store.aliasTarget(m.id, alias)
      if (target === null) return null
      this.touch(this.store.version(name, target))
      this.d.db.prepare('DELETE FROM model_aliases WHERE model_id = ? AND alias = ?').run(m.id, alias)
      this.audit({ actor: ref(actor), action: 'alias.delete', entityType: 'alias', entity: `${name}@${alias}`, before: { version: target } })
      changed({ kind: 'alias', name, version: target, action: 'alias.delete' })
      return target
    })
    if (from !== null) this.d.domain.emit('alias.moved', { name, alias, from, to: null, actor: ref(actor), at: this.now() })
    return this.getModel(name)
  }

  versionByAlias(name: string, alias: string): ModelVersion {
    const m = this.store.model(name)
    const v = this.store.aliasTarget(m.id, alias)
    if (v === null) throw new AppError('NOT_FOUND', `Registered model alias ${alias} not found.`, { name, alias })
    return this.getVersion(name, v)
  }

  setTag(name: string, version: number | null, key: string, value: string, actor: Principal): void {
    checkTag(key, value)
    this.tx((changed) => {
      if (version === null) {
        const m = this.store.model(name)
        const before = this.d.db.prepare('SELECT value FROM registered_model_tags WHERE model_id = ? AND key = ?').get(m.id, key) as { value: string } | undefined
        this.d.db.prepare('INSERT OR REPLACE INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?)').run(m.id, key, value)
        this.d.db.prepare('UPDATE registered_models SET updated_at = ? WHERE id = ?').run(this.now(), m.id)
        this.audit({ actor: ref(actor), action: 'tag.set', entityType: 'tag', entity: `${name}#${key}`, before: before ? { value: before.value } : null, after: { value } })
      } else {
        const v = this.store.version(name, version)
        const before = this.d.db.prepare('SELECT value FROM model_version_tags WHERE version_id = ? AND key = ?').get(v.id, key) as { value: string } | undefined
        this.touch(v)
        this.d.db.prepare('INSERT OR REPLACE INTO model_version_tags (version_id, key, value) VALUES (?, ?, ?)').run(v.id, key, value)
        this.audit({ actor: ref(actor), action: 'tag.set', entityType: 'tag', entity: `${name}/${version}#${key}`, before: before ? { value: before.value } : null, after: { value } })
      }
      changed({ kind: 'tag', name, version, action: 'tag.set' })
    })
  }

  deleteTag(name: string, version: number | null, key: string, actor: Principal): void {
    checkTag(key, '')
    this.tx((changed) => {
      if (version === null) {
        const m = this.store.model(name)
        const before = this.d.db.prepare('SELECT value FROM registered_model_tags WHERE model_id = ? AND key = ?').get(m.id, key) as { value: string } | undefined
        if (!before) return
        this.d.db.prepare('DELETE FROM registered_model_tags WHERE model_id = ? AND key = ?').run(m.id, key)
        this.audit({ actor: ref(actor), action: 'tag.delete', entityType: 'tag', entity: `${name}#${key}`, before: { value: before.value } })
      } else {
        const v = this.store.version(name, version)
        const before = this.d.db.prepare('SELECT value FROM model_version_tags WHERE version_id = ? AND key = ?').get(v.id, key) as { value: string } | undefined
        if (!before) return
        this.touch(v)
        this.d.db.prepare('DELETE FROM model_version_tags WHERE version_id = ? AND key = ?').run(v.id, key)
        this.audit({ actor: ref(actor), action: 'tag.delete', entityType: 'tag', entity: `${name}/${version}#${key}`, before: { value: before.value } })
      }
      changed({ kind: 'tag', name, version, action: 'tag.delete' })
    })
  }

  // ---------- model URIs ----------

  /** Where a version's files can be downloaded from (the run's artifact URI, else its source). */
  downloadUri(v: Pick<VersionRow, 'run_id' | 'artifact_path' | 'source'>): string {
    if (v.run_id && v.artifact_path) {
      try {
        const run = this.d.tracking.runs.require(v.run_id)
        return `${run.artifact_uri.replace(/\/+$/, '')}/${v.artifact_path}`
      } catch {
        // the run is gone: fall back to the recorded source
      }
    }
    return v.source
  }

  /** `models:/<name>/<version>`, `models:/<name>@<alias>` and `models:/<name>/latest`. */
  resolveModelUri(uri: string): { name: string; version: number; artifactUri: string } {
    const m = /^models:\/([^/@]+)(?:\/(\d+|latest)|@([A-Za-z0-9_-]+))\/?$/.exec(uri)
    if (!m) throw new AppError('INVALID_REQUEST', `Not a model URI: '${uri}' (expected models:/<name>/<version> or models:/<name>@<alias>)`)
    const name = decodeURIComponent(m[1])
    let version: number
    if (m[3]) version = this.versionByAlias(name, m[3]).version
    else if (m[2] === 'latest') {
      const latest = this.getModel(name).latestVersion
      if (latest === null) throw new AppError('NOT_FOUND', `Registered model '${name}' has no versions`, { name })
      version = latest
    } else version = Number(m[2])
    const v = this.store.version(name, version)
    return { name, version, artifactUri: this.downloadUri(v) }
  }

  // ---------- lineage and comparison ----------

  lineage(name: string, version: number): Promise<LineageGraph> {
    return Promise.resolve(lineageGraph(this, this.store.version(name, version)))
  }

  openLineage(name: string, version: number): Promise<OpenLineageExport> {
    return Promise.resolve(openLineageEvents(this, this.store.version(name, version)))
  }

  compare(a: { name: string; version: number }, b: { name: string; version: number }): Promise<VersionComparison> {
    return Promise.resolve(compareVersions(this, this.store.version(a.name, a.version), this.store.version(b.name, b.version)))
  }
}

function normTags(tags: Record<string, string> | { key: string; value: string }[] | undefined): { key: string; value: string }[] {
  if (!tags) return []
  if (Array.isArray(tags)) return tags.map((t) => ({ key: t.key, value: t.value ?? '' }))
  return Object.entries(tags).map(([key, value]) => ({ key, value }))
}

export function checkTag(key: unknown, value: unknown): void {
  if (typeof key !== 'string' || key === '') throw new AppError('INVALID_REQUEST', 'Tag key cannot be empty.', { field: 'key' })
  if (key.length > 250) throw new AppError('INVALID_REQUEST', `Tag key '${key.slice(0, 50)}…' is longer than 250 characters.`, { field: 'key' })
  if (typeof value !== 'string') throw new AppError('INVALID_REQUEST', `Tag value for '${key}' must be a string.`, { field: 'value' })
  if (value.length > 5000) throw new AppError('INVALID_REQUEST', `Tag value for '${key}' is longer than 5000 characters.`, { field: 'value' })
}

export function checkAlias(alias: unknown): void {
  if (typeof alias !== 'string' || !ALIAS_RE.test(alias)) {
    throw new AppError('INVALID_REQUEST', `Invalid alias name '${String(alias).slice(0, 300)}': letters, digits, dash and underscore only.`, { field: 'alias' })
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw new AppError('INVALID_REQUEST', `'${alias}' is reserved and cannot be used as an alias.`, { field: 'alias' })
  }
}
