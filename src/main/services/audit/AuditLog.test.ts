import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../db'
import { AuditLog, canonicalJson, GENESIS_HASH } from './AuditLog'

const alice = { id: 'u1', name: 'alice' }
const bob = { id: 'u2', name: 'bob' }

function setup(n = 5) {
  const db = openDatabase(':memory:')
  let t = 1_000
  const audit = new AuditLog(db, () => t++)
  for (let i = 1; i <= n; i++) {
    audit.append({ actor: i % 2 ? alice : bob, action: 'version.create', entityType: 'version', entity: `fraud/${i}`, after: { version: i, b: 1, a: [2, { z: 1, y: 2 }] }, comment: `c${i}` })
  }
  const tamper = (sql: string, ...binds: unknown[]) => {
    db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete')
    db.prepare(sql).run(...binds)
  }
  return { db, audit, tamper }
}

describe('AuditLog', () => {
  it('chains events by SHA-256 from a genesis link and verifies the whole chain', () => {
    const { audit } = setup(5)
    const page = audit.list()
    expect(page.total).toBe(5)
    const events = [...page.events].reverse()
    expect(events[0].prevHash).toBe(GENESIS_HASH)
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash)
    expect(events[2]).toMatchObject({ seq: 3, actor: alice, action: 'version.create', entity: 'fraud/3', comment: 'c3', after: { version: 3, b: 1, a: [2, { y: 2, z: 1 }] } })
    expect(audit.verify()).toEqual({ ok: true, checked: 5, firstBroken: null, headHash: events[4].hash })
  })

  it('stores before/after as canonical JSON (sorted keys), so equal values hash the same', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":2,"f":1}]},"b":1}')
  })

  it('names the first edited event when a row is changed behind the app', () => {
    const { audit, tamper } = setup(6)
    tamper("UPDATE audit_events SET comment = 'nothing to see' WHERE seq = 4")
    const v = audit.verify()
    expect(v.ok).toBe(false)
    expect(v.firstBroken?.seq).toBe(4)
    expect(v.firstBroken?.reason).toMatch(/event 4 was changed/)
    expect(v.checked).toBe(3)
  })

  it('a rewritten hash breaks the next link; a deleted event is a gap', () => {
    const a = setup(5)
    a.tamper("UPDATE audit_events SET after = '{\"version\":99}', hash = 'f' || substr(hash, 2) WHERE seq = 2")
    expect(a.audit.verify().firstBroken?.seq).toBe(2)
    const b = setup(5)
    b.tamper("UPDATE audit_events SET hash = ? WHERE seq = 2", 'e'.repeat(64))
    // seq 2's own hash no longer matches its content
    expect(b.audit.verify().firstBroken).toMatchObject({ seq: 2 })
    const c = setup(5)
    c.tamper('DELETE FROM audit_events WHERE seq = 3')
    expect(c.audit.verify().firstBroken).toEqual({ seq: 4, reason: 'events 3–3 are missing before event 4' })
  })

  it('appends inside the caller transaction: a rolled-back change leaves no event', () => {
    const { db, audit } = setup(1)
    expect(() =>
      db.transaction(() => {
        audit.append({ actor: alice, action: 'model.delete', entityType: 'model', entity: 'fraud' })
        throw new Error('the change failed')
      })()
    ).toThrow('the change failed')
    expect(audit.list().total).toBe(1)
    expect(audit.verify().ok).toBe(true)
  })

  it('lists newest first with filters and paging', () => {
    const { audit } = setup(7)
    audit.append({ actor: alice, action: 'alias.set', entityType: 'alias', entity: 'fraud@champion', after: { version: 2 } })
    audit.append({ actor: alice, action: 'model.create', entityType: 'model', entity: 'other' })
    audit.append({ actor: alice, action: 'tag.set', entityType: 'tag', entity: 'fraud#team' })
    audit.append({ actor: alice, action: 'tag.set', entityType: 'tag', entity: 'fraudulent#team' })
    const first = audit.list({ limit: 3 })
    expect(first.events.map((e) => e.seq)).toEqual([11, 10, 9])
    expect(first.nextBeforeSeq).toBe(9)
    expect(audit.list({ limit: 3, beforeSeq: 7 }).events.map((e) => e.seq)).toEqual([6, 5, 4])
    expect(audit.list({ entity: 'fraud', entityType: 'tag' }).events.map((e) => e.entity)).toEqual(['fraud#team'])
    expect(audit.list({ actor: 'bob' }).events.map((e) => e.seq)).toEqual([6, 4, 2])
    expect(audit.list({ entity: 'fraud' }).total).toBe(9)
    expect(audit.list({ entityType: 'alias' }).events.map((e) => e.entity)).toEqual(['fraud@champion'])
  })

  it('exports JSON Lines and CSV (quoted cells, no spreadsheet formulas)', () => {
    const { audit } = setup(2)
    audit.append({ actor: bob, action: 'version.reject', entityType: 'version', entity: 'fraud/2', comment: '=HYPERLINK("x"), "quoted"\nnext line' })
    const jsonl = audit.export('jsonl')
    expect(jsonl.count).toBe(3)
    const lines = jsonl.content.trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3])
    expect(lines[2].comment).toBe('=HYPERLINK("x"), "quoted"\nnext line')
    const csv = audit.export('csv')
    expect(csv.mimeType).toBe('text/csv')
    expect(csv.content.split('\r\n')[0]).toBe('seq,time,actor_id,actor_name,action,entity_type,entity,before,after,comment,prev_hash,hash')
    expect(csv.content).toContain(`"'=HYPERLINK(""x""), ""quoted""\nnext line"`)
    expect(csv.content.split('\r\n')).toHaveLength(5)
  })

  it('verifies events whose text needs escaping (quotes, control characters, non-ASCII, a lone surrogate)', () => {
    const { audit } = setup(1)
    audit.append({ actor: { id: 'ü\u0001', name: '"x"\\' }, action: 'card.save', entityType: 'card', entity: 'm/1', before: { s: '\t\n\u007f' }, after: { s: 'é✓\u2028😀\ud800' }, comment: 'line\nnext' })
    expect(audit.verify()).toMatchObject({ ok: true, checked: 2 })
  })
})
