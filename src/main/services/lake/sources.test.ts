import { describe, expect, it } from 'vitest'
import { DuckDBInstance } from '@duckdb/node-api'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readerSql } from './sources'

describe('readerSql', () => {
  it('unifies columns by name only where a glob can match several files', () => {
    expect(readerSql('parquet', '/data/flights.parquet', false)).toBe(`read_parquet('/data/flights.parquet')`)
    expect(readerSql('csv', '/data/a.csv', false)).toBe(`read_csv('/data/a.csv')`)
    expect(readerSql('parquet', '/data/**/*.parquet', true)).toBe(`read_parquet('/data/**/*.parquet', hive_partitioning = true, union_by_name = true)`)
    expect(readerSql('csv', 's3://b/logs/*.csv', false)).toBe(`read_csv('s3://b/logs/*.csv', union_by_name = true)`)
    expect(readerSql('json', '/data/*.json', false)).toBe(`read_json_auto('/data/*.json')`)
  })

  it('a glob over files with different columns still reads them all, by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reader-'))
    const inst = await DuckDBInstance.create(':memory:')
    const c = await inst.connect()
    try {
      await c.run(`COPY (SELECT 1 AS a, 'x' AS b) TO '${join(dir, '1.parquet')}' (FORMAT parquet)`)
      await c.run(`COPY (SELECT 'y' AS b, 2.5 AS c) TO '${join(dir, '2.parquet')}' (FORMAT parquet)`)
      const r = await c.runAndReadAll(`SELECT * FROM ${readerSql('parquet', join(dir, '*.parquet'), false)} ORDER BY b`)
      expect(r.deduplicatedColumnNames().sort()).toEqual(['a', 'b', 'c'])
      expect(r.getRowObjectsJson().map((o) => o.b)).toEqual(['x', 'y'])
    } finally {
      c.closeSync()
      inst.closeSync()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
