/**
 * The audit trail: an append-only table of events (who, when, what, before/after, comment), each
 * chained to the previous one by SHA-256. `append` runs inside the caller's SQLite transaction, so
 * an event exists exactly when the change it records does. `verify` recomputes the chain and names
 * the first event whose content, link or sequence does not match.
 */
import * as crypto from 'node:crypto'
import type { PrincipalRef } from '../../../shared/registry'
import type { AuditEvent, AuditExport, AuditPage, AuditVerification } from '../../../shared/registry'
import type { AppDatabase } from '../../db'

/** The link before the first event. */
export const GENESIS_HASH = '0'.repeat(64)

export interface AuditEntry {
  actor: PrincipalRef
  /** `<entityType>.<verb>`, e.g. `version.approve` */
  action: string
  entityType: string
  /** `name` for a model, `name/3` for a version, `name@alias` for an alias. */
  entity: string
  before?: unknown
  after?: unknown
  comment?: string
}

type Row = {
  seq: number
  time: number
  actor_id: string
  actor_name: string
  action: string
  entity_type: string
  entity: string
  before: string | null
  after: string | null
  comment: string
  prev_hash: string
  hash: string
}

/** JSON with object keys sorted at every level (the form that is hashed and stored). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k]
      if (x !== undefined) out[k] = sortKeys(x)
    }
    return out
  }
  return v
}

/** Hex SHA-256 of a string: the one-shot `crypto.hash` where Node has it (several times faster per call). */
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash
export const sha256hex: (s: string) => string = oneShot
  ? (s) => oneShot('sha256', s, 'hex')
  : (s) => crypto.createHash('sha256').update(s).digest('hex')

/**
 * The hashed body of an event: SQLite's `json_array` over its ten fields in a fixed order, as stored
 * (so verification reads one string per row; append renders it with the same SQL).
 */
const BODY_SQL = 'json_array(seq, time, actor_id, actor_name, action, entity_type, entity, before, after, comment)'

/** sha256(prev_hash ‖ body). */
export const eventHash = (prevHash: string, body: string): string => sha256hex(prevHash + body)

export class AuditLog {
  private readonly insert
  private readonly head
  private readonly body

  constructor(
    private readonly db: AppDatabase,
    private readonly now: () => number = Date.now
  ) {
    this.insert = db.prepare(
      `INSERT INTO audit_events (seq, time, actor_id, actor_name, action, entity_type, entity, before, after, comment, prev_hash, hash)
       VALUES (@seq, @time, @actor_id, @actor_name, @action, @entity_type, @entity, @before, @after, @comment, @prev_hash, @hash)`
    )
    this.head = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1')
    this.body = db
      .prepare(
        `SELECT ${BODY_SQL} FROM (SELECT CAST(@seq AS INTEGER) AS seq, CAST(@time AS INTEGER) AS time, @actor_id AS actor_id, @actor_name AS actor_name,
           @action AS action, @entity_type AS entity_type, @entity AS entity, @before AS before, @after AS after, @comment AS comment)`
      )
      .pluck()
  }

  /** Appends one event. Call it inside the transaction that makes the change. */
  append(e: AuditEntry): AuditEvent {
    return this.db.transaction(() => {
      const last = this.head.get() as { seq: number; hash: string } | undefined
      const row: Omit<Row, 'hash'> = {
        seq: (last?.seq ?? 0) + 1,
        time: this.now(),
        actor_id: e.actor.id,
        actor_name: e.actor.name,
        action: e.action,
        entity_type: e.entityType,
        entity: e.entity,
        before: e.before === undefined ? null : canonicalJson(e.before),
        after: e.after === undefined ? null : canonicalJson(e.after),
        comment: e.comment ?? '',
        prev_hash: last?.hash ?? GENESIS_HASH
      }
      const { prev_hash: _p, ...fields } = row
      const full: Row = { ...row, hash: eventHash(row.prev_hash, this.body.get(fields) as string) }
      this.insert.run(full)
      return toEvent(full)
    })()
  }

  list(req: { entityType?: string; entity?: string; actor?: string; beforeSeq?: number; limit?: number } = {}): AuditPage {
    const where: string[] = []
    const binds: (string | number)[] = []
    if (req.entityType) {
      where.push('entity_type = ?')
      binds.push(req.entityType)
    }
    if (req.entity) {
      // a model's own events and those of its versions, aliases and tags (`m/3`, `m@champion`, `m#team`)
      where.push('(entity = ? OR entity GLOB ? OR entity GLOB ? OR entity GLOB ?)')
      const g = req.entity.replace(/[*?[]/g, (c) => `[${c}]`)
      binds.push(req.entity, `${g}/*`, `${g}@*`, `${g}#*`)
    }
    if (req.actor) {
      where.push('(actor_id = ? OR actor_name = ?)')
      binds.push(req.actor, req.actor)
    }
    const filter = where.length ? ` WHERE ${where.join(' AND ')}` : ''
    const total = (this.db.prepare(`SELECT count(*) AS n FROM audit_events${filter}`).get(...binds) as { n: number }).n
    const limit = req.limit ?? 200
    const page = req.beforeSeq ? `${filter ? `${filter} AND` : ' WHERE'} seq < ?` : filter
    const rows = this.db
      .prepare(`SELECT * FROM audit_events${page} ORDER BY seq DESC LIMIT ?`)
      .all(...binds, ...(req.beforeSeq ? [req.beforeSeq] : []), limit + 1) as Row[]
    const more = rows.length > limit
    const events = rows.slice(0, limit).map(toEvent)
    return { events, nextBeforeSeq: more ? events[events.length - 1].seq : null, total }
  }

  /** Recomputes every hash and link in order; the first mismatch (or gap in seq) is reported. */
  verify(): AuditVerification {
    const stmt = this.db.prepare(`SELECT seq, prev_hash, hash, ${BODY_SQL} FROM audit_events ORDER BY seq`).raw(true)
    let prev = GENESIS_HASH
    let expectedSeq = 1
    let checked = 0
    for (const r of stmt.iterate() as IterableIterator<[number, string, string, string]>) {
      const seq = r[0]
      if (seq !== expectedSeq) return broken(checked, seq, `events ${expectedSeq}–${seq - 1} are missing before event ${seq}`, prev)
      if (r[1] !== prev) return broken(checked, seq, `event ${seq} links to ${short(r[1])} but the event before it hashes to ${short(prev)}`, prev)
      const h = sha256hex(prev + r[3])
      if (h !== r[2]) return broken(checked, seq, `event ${seq} was changed after it was written (its content hashes to ${short(h)}, recorded ${short(r[2])})`, prev)
      prev = r[2]
      expectedSeq++
      checked++
    }
    return { ok: true, checked, firstBroken: null, headHash: checked ? prev : null }
  }

  export(format: 'jsonl' | 'csv'): AuditExport {
    const rows = this.db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Row[]
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-')
    if (format === 'jsonl') {
      const content = rows.map((r) => JSON.stringify(toEvent(r))).join('\n') + (rows.length ? '\n' : '')
      return { fileName: `audit-${stamp}.jsonl`, mimeType: 'application/x-ndjson', content, count: rows.length }
    }
    const cols = ['seq', 'time', 'actor_id', 'actor_name', 'action', 'entity_type', 'entity', 'before', 'after', 'comment', 'prev_hash', 'hash'] as const
    const lines = [cols.join(',')]
    for (const r of rows) {
      lines.push(cols.map((c) => csvCell(c === 'time' ? new Date(r.time).toISOString() : r[c])).join(','))
    }
    return { fileName: `audit-${stamp}.csv`, mimeType: 'text/csv', content: lines.join('\r\n') + '\r\n', count: rows.length }
  }
}

function broken(checked: number, seq: number, reason: string, prev: string): AuditVerification {
  return { ok: false, checked, firstBroken: { seq, reason }, headHash: checked ? prev : null }
}

const short = (h: string) => `${h.slice(0, 12)}…`

function csvCell(v: string | number | null): string {
  if (v === null) return ''
  const s = String(v)
  // a leading = + - @ would run as a formula in a spreadsheet
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
  return /[",\r\n]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe
}

function toEvent(r: Row): AuditEvent {
  return {
    seq: r.seq,
    time: r.time,
    actor: { id: r.actor_id, name: r.actor_name },
    action: r.action,
    entityType: r.entity_type,
    entity: r.entity,
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
    comment: r.comment,
    prevHash: r.prev_hash,
    hash: r.hash
  }
}
