import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuckDBInstance, JsonDuckDBValueConverter, type DuckDBConnection } from '@duckdb/node-api'
import { decodeArrowPage } from '../../../shared/arrowPage'
import { readIpcStream } from '../../../shared/arrowIpcRead'
import { encodeArrowPage, type ChunkSlice } from './arrowPage'

let instance: DuckDBInstance
let conn: DuckDBConnection

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:')
  conn = await instance.connect()
})
afterAll(() => {
  conn.closeSync()
  instance.closeSync()
})

/** What the JSON path shows for a value: DuckDB's JSON conversion, nested values as their JSON text. */
const asShown = (v: unknown) => (v === null || typeof v !== 'object' ? v : JSON.stringify(v))

async function roundTrip(sql: string, take?: number) {
  const result = await conn.run(sql)
  const names = result.deduplicatedColumnNames()
  const slices: ChunkSlice[] = []
  const json: unknown[][] = names.map(() => [])
  let left = take ?? Infinity
  for (let k = 0; k < result.chunkCount && left > 0; k++) {
    const chunk = result.getChunk(k)
    const rows = Math.min(chunk.rowCount, left)
    left -= rows
    slices.push({ chunk, rows })
    chunk.convertColumns(JsonDuckDBValueConverter).forEach((col, c) => json[c].push(...col.slice(0, rows).map(asShown)))
  }
  const bytes = encodeArrowPage(names, slices)
  const page = decodeArrowPage(bytes)
  const decoded = page.columns.map((col) => Array.from({ length: page.rowCount }, (_, r) => col.get(r)))
  return { names, json, decoded, rowCount: page.rowCount, bytes }
}

describe('Arrow pages: encode from DuckDB chunks, decode as the grid reads them', () => {
  it('gives back exactly what the JSON path gives, for every type the grid shows, NULLs included', async () => {
    const sql = `
      SELECT * FROM (VALUES
        (1::TINYINT, 2::SMALLINT, 3::INTEGER, 9007199254740993::BIGINT, 170141183460469231731687303715884105727::HUGEINT,
         255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 18446744073709551615::UBIGINT,
         1.5::FLOAT, -2.25::DOUBLE, 12345.67::DECIMAL(10,2), 123456789012345678.123::DECIMAL(38,3),
         true, 'héllo ✓', DATE '2020-02-29', TIMESTAMP '2020-01-02 03:04:05.123', TIMESTAMP '1970-01-01 00:00:00',
         TIMESTAMPTZ '2020-01-02 03:04:05+00', TIME '01:02:03', INTERVAL 3 DAY, [1, 2, NULL], {'a': 1, 'b': 'x'},
         MAP {'k': 1}, 'c2343847-5095-4eb7-98c4-117c1133bf37'::UUID, ''),
        (NULL, NULL, NULL, '-9223372036854775808'::BIGINT, -170141183460469231731687303715884105727::HUGEINT,
         NULL, NULL, NULL, NULL, NULL, 'NaN'::DOUBLE, NULL, -0.001::DECIMAL(38,3),
         false, NULL, DATE '0001-01-01', TIMESTAMP '1969-12-31 23:59:59.999999', NULL,
         NULL, NULL, NULL, [], NULL, NULL, NULL, NULL),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'last')
      ) t(ti, si, i, bi, hi, uti, usi, ui, ubi, f, d, dec, dec38, b, s, dt, ts, ts0, tstz, tm, iv, l, st, m, u, empty)`
    const r = await roundTrip(sql)
    expect(r.rowCount).toBe(3)
    for (let c = 0; c < r.names.length; c++) expect({ col: r.names[c], values: r.decoded[c] }).toEqual({ col: r.names[c], values: r.json[c] })
    // spot checks that the comparison is not vacuous
    expect(r.decoded[3][0]).toBe('9007199254740993')
    expect(r.decoded[4][1]).toBe('-170141183460469231731687303715884105727')
    expect(r.decoded[15][0]).toBe('2020-02-29')
    expect(r.decoded[16][0]).toBe('2020-01-02 03:04:05.123')
    expect(r.decoded[16][1]).toBe('1969-12-31 23:59:59.999999')
    expect(r.decoded[21][0]).toBe('[1,2,null]')
    expect(r.decoded[22][0]).toBe('{"a":1,"b":"x"}')
    expect(r.decoded[0][1]).toBeNull()
    expect(r.decoded[13]).toEqual([true, false, null])
  })

  it('dates and timestamps outside years 1–9999 fall back to DuckDB’s text', async () => {
    const r = await roundTrip(`SELECT * FROM (VALUES (DATE '2020-01-01', TIMESTAMP '2020-01-01 00:00:01'),
      ('5877642-06-25 (BC)'::DATE, 'infinity'::TIMESTAMP), ('infinity'::DATE, '-infinity'::TIMESTAMP)) t(d, ts)`)
    expect(r.decoded).toEqual(r.json)
    expect(r.decoded[0][1]).toBe('5877642-06-25 (BC)')
  })

  it('a date or timestamp out of range in a later chunk turns the whole column to text, earlier batches too', async () => {
    const r = await roundTrip(`SELECT * FROM (SELECT DATE '2020-01-01' + i::INT AS d, TIMESTAMP '2020-01-01' + to_seconds(i) AS ts, i FROM range(4000) t(i)
      UNION ALL SELECT '5877642-06-25 (BC)'::DATE, '-infinity'::TIMESTAMP, 4000) ORDER BY i`)
    expect(r.rowCount).toBe(4001)
    expect(r.decoded).toEqual(r.json)
    expect(r.decoded[0][0]).toBe('2020-01-01')
    expect(r.decoded[0][4000]).toBe('5877642-06-25 (BC)')
    // both columns travel as text in every batch; the integer column keeps its type
    expect(readIpcStream(r.bytes)!.fields.map((f) => f.type.id)).toEqual(['utf8', 'utf8', 'int'])
  })

  it('spans several chunks with NULLs at chunk boundaries, and takes a prefix of the last one', async () => {
    const sql = `SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 2 END AS x, CASE WHEN i % 5 = 0 THEN NULL ELSE 'r' || i END AS s,
      CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS b, i::BIGINT * 1000000000000 AS big FROM range(5000) t(i) ORDER BY i`
    const r = await roundTrip(sql, 4500)
    expect(r.rowCount).toBe(4500)
    expect(r.decoded).toEqual(r.json)
    expect(r.decoded[1][2047]).toBe('4094')
    expect(r.decoded[1][2044]).toBeNull()
  })

  it('strings of every length around DuckDB’s 12-byte inline limit, multi-byte ones and NULLs, over several chunks', async () => {
    // lengths 0–40 in bytes, ASCII and with 2-, 3- and 4-byte characters, so both the inline and the
    // pointer form of DuckDB's strings are read, in batches that are all ASCII and batches that are not
    const sql = `SELECT i, CASE WHEN i % 11 = 3 THEN NULL
        WHEN i < 2048 THEN repeat('x', i % 41)
        ELSE repeat(['a', 'é', '✓', '😀'][1 + i % 4], i % 13) || repeat('b', i % 5) END AS s
      FROM range(4100) t(i) ORDER BY i`
    const r = await roundTrip(sql)
    expect(r.rowCount).toBe(4100)
    expect(r.decoded).toEqual(r.json)
    expect(r.decoded[1][12]).toBe('x'.repeat(12))
    expect(r.decoded[1][13]).toBe('x'.repeat(13))
    expect(r.decoded[1][3]).toBeNull()
    expect(r.decoded[1][4099]).toBe('😀'.repeat(4099 % 13) + 'b'.repeat(4099 % 5))
  })

  it('dates and timestamps read as DuckDB writes them, on both sides of the 2^53 µs limit and across leap days', async () => {
    // 2^53 µs after and before the epoch: 2255-06-05 23:47:34.740992 and 1684-07-28 00:12:25.259008
    const r = await roundTrip(`SELECT d::DATE AS d, ts FROM (VALUES
        (TIMESTAMP '2255-06-05 23:47:34.740991'), (TIMESTAMP '2255-06-05 23:47:34.740992'), (TIMESTAMP '2255-06-05 23:47:34.740993'),
        (TIMESTAMP '1684-07-28 00:12:25.259008'), (TIMESTAMP '1684-07-28 00:12:25.259007'), (TIMESTAMP '1684-07-28 00:12:25.259009'),
        (TIMESTAMP '1969-12-31 23:59:59.000001'), (TIMESTAMP '1970-01-01 00:00:00.5'), (TIMESTAMP '2000-02-29 12:00:00'),
        (TIMESTAMP '1900-03-01 00:00:00'), (TIMESTAMP '0001-01-01 00:00:00'), (TIMESTAMP '9999-12-31 23:59:59.999999'),
        (TIMESTAMP '2024-12-31 23:59:59.1'), (NULL)) t(ts), LATERAL (SELECT ts AS d)`)
    expect(r.decoded).toEqual(r.json)
    expect(r.decoded[1][7]).toBe('1970-01-01 00:00:00.5')
    expect(r.decoded[0][8]).toBe('2000-02-29')
    // every day of four centuries and a spread of instants, against DuckDB's text
    const days = await roundTrip(`SELECT DATE '1800-01-01' + i::INTEGER AS d,
        TIMESTAMP '1900-01-01' + to_microseconds(i * 86400000123 + i * 7919) AS ts FROM range(146097) t(i)`)
    expect(days.decoded).toEqual(days.json)
  })

  it('64-bit integers read exactly on both sides of 2^32 and 2^53, negative ones too', async () => {
    const r = await roundTrip(`SELECT * FROM (VALUES (-1::BIGINT, 0::UBIGINT), (-4294967296, 4294967295), (-4294967297, 4294967296),
      (9007199254740991, 9007199254740991), (-9007199254740991, 9007199254740992), (-9007199254740993, 18446744073709551614),
      (4294967295, 1), (NULL, NULL)) t(s, u)`)
    expect(r.decoded).toEqual(r.json)
    expect(r.decoded[0]).toEqual(['-1', '-4294967296', '-4294967297', '9007199254740991', '-9007199254740991', '-9007199254740993', '4294967295', null])
  })

  it('encodes an empty page with its column names', async () => {
    const page = decodeArrowPage(encodeArrowPage(['a', 'b'], []))
    expect(page.rowCount).toBe(0)
    expect(page.columns).toHaveLength(2)
  })
})
