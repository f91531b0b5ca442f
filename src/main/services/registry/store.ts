/**
 * Row access for the registry tables: lookups that answer NOT_FOUND with MLflow's wording, and the
 * mapping of rows to the contract's RegisteredModel / ModelVersion, batched for lists (one query
 * per kind of child row, never one per model or version).
 */
import { AppError } from '../../../shared/errors'
import {
  MODEL_NAME_RE,
  type ApprovalStatus,
  type PolicyState,
  type PrincipalRef,
  type RegisteredModel,
  type ModelVersion,
  type RiskTier
} from '../../../shared/registry'
import type { AppDatabase } from '../../db'

export interface ModelRow {
  id: number
  name: string
  description: string
  created_at: number
  updated_at: number
  created_by_id: string
  created_by_name: string
  next_version: number
}

export interface VersionRow {
  id: number
  model_id: number
  name: string
  version: number
  description: string
  created_at: number
  updated_at: number
  created_by_id: string
  created_by_name: string
  run_id: string | null
  artifact_path: string
  source: string
  status: string
  approval_status: ApprovalStatus
  revision: number
  risk_tier: RiskTier | null
  review_round: number
  review_requested_at: number | null
  review_requested_by_id: string | null
  review_requested_by_name: string | null
  policy_state: PolicyState | null
  policy_result: string | null
  pending_alias: string | null
}

export const VERSION_COLUMNS = `v.id, v.model_id, m.name, v.version, v.description, v.created_at, v.updated_at, v.created_by_id,
  v.created_by_name, v.run_id, v.artifact_path, v.source, v.status, v.approval_status, v.revision, v.risk_tier, v.review_round,
  v.review_requested_at, v.review_requested_by_id, v.review_requested_by_name, v.policy_state, v.policy_result, v.pending_alias`

export const ref = (p: { id: string; name: string }): PrincipalRef => ({ id: p.id, name: p.name })

/** Names as MLflow's REST API receives them are checked here too (the contract checks the UI's). */
export function checkModelName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name === '') throw new AppError('INVALID_REQUEST', `Registered model ${field} cannot be empty.`, { field })
  if (name.length > 256 || !MODEL_NAME_RE.test(name)) {
    throw new AppError(
      'INVALID_REQUEST',
      `Invalid model name '${name.slice(0, 300)}': use letters, digits, space, dot, dash and underscore (no '/', '@' or ':'), at most 256 characters.`,
      { field }
    )
  }
  return name
}

const inList = (ids: readonly number[]) => `(${ids.map(() => '?').join(',')})`

export class RegistryStore {
  private readonly modelByName
  private readonly versionByName

  constructor(readonly db: AppDatabase) {
    this.modelByName = db.prepare('SELECT * FROM registered_models WHERE name = ?')
    this.versionByName = db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE m.name = ? AND v.version = ?`
    )
  }

  findModel(name: string): ModelRow | undefined {
    return this.modelByName.get(name) as ModelRow | undefined
  }

  model(name: string): ModelRow {
    const m = this.findModel(name)
    if (!m) throw new AppError('NOT_FOUND', `Registered Model with name=${name} not found`, { name })
    return m
  }

  version(name: string, version: number): VersionRow {
    const v = this.versionByName.get(name, version) as VersionRow | undefined
    if (!v) {
      this.model(name)
      throw new AppError('NOT_FOUND', `Model Version (name=${name}, version=${version}) not found`, { name, version })
    }
    return v
  }

  versionById(id: number): VersionRow {
    return this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions v JOIN registered_models m ON m.id = v.model_id WHERE v.id = ?`).get(id) as VersionRow
  }

  aliasTarget(modelId: number, alias: string): number | null {
    const r = this.db
      .prepare('SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?')
      .get(modelId, alias) as { version: number } | undefined
    return r?.version ?? null
  }

  // ---------- mapping (batched) ----------

  toModels(rows: ModelRow[]): RegisteredModel[] {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const tags = new Map<number, Record<string, string>>()
    for (const t of this.db.prepare(`SELECT model_id, key, value FROM registered_model_tags WHERE model_id IN ${inList(ids)}`).all(...ids) as {
      model_id: number
      key: string
      value: string
    }[]) {
      let o = tags.get(t.model_id)
      if (!o) tags.set(t.model_id, (o = {}))
      o[t.key] = t.value
    }
    const aliases = new Map<number, Record<string, number>>()
    for (const a of this.db
      .prepare(`SELECT a.model_id, a.alias, v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id IN ${inList(ids)}`)
      .all(...ids) as { model_id: number; alias: string; version: number }[]) {
      let o = aliases.get(a.model_id)
      if (!o) aliases.set(a.model_id, (o = {}))
      o[a.alias] = a.version
    }
    const counts = new Map<number, { latest: number | null; n: number }>()
    for (const c of this.db
      .prepare(`SELECT model_id, max(version) AS latest, count(*) AS n FROM model_versions WHERE model_id IN ${inList(ids)} GROUP BY model_id`)
      .all(...ids) as { model_id: number; latest: number; n: number }[]) {
      counts.set(c.model_id, { latest: c.latest, n: c.n })
    }
    return rows.map((r) => ({
      name: r.name,
      description: r.description,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      createdBy: { id: r.created_by_id, name: r.created_by_name },
      tags: tags.get(r.id) ?? {},
      aliases: aliases.get(r.id) ?? {},
      latestVersion: counts.get(r.id)?.latest ?? null,
      versionCount: counts.get(r.id)?.n ?? 0
    }))
  }

  toVersions(rows: VersionRow[], opts: { metrics?: boolean } = {}): ModelVersion[] {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const tags = new Map<number, Record<string, string>>()
    for (const t of this.db.prepare(`SELECT version_id, key, value FROM model_version_tags WHERE version_id IN ${inList(ids)}`).all(...ids) as {
      version_id: number
      key: string
      value: string
    }[]) {
      let o = tags.get(t.version_id)
      if (!o) tags.set(t.version_id, (o = {}))
      o[t.key] = t.value
    }
    const aliases = new Map<number, string[]>()
    for (const a of this.db.prepare(`SELECT version_id, alias FROM model_aliases WHERE version_id IN ${inList(ids)} ORDER BY alias`).all(...ids) as {
      version_id: number
      alias: string
    }[]) {
      let l = aliases.get(a.version_id)
      if (!l) aliases.set(a.version_id, (l = []))
      l.push(a.alias)
    }
    const metrics = opts.metrics === false ? new Map<string, Record<string, number>>() : this.runMetrics(rows.map((r) => r.run_id).filter((x): x is string => !!x))
    return rows.map((r) => ({
      name: r.name,
      version: r.version,
      description: r.description,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      createdBy: { id: r.created_by_id, name: r.created_by_name },
      runId: r.run_id,
      artifactPath: r.artifact_path,
      source: r.source,
      approvalStatus: r.approval_status,
      revision: r.revision,
      tags: tags.get(r.id) ?? {},
      aliases: aliases.get(r.id) ?? [],
      riskTier: r.risk_tier,
      metrics: (r.run_id && metrics.get(r.run_id)) || {},
      policyState: r.policy_state
    }))
  }

  /** Latest value of every metric of each run (finite values only). */
  runMetrics(runIds: string[]): Map<string, Record<string, number>> {
    const out = new Map<string, Record<string, number>>()
    const uniq = [...new Set(runIds)]
    for (let i = 0; i < uniq.length; i += 500) {
      const part = uniq.slice(i, i + 500)
      for (const m of this.db
        .prepare(
          `SELECT r.run_uuid, l.key, l.value, l.is_nan FROM tracking_runs r JOIN tracking_latest_metrics l ON l.run_id = r.id WHERE r.run_uuid IN (${part.map(() => '?').join(',')})`
        )
        .all(...part) as { run_uuid: string; key: string; value: number; is_nan: number }[]) {
        if (m.is_nan) continue
        let o = out.get(m.run_uuid)
        if (!o) out.set(m.run_uuid, (o = {}))
        o[m.key] = m.value
      }
    }
    return out
  }

  runParams(runId: string | null): Record<string, string> {
    if (!runId) return {}
    const out: Record<string, string> = {}
    for (const p of this.db
      .prepare('SELECT p.key, p.value FROM tracking_runs r JOIN tracking_params p ON p.run_id = r.id WHERE r.run_uuid = ?')
      .all(runId) as { key: string; value: string }[]) {
      out[p.key] = p.value
    }
    return out
  }

  runTags(runId: string | null): Record<string, string> {
    if (!runId) return {}
    const out: Record<string, string> = {}
    for (const p of this.db
      .prepare('SELECT t.key, t.value FROM tracking_runs r JOIN tracking_run_tags t ON t.run_id = r.id WHERE r.run_uuid = ?')
      .all(runId) as { key: string; value: string }[]) {
      out[p.key] = p.value
    }
    return out
  }
}
