import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createTestCore, FLIGHTS, type TestCore } from '../../testing/core'
import type { CallContext, Role } from '../../../shared/auth'
import { serializeNotebook, newNotebook } from '../notebooks/nbformat'
import { pathAccess } from '../workspace/access'

let core: TestCore
let outside: string
const as = (role: Role): CallContext => ({ principal: { id: `u-${role}`, name: role, role, via: 'session' } })
const call = (method: string, params: unknown = {}, ctx?: CallContext) => core.router.dispatch(method, params, ctx) as Promise<any>
const fails = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal') }, (e) => e)

beforeAll(async () => {
  core = await createTestCore()
  outside = mkdtempSync(join(tmpdir(), 'atelier-outside-'))
  await call('lake.sources.add', { kind: 'file', location: FLIGHTS, name: 'flights' })
  const db = new Database(join(core.workspaceDir, 'shop.sqlite'))
  db.exec("create table orders (id integer, item text); insert into orders values (1, 'a'), (2, 'b')")
  db.close()
  await call('lake.sources.add', { kind: 'sqlite', location: join(core.workspaceDir, 'shop.sqlite') })
}, 60_000)
afterAll(async () => {
  await core?.cleanup()
  rmSync(outside, { recursive: true, force: true })
})

describe('profile and export take a catalog table or a query id, never SQL', () => {
  it('refuses SQL text in `table`: nothing is written, the error says what is expected', async () => {
    const target = join(core.workspaceDir, 'pwned.csv')
    const table = `(SELECT 1); COPY (SELECT 1) TO '${target}'; SELECT 1`
    for (const [method, params] of [
      ['lake.profile', { table }],
      ['lake.export', { exportId: 'e1', table, format: 'csv', path: join(core.workspaceDir, 'out.csv') }],
      ['lake.profile', { table: 'flights; DROP VIEW flights' }],
      ['lake.profile', { table: 'read_csv(\'/etc/passwd\')' }]
    ] as const) {
      const err = await fails(call(method, params))
      expect(err.code).toBe('INVALID_REQUEST')
      expect(err.message).toMatch(/is not a table name/)
    }
    expect(existsSync(target)).toBe(false)
    expect(existsSync(join(core.workspaceDir, 'out.csv'))).toBe(false)
    expect(existsSync(join(process.cwd(), 'x.csv'))).toBe(false)
    expect((await call('lake.query', { queryId: 'still', sql: 'select count(*) n from flights' })).first.rowCount).toBe(1)
  })

  it('accepts catalog names in their SQL spellings, and says NOT_FOUND for a name not in the catalog', async () => {
    for (const table of ['flights', 'FLIGHTS', '"flights"', 'memory.main.flights', 'shop.orders', '"shop"."main"."orders"']) {
      const r = await call('lake.profile', { table, column: table.includes('orders') ? 'item' : 'origin' })
      expect(r.columns).toHaveLength(1)
    }
    expect((await fails(call('lake.profile', { table: 'nope' }))).code).toBe('NOT_FOUND')
    expect((await fails(call('lake.profile', { table: 'atelier_scratch.main.anything' }))).code).toBe('NOT_FOUND')
  })

  it('export refuses to replace an existing file unless overwrite is given', async () => {
    const path = join(core.workspaceDir, 'orders.csv')
    await call('lake.export', { exportId: 'x1', table: 'shop.orders', format: 'csv', path })
    const err = await fails(call('lake.export', { exportId: 'x2', table: 'shop.orders', format: 'csv', path }))
    expect(err.code).toBe('FILE_EXISTS')
    const r = await call('lake.export', { exportId: 'x3', table: 'shop.orders', format: 'csv', path, overwrite: true })
    expect(r.rows).toBe(2)
  })
})

describe('viewers and reviewers query a read-only lake', () => {
  it('reads the sources (views over files and attached databases) and pages the result', async () => {
    for (const role of ['viewer', 'reviewer'] as const) {
      const r = await call('lake.query', { queryId: `ro-${role}`, sql: 'select origin, count(*) n from flights group by 1 order by 2 desc limit 3', pageSize: 2 }, as(role))
      expect(r.first.columns[0]).toEqual(['ORD', 'DFW'])
      const page = await call('lake.page', { queryId: `ro-${role}`, offset: 2, limit: 5 }, as(role))
      expect(page.columns[0]).toEqual(['ATL'])
      const s = await call('lake.query', { queryId: `ro2-${role}`, sql: 'select count(*) n from shop.orders' }, as(role))
      expect(String(s.first.columns[0][0])).toBe('2')
      expect((await call('lake.profile', { table: 'flights', column: 'origin' }, as(role))).columns[0].name).toBe('origin')
    }
  })

  it('refuses COPY TO, ATTACH, SET, INSTALL/LOAD, CREATE/INSERT/UPDATE/DELETE/DROP and file reads outside the sources', async () => {
    const file = join(core.workspaceDir, 'viewer.csv')
    const statements = [
      `COPY (SELECT 1) TO '${file}'`,
      `ATTACH '${join(core.workspaceDir, 'x.duckdb')}' AS x`,
      'SET threads = 1',
      'SET enable_external_access = true',
      'INSTALL httpfs',
      'LOAD httpfs',
      'CREATE TABLE t AS SELECT 1',
      'INSERT INTO shop.orders VALUES (3, \'c\')',
      'UPDATE shop.orders SET item = \'z\'',
      'DELETE FROM shop.orders',
      'DROP VIEW flights',
      `SELECT 1; COPY (SELECT 1) TO '${file}'`,
      "SELECT * FROM read_csv('/etc/passwd')",
      `SELECT * FROM '${FLIGHTS.replace('flights-3m', 'cars')}'`
    ]
    for (const [i, sql] of statements.entries()) {
      const err = await fails(call('lake.query', { queryId: `bad${i}`, sql }, as('viewer')))
      expect.soft(err.code, sql).toBe('SQL_FORBIDDEN')
      expect.soft(err.message, sql).toMatch(/Read-only access/)
    }
    expect(existsSync(file)).toBe(false)
    expect(existsSync(join(core.workspaceDir, 'x.duckdb'))).toBe(false)
    // The router refuses a viewer's export (it needs 'write'); the service refuses it on its own too.
    expect(['FORBIDDEN', 'SQL_FORBIDDEN']).toContain((await fails(call('lake.export', { exportId: 'v', table: 'flights', format: 'csv', path: file }, as('viewer')))).code)
    expect((await fails(core.lake.export({ exportId: 'v2', table: 'flights', format: 'csv', path: file }, as('viewer').principal))).code).toBe('SQL_FORBIDDEN')
    expect(existsSync(file)).toBe(false)
    // The sources are untouched for everyone else.
    expect(String((await call('lake.query', { queryId: 'after', sql: 'select count(*) from shop.orders' })).first.columns[0][0])).toBe('2')
  })

  it('scientists and admins keep full power (COPY TO writes)', async () => {
    for (const role of ['scientist', 'admin'] as const) {
      const file = join(core.workspaceDir, `${role}.csv`)
      await call('lake.query', { queryId: `w-${role}`, sql: `COPY (SELECT 1 AS a) TO '${file}'` }, as(role))
      expect(existsSync(file)).toBe(true)
    }
  })

  it('sees a source added later (the read-only lake follows the catalog)', async () => {
    const db = new Database(join(core.workspaceDir, 'later.sqlite'))
    db.exec('create table t (v integer); insert into t values (42)')
    db.close()
    await call('lake.sources.add', { kind: 'sqlite', location: join(core.workspaceDir, 'later.sqlite') })
    const r = await call('lake.query', { queryId: 'later', sql: 'select v from later.t' }, as('viewer'))
    expect(String(r.first.columns[0][0])).toBe('42')
  })
})

describe('paths stay inside the workspace for every role but admin', () => {
  beforeAll(() => {
    mkdirSync(join(core.workspaceDir, '.secret'), { recursive: true })
    writeFileSync(join(core.workspaceDir, '.env'), 'TOKEN=1')
    writeFileSync(join(core.workspaceDir, '.secret', 'n.ipynb'), serializeNotebook(newNotebook()))
    writeFileSync(join(outside, 'out.ipynb'), serializeNotebook(newNotebook()))
    writeFileSync(join(outside, 'data.csv'), 'a\n1\n')
    symlinkSync(outside, join(core.workspaceDir, 'escape'))
    symlinkSync(join(outside, 'out.ipynb'), join(core.workspaceDir, 'link.ipynb'))
    writeFileSync(join(core.workspaceDir, 'ok.ipynb'), serializeNotebook(newNotebook()))
  })

  it('fs.list: no parent above the workspace, no dotfiles, no links that lead out', async () => {
    const r = await call('fs.list', { showHidden: true }, as('scientist'))
    const names = r.entries.map((e: any) => e.name)
    expect(r.parent).toBeNull()
    expect(names).toContain('ok.ipynb')
    expect(names).not.toContain('.env')
    expect(names).not.toContain('.secret')
    expect(names).not.toContain('escape')
    expect(names).not.toContain('link.ipynb')
    for (const path of ['..', outside, join(core.workspaceDir, 'escape'), join(core.workspaceDir, '.secret')]) {
      expect((await fails(call('fs.list', { path }, as('scientist')))).code).toBe('PATH_FORBIDDEN')
    }
    // The desktop's own user (admin) is not confined.
    const admin = await call('fs.list', { path: outside, showHidden: true })
    expect(admin.entries.map((e: any) => e.name)).toContain('out.ipynb')
  })

  it('notebooks: `..`, absolute paths outside, symlinks out and hidden files are refused', async () => {
    for (const role of ['viewer', 'scientist'] as const) {
      for (const path of ['../x.ipynb', join(outside, 'out.ipynb'), 'escape/out.ipynb', 'link.ipynb', '.secret/n.ipynb']) {
        const err = await fails(call('notebooks.open', { path }, as(role)))
        expect(err.code, path).toBe('PATH_FORBIDDEN')
        expect(err.message).toMatch(/outside the workspace|hidden/)
      }
    }
    expect((await fails(call('notebooks.create', { path: '../made' }, as('scientist')))).code).toBe('PATH_FORBIDDEN')
    expect(existsSync(join(core.workspaceDir, '..', 'made.ipynb'))).toBe(false)
    const doc = await call('notebooks.open', { path: 'ok.ipynb' }, as('scientist'))
    expect((await call('notebooks.save', { path: 'ok.ipynb', notebook: doc.notebook, expectedHash: doc.hash }, as('scientist'))).written).toBe(false)
    const saveOut = await fails(call('notebooks.save', { path: 'escape/out.ipynb', notebook: doc.notebook, force: true }, as('scientist')))
    expect(saveOut.code).toBe('PATH_FORBIDDEN')
  })

  it('exports and sources: only inside the workspace', async () => {
    const err = await fails(call('lake.export', { exportId: 'o', table: 'flights', format: 'csv', path: '../leak.csv' }, as('scientist')))
    expect(err.code).toBe('PATH_FORBIDDEN')
    expect((await fails(call('lake.export', { exportId: 'o2', table: 'flights', format: 'csv', path: 'escape/leak.csv' }, as('scientist')))).code).toBe('PATH_FORBIDDEN')
    expect(readdirSync(outside).some((f) => f.includes('leak'))).toBe(false)
    expect((await fails(call('lake.sources.add', { kind: 'file', location: join(outside, 'data.csv') }, as('scientist')))).code).toBe('PATH_FORBIDDEN')
    expect((await fails(call('lake.sources.add', { kind: 'file', location: 'escape/data.csv', name: 'esc' }, as('scientist')))).code).toBe('PATH_FORBIDDEN')
    const ok = await call('lake.export', { exportId: 'in', table: 'shop.orders', format: 'parquet', path: 'exports/orders.parquet' }, as('scientist'))
    expect(ok.path).toBe(join(core.workspaceDir, 'exports', 'orders.parquet'))
  })

  it('only an admin may move the workspace (the root that confines everyone else)', async () => {
    // Viewers and reviewers are stopped by the router already (no 'write'); the service stops every non-admin.
    for (const role of ['viewer', 'scientist', 'reviewer'] as const) {
      expect(['FORBIDDEN', 'PATH_FORBIDDEN']).toContain((await fails(call('workspace.open', { path: outside }, as(role)))).code)
      expect((await fails(core.workspace.open(outside, {}, pathAccess(as(role).principal)))).code).toBe('PATH_FORBIDDEN')
    }
    expect((await fails(call('workspace.open', { path: outside }, as('scientist')))).code).toBe('PATH_FORBIDDEN')
    expect((await call('workspace.open', { path: core.workspaceDir }, as('scientist'))).path).toBe(core.workspaceDir)
    expect((await call('app.info')).workspace).toBe(core.workspaceDir)
  })
})
