import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, writeFileSync, copyFileSync, readFileSync, utimesSync } from 'node:fs'
import { DuckDBInstance } from '@duckdb/node-api'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createTestCore, FLIGHTS, type TestCore } from '../../testing/core'
import type { QueryProgressEvent } from '../../../shared/api'
import { profileRelation } from './analysis'

let core: TestCore
const call = (method: string, params: unknown = {}) => core.router.dispatch(method, params) as Promise<any>

beforeAll(async () => {
  core = await createTestCore()
  await call('lake.sources.add', { kind: 'file', location: FLIGHTS, name: 'flights' })
})
afterAll(async () => core?.cleanup())

describe('lake: flights-3m.parquet through the handler table', () => {
  it('answers the top-origins query with ORD 166341 first', async () => {
    const r = await call('lake.query', {
      queryId: 'q1',
      sql: 'select origin, count(*) n from flights group by 1 order by n desc limit 5'
    })
    expect(r.columns.map((c: any) => c.name)).toEqual(['origin', 'n'])
    expect(r.first.columns[0][0]).toBe('ORD')
    expect(String(r.first.columns[1][0])).toBe('166341')
    expect(r.first.rowCount).toBe(5)
    const page = await call('lake.page', { queryId: 'q1', offset: 0, limit: 100 })
    expect(page.totalRows).toBe(5)
    expect(page.columns[0]).toEqual(['ORD', 'DFW', 'ATL', 'LAX', 'PHX'])
  })

  it('streams a large result: first page at once, count later, any page by offset', async () => {
    const events: QueryProgressEvent[] = []
    const off = core.events.on('query.progress', (e) => e.queryId === 'big' && events.push(e))
    const r = await call('lake.query', { queryId: 'big', sql: 'select * from flights', pageSize: 1000 })
    expect(r.first.rowCount).toBe(1000)
    const last = await call('lake.page', { queryId: 'big', offset: 2_999_000, limit: 1000 })
    expect(last.rowCount).toBe(1000)
    expect(last.totalRows).toBe(3_000_000)
    const again = await call('lake.page', { queryId: 'big', offset: 0, limit: 3 })
    expect(again.columns[3]).toEqual(r.first.columns[3].slice(0, 3))
    off()
    expect(events.at(-1)?.phase).toBe('done')
    expect(events.at(-1)?.totalRows).toBe(3_000_000)
    await call('lake.close', { queryId: 'big' })
    await expect(call('lake.page', { queryId: 'big', offset: 0, limit: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('a failure after the first page ends that query with its error; the pooled connections go on working', async () => {
    const events: QueryProgressEvent[] = []
    const off = core.events.on('query.progress', (e) => e.queryId === 'late' && events.push(e))
    const sql = `select i, case when i = 250000 then error('boom at row ' || i) else i end as v from range(300000) t(i)`
    const r = await call('lake.query', { queryId: 'late', sql, pageSize: 1000, format: 'arrow' })
    expect(r.first.rowCount).toBe(1000)
    for (let i = 0; i < 100 && !events.some((e) => e.phase === 'error'); i++) await new Promise((res) => setTimeout(res, 50))
    off()
    const failed = events.find((e) => e.phase === 'error')!
    expect(failed.error?.message).toMatch(/boom at row 250000/)
    // rows read before the failure stay pageable
    expect((await call('lake.page', { queryId: 'late', offset: 1000, limit: 5 })).columns[0]).toEqual(['1000', '1001', '1002', '1003', '1004'])
    await call('lake.close', { queryId: 'late' })
    for (let i = 0; i < 6; i++) expect((await call('lake.query', { queryId: `after-${i}`, sql: `select ${i} as x` })).first.columns[0]).toEqual([i])
    // a failure inside the first page fails the query itself
    const early = await call('lake.query', { queryId: 'early', sql: sql.replace('250000', '10'), pageSize: 1000 }).catch((e) => e)
    expect(early).toMatchObject({ code: 'SQL_ERROR', message: expect.stringMatching(/boom at row 10/) })
  })

  it('a query cancelled while its rows stream ends cancelled, not done, with the rows read so far pageable', async () => {
    const events: QueryProgressEvent[] = []
    const off = core.events.on('query.progress', (e) => e.queryId === 'stream-cancel' && events.push(e))
    const r = await call('lake.query', { queryId: 'stream-cancel', sql: 'select i from range(2000000000) t(i)', pageSize: 100 })
    expect(r.first.rowCount).toBe(100)
    await new Promise((res) => setTimeout(res, 400))
    await call('lake.cancel', { queryId: 'stream-cancel' })
    for (let i = 0; i < 100 && !events.some((e) => e.phase !== 'running' && e.phase !== 'reading'); i++) await new Promise((res) => setTimeout(res, 50))
    off()
    expect(events.at(-1)?.phase).toBe('cancelled')
    const p = await call('lake.page', { queryId: 'stream-cancel', offset: 0, limit: 3 })
    expect(p.columns[0]).toEqual(['0', '1', '2'])
    expect(p.totalRows).toBeNull()
    await call('lake.close', { queryId: 'stream-cancel' })
  })

  it('cancels a long query with DuckDB interrupt', async () => {
    const p = call('lake.query', { queryId: 'long', sql: 'select sum(i * i) from range(100000000000) t(i)' })
    await new Promise((r) => setTimeout(r, 300))
    expect((await call('lake.cancel', { queryId: 'long' })).cancelled).toBe(true)
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('reports bad SQL with DuckDB message and position', async () => {
    const err = await call('lake.query', { queryId: 'bad', sql: 'select 1;\nselect nope from flights' }).catch((e) => e)
    expect(err.code).toBe('SQL_ERROR')
    expect(err.message).toMatch(/nope/)
    expect(err.details).toMatchObject({ line: 2, column: 8 })
    const parse = await call('lake.query', { queryId: 'bad2', sql: 'selec 1' }).catch((e) => e)
    expect(parse.code).toBe('SQL_ERROR')
    expect(parse.details).toMatchObject({ line: 1, column: 1 })
  })

  it('runs statements without a result set', async () => {
    const r = await call('lake.query', { queryId: 'ddl', sql: 'create table t as select 1 a; insert into t values (2)' })
    expect(r.done).toBe(true)
    const q = await call('lake.query', { queryId: 'ddl2', sql: 'select sum(a) s from t' })
    expect(String(q.first.columns[0][0])).toBe('3')
  })

  it('formats typed values as JSON-safe values', async () => {
    const r = await call('lake.query', {
      queryId: 'types',
      sql: "select 12345678901234567::bigint b, 1.5::decimal(10,2) d, null::int n, [1,2] l, {'a': 1} s, timestamp '2024-01-02 03:04:05' ts"
    })
    const row = r.first.columns.map((c: unknown[]) => c[0])
    expect(row[0]).toBe('12345678901234567')
    expect(row[2]).toBeNull()
    expect(row[3]).toEqual([1, 2])
    expect(row[4]).toEqual({ a: 1 })
    expect(String(row[5])).toContain('2024-01-02')
    expect(r.columns.map((c: any) => c.type)).toEqual(['BIGINT', 'DECIMAL(10,2)', 'INTEGER', 'INTEGER[]', 'STRUCT("a" INTEGER)', 'TIMESTAMP'])
  })

  it('keeps a bounded in-memory result for types a table cannot hold', async () => {
    const r = await call('lake.query', { queryId: 'nulls', sql: 'select null as x from range(5)' })
    const page = await call('lake.page', { queryId: 'nulls', offset: 0, limit: 10 })
    expect(r.first.rowCount).toBe(5)
    expect(page.rowCount).toBe(5)
  })

  it('shows the catalog with columns and row counts', async () => {
    const cat = await call('lake.catalog')
    const flights = cat.find((s: any) => s.name === 'flights')
    expect(flights.status).toBe('ready')
    expect(flights.tables[0].rowCount).toBe(3_000_000)
    expect(flights.tables[0].columns.map((c: any) => c.name)).toEqual(['date', 'delay', 'distance', 'origin', 'destination'])
  })

  it('profiles a column: nulls, distinct, quantiles and a histogram', async () => {
    const p = await call('lake.profile', { table: 'flights', column: 'delay' })
    expect(p.rowCount).toBe(3_000_000)
    const d = p.columns[0]
    expect(d.type).toBe('BIGINT')
    expect(d.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(3_000_000 - Math.round((d.nullPercent / 100) * 3_000_000))
    expect(d.mean).toBeGreaterThan(0)
    const o = await call('lake.profile', { table: 'flights', column: 'origin' })
    expect(o.columns[0].topValues[0]).toEqual({ value: 'ORD', count: 166341 })
  })

  it('profiles distinct counts exactly and marks a unique column', async () => {
    await call('lake.query', {
      queryId: 'u1',
      sql: 'select i as RowNumber, 15_000_000 + i * 7 as CustomerId, i % 10 as Tenure, null::int as Empty from range(10000) t(i)'
    })
    const p = await call('lake.profile', { queryId: 'u1' })
    expect(p.rowCount).toBe(10_000)
    const by = Object.fromEntries(p.columns.map((c: any) => [c.name, c]))
    expect(by.RowNumber).toMatchObject({ distinct: 10_000, distinctExact: true, unique: true })
    expect(by.CustomerId).toMatchObject({ distinct: 10_000, distinctExact: true, unique: true })
    expect(by.Tenure).toMatchObject({ distinct: 10, distinctExact: true, unique: false })
    expect(by.Empty).toMatchObject({ distinct: 0, unique: false })
    await call('lake.query', { queryId: 'u2', sql: 'select i from range(10) t(i)' })
    expect((await call('lake.profile', { queryId: 'u2' })).columns[0]).toMatchObject({ distinct: 10, unique: true })
  })

  it('beyond the exact-count budget, distinct is a HyperLogLog estimate, marked as one and never "unique"', async () => {
    await call('lake.query', { queryId: 'u3', sql: 'select i as id from range(10000) t(i)' })
    const r = await core.lake.queries.resultTable('u3')
    const p = await profileRelation(core.lake.engine, r.table, r.columns, undefined, 30, 1000)
    expect(p.columns[0].distinctExact).toBe(false)
    expect(p.columns[0].unique).toBe(false)
    expect(p.columns[0].distinct).toBeGreaterThan(0)
  })

  it('reports one duration for a query: the same in its reply, its last progress event and History', async () => {
    for (const [id, sql] of [
      ['d1', 'select 1 as x'],
      ['d2', 'select * from flights limit 300000']
    ]) {
      const events: QueryProgressEvent[] = []
      let finished!: () => void
      const done = new Promise<void>((res) => (finished = res))
      const off = core.events.on('query.progress', (e) => {
        if (e.queryId !== id) return
        events.push(e)
        if (e.phase === 'done') finished()
      })
      const r = await call('lake.query', { queryId: id, sql, pageSize: 1000 })
      await done
      off()
      const last = events.at(-1)!
      expect(last.phase).toBe('done')
      const h = (await call('lake.history', { limit: 5 })).find((e: any) => e.sql === sql)
      expect(h.elapsedMs).toBe(last.elapsedMs)
      if (r.done) expect(r.elapsedMs).toBe(last.elapsedMs)
    }
  })

  it('charts a result', async () => {
    await call('lake.query', { queryId: 'c1', sql: 'select origin, destination, count(*) n, avg(delay) d from flights group by all' })
    const bar = await call('lake.chart', { queryId: 'c1', kind: 'bar', x: 'origin', y: 'n' })
    expect(bar.series[0].x[0]).toBe('ORD')
    expect(bar.series[0].y[0]).toBe(166341)
    const sc = await call('lake.chart', { queryId: 'c1', kind: 'scatter', x: 'n', y: 'd', maxPoints: 100 })
    expect(sc.sampled).toBe(true)
    expect(sc.series[0].x).toHaveLength(100)
    const h = await call('lake.chart', { queryId: 'c1', kind: 'histogram', x: 'd', bins: 10 })
    expect(h.series[0].x.length).toBeLessThanOrEqual(10)
    await expect(call('lake.chart', { queryId: 'c1', kind: 'line', x: 'origin' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('exports a result to Parquet and CSV, and the export can be queried', async () => {
    await call('lake.query', { queryId: 'e1', sql: "select * from flights where origin = 'ORD'" })
    const out = join(core.workspaceDir, 'exports', 'ord.parquet')
    const r = await call('lake.export', { exportId: 'x1', queryId: 'e1', format: 'parquet', path: out })
    expect(r.rows).toBe(166341)
    expect(existsSync(out)).toBe(true)
    const q = await call('lake.query', { queryId: 'e2', sql: `select count(*) n from '${out}'` })
    expect(String(q.first.columns[0][0])).toBe('166341')
    const csv = await call('lake.export', { exportId: 'x2', table: 'flights', format: 'csv', path: join(core.workspaceDir, 'f.csv') })
    expect(csv.rows).toBe(3_000_000)
  })

  it('records query history', async () => {
    const h = await call('lake.history', { limit: 50 })
    expect(h.some((e: any) => e.sql.includes('group by 1 order by n desc') && e.rows === 5)).toBe(true)
    expect(h.some((e: any) => e.error && /nope/.test(e.error))).toBe(true)
  })

  it('completes table names and keywords', async () => {
    const c = await call('lake.complete', { sql: 'select * from fli', position: 17 })
    expect(c.some((x: any) => x.label === 'flights')).toBe(true)
  })
})

describe('lake sources', () => {
  it('reads a hive-partitioned folder of CSV files', async () => {
    const dir = join(core.workspaceDir, 'sales')
    for (const y of [2023, 2024]) {
      mkdirSync(join(dir, `year=${y}`), { recursive: true })
      writeFileSync(join(dir, `year=${y}`, 'part.csv'), `region,amount\nnorth,${y - 2000}\nsouth,5\n`)
    }
    const s = await call('lake.sources.add', { kind: 'folder', location: dir })
    expect(s).toMatchObject({ name: 'sales', format: 'csv', hivePartitioning: true, status: 'ready' })
    const q = await call('lake.query', { queryId: 's1', sql: 'select year, sum(amount) a from sales group by 1 order by 1' })
    expect(q.first.columns[1].map(String)).toEqual(['28', '29'])
  })

  it('reads JSON and TSV files', async () => {
    writeFileSync(join(core.workspaceDir, 'events.ndjson'), '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n')
    writeFileSync(join(core.workspaceDir, 'people.tsv'), 'name\tage\nann\t31\nbob\t42\n')
    await call('lake.sources.add', { kind: 'file', location: join(core.workspaceDir, 'events.ndjson') })
    await call('lake.sources.add', { kind: 'file', location: 'people.tsv' })
    const q = await call('lake.query', { queryId: 'j1', sql: 'select sum(a) s, (select max(age) from people) m from events' })
    expect(q.first.columns.map((c: unknown[]) => String(c[0]))).toEqual(['3', '42'])
  })

  it('names a corrupt file in the error and keeps nothing half-added', async () => {
    const bad = join(core.workspaceDir, 'broken.parquet')
    writeFileSync(bad, 'PAR1 this is not really parquet')
    const err = await call('lake.sources.add', { kind: 'file', location: bad }).catch((e) => e)
    expect(err.code).toBe('FILE_ERROR')
    expect(err.message).toContain('broken.parquet')
    const list = await call('lake.sources.list')
    expect(list.some((s: any) => s.name === 'broken')).toBe(false)
  })

  it('rejects a missing file and a duplicate name', async () => {
    await expect(call('lake.sources.add', { kind: 'file', location: '/nope/x.parquet' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(call('lake.sources.add', { kind: 'file', location: FLIGHTS, name: 'flights' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST'
    })
  })

  it('attaches DuckDB and SQLite database files', async () => {
    const sqlitePath = join(core.workspaceDir, 'shop.sqlite')
    const db = new Database(sqlitePath)
    db.exec("create table orders (id integer primary key, item text, price real, note); insert into orders (item, price, note) values ('a', 1.5, 1), ('b', 2, 'x')")
    db.close()
    await call('lake.sources.add', { kind: 'sqlite', location: sqlitePath })
    const q = await call('lake.query', { queryId: 'sq', sql: 'select count(*) n, sum(price) p, list(note order by id) notes from shop.orders' })
    expect(q.first.columns.map((c: unknown[]) => c[0])).toEqual(['2', 3.5, ['1', 'x']])

    const ddbPath = join(core.workspaceDir, 'lake.duckdb')
    await call('lake.query', { queryId: 'mk', sql: `attach '${ddbPath}' as mk; create table mk.items as select range i from range(10); detach mk` })
    await call('lake.sources.add', { kind: 'duckdb', location: ddbPath, name: 'lakedb' })
    const cat = await call('lake.catalog')
    const lakedb = cat.find((s: any) => s.name === 'lakedb')
    expect(lakedb.tables[0]).toMatchObject({ name: 'items', rowCount: 10 })
    const shop = cat.find((s: any) => s.name === 'shop')
    expect(shop.tables[0].columns.map((c: any) => c.type)).toEqual(['BIGINT', 'VARCHAR', 'DOUBLE', 'VARCHAR'])
  })

  it('says EXTENSION_UNAVAILABLE for S3, Iceberg and Delta offline, without hanging', async () => {
    const t0 = Date.now()
    for (const [kind, location, ext] of [
      ['s3', 's3://bucket/data/*.parquet', 'httpfs'],
      ['iceberg', join(core.workspaceDir, 'ice'), 'iceberg'],
      ['delta', join(core.workspaceDir, 'delta'), 'delta']
    ]) {
      const err = await call('lake.sources.add', {
        kind,
        location,
        s3: kind === 's3' ? { region: 'us-east-1', accessKeyId: 'AK', secretAccessKey: 'SECRET' } : undefined
      }).catch((e) => e)
      expect(err.code).toBe('EXTENSION_UNAVAILABLE')
      expect(err.details.extension).toBe(ext)
      expect(err.message).toContain(`INSTALL ${ext}`)
    }
    expect(Date.now() - t0).toBeLessThan(30_000)
    // nothing of the S3 secret is left behind
    expect(core.secrets.get('lake.s3.x')).toBeUndefined()
  })

  it('refreshes the catalog when files change', async () => {
    const dir = join(core.workspaceDir, 'drops')
    mkdirSync(dir)
    copyFileSync(FLIGHTS, join(dir, 'a.parquet'))
    await call('lake.sources.add', { kind: 'folder', location: dir })
    const changed = new Promise((r) => core.events.on('catalog.changed', r))
    copyFileSync(FLIGHTS, join(dir, 'b.parquet'))
    await changed
    await new Promise((r) => setTimeout(r, 200))
    const cat = await call('lake.catalog')
    expect(cat.find((s: any) => s.name === 'drops').tables[0].rowCount).toBe(6_000_000)
  })

  it('reads a Parquet file rewritten in place anew, even with its old modification time put back', async () => {
    const file = join(core.workspaceDir, 'scores.parquet')
    const writer = await (await DuckDBInstance.create(':memory:')).connect()
    const write = async (sql: string) => {
      await writer.run(`COPY (${sql}) TO '${file}.next' (FORMAT parquet)`)
      writeFileSync(file, readFileSync(`${file}.next`)) // same file, same inode
    }
    await write('SELECT range AS score FROM range(1000)')
    const old = new Date(Date.now() - 3_600_000)
    utimesSync(file, old, old)
    await call('lake.sources.add', { kind: 'file', location: file })
    const total = async (id: string) => (await call('lake.query', { queryId: id, sql: 'select count(*) n, sum(score) s from scores' })).first.columns.map((c: unknown[]) => String(c[0]))
    expect(await total('p1')).toEqual(['1000', '499500'])
    expect(await total('p2')).toEqual(['1000', '499500'])
    const setting = await call('lake.query', { queryId: 'p-set', sql: "select current_setting('parquet_metadata_cache')" })
    expect(setting.first.columns[0]).toEqual([true])
    await write("SELECT range + 1 AS score, 'x' AS note FROM range(1000)")
    utimesSync(file, old, old)
    expect(await total('p3')).toEqual(['1000', '500500'])
    writer.closeSync()
  })

  it('restores sources when the workspace is reopened', async () => {
    await call('workspace.open', { path: core.dataDir })
    expect(await call('lake.sources.list')).toEqual([])
    await call('workspace.open', { path: core.workspaceDir })
    const names = (await call('lake.sources.list')).map((s: any) => s.name)
    expect(names).toContain('flights')
    expect(names).toContain('shop')
    // SQLite sources restore in the background: 'loading' until their copy is attached.
    for (let i = 0; i < 200; i++) {
      const shop = (await call('lake.sources.list')).find((s: any) => s.name === 'shop')
      if (shop.status !== 'loading') break
      await new Promise((r) => setTimeout(r, 25))
    }
    expect((await call('lake.sources.list')).find((s: any) => s.name === 'shop').status).toBe('ready')
    const q = await call('lake.query', { queryId: 'after', sql: 'select count(*) n from shop.orders' })
    expect(String(q.first.columns[0][0])).toBe('2')
  })
})
