import { describe, expect, it } from 'vitest'
import { DataType, tableFromIPC, tableToIPC, tableFromArrays, vectorFromArray, Dictionary, Utf8, Int32, DateMillisecond, Table, type Int, type Float } from 'apache-arrow'
import { writeIpcStream, type ArrowField } from './arrowIpc'
import { readIpcStream } from '../../../shared/arrowIpcRead'
import { decodeArrowPage } from '../../../shared/arrowPage'

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

const fields: ArrowField[] = [
  { name: 'i8', type: { id: 'int', bitWidth: 8, signed: true } },
  { name: 'u32', type: { id: 'int', bitWidth: 32, signed: false } },
  { name: 'i64', type: { id: 'int', bitWidth: 64, signed: true } },
  { name: 'f32', type: { id: 'float', precision: 'single' } },
  { name: 'f64', type: { id: 'float', precision: 'double' } },
  { name: 'b', type: { id: 'bool' } },
  { name: 's', type: { id: 'utf8' } },
  { name: 'd', type: { id: 'dateDay' } },
  { name: 'ts', type: { id: 'timestampMicros' } },
  { name: 'u64', type: { id: 'int', bitWidth: 64, signed: false } }
]
const batch = (base: number) => ({
  length: 3,
  columns: [
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(Int8Array.of(-1, 2, base))] },
    { nullCount: 1, buffers: [Uint8Array.of(0b101), bytes(Uint32Array.of(4_000_000_000, 0, base))] },
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(BigInt64Array.of(-(2n ** 62n), 0n, BigInt(base)))] },
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(Float32Array.of(1.5, -2, base))] },
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(Float64Array.of(0.1, NaN, base))] },
    { nullCount: 0, buffers: [new Uint8Array(0), Uint8Array.of(0b011)] },
    { nullCount: 1, buffers: [Uint8Array.of(0b110), bytes(Int32Array.of(0, 0, 3, 6)), new TextEncoder().encode('héllo')] },
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(Int32Array.of(0, 18_000, -1))] },
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(BigInt64Array.of(1n, 1_600_000_000_000_000n, -1n))] },
    { nullCount: 0, buffers: [new Uint8Array(0), bytes(BigUint64Array.of(2n ** 64n - 1n, 2n ** 53n + 1n, BigInt(base)))] }
  ]
})

/** Every cell of a decoded page, column by column. */
const cells = (page: ReturnType<typeof decodeArrowPage>) => page.columns.map((c) => Array.from({ length: page.rowCount }, (_, i) => c.get(i)))

describe('Arrow IPC writer', () => {
  it('writes a stream apache-arrow reads back: types, names, NULLs, several batches', () => {
    const t = tableFromIPC(writeIpcStream(fields, [batch(7), batch(9)]))
    expect(t.batches).toHaveLength(2)
    expect(t.numRows).toBe(6)
    expect(t.schema.fields.map((f) => f.name)).toEqual(fields.map((f) => f.name))
    expect(t.schema.fields.every((f) => f.nullable)).toBe(true)
    const [i8, u32, i64, f32, f64, b, s, d, ts] = t.schema.fields.map((f) => f.type)
    expect([(i8 as Int).bitWidth, (i8 as Int).isSigned, (u32 as Int).bitWidth, (u32 as Int).isSigned, (i64 as Int).bitWidth]).toEqual([8, true, 32, false, 64])
    expect([(f32 as Float).precision, (f64 as Float).precision]).toEqual([1, 2])
    expect([DataType.isBool(b), DataType.isUtf8(s), DataType.isDate(d), DataType.isTimestamp(ts)]).toEqual([true, true, true, true])
    const col = (name: string) => t.getChild(name)!.toArray()
    expect(Array.from(col('i8') as Int8Array)).toEqual([-1, 2, 7, -1, 2, 9])
    expect(t.getChild('u32')!.toJSON()).toEqual([4_000_000_000, null, 7, 4_000_000_000, null, 9])
    expect(Array.from(col('i64') as BigInt64Array)).toEqual([-(2n ** 62n), 0n, 7n, -(2n ** 62n), 0n, 9n])
    expect(t.getChild('b')!.toJSON()).toEqual([true, true, false, true, true, false])
    expect(t.getChild('s')!.toJSON()).toEqual([null, 'hé', 'llo', null, 'hé', 'llo'])
    expect(t.getChild('f64')!.get(1)).toBeNaN()
    expect(t.getChild('d')!.data[0].values[1]).toBe(18_000)
  })

  it('writes wide schemas (metadata larger than the builder’s first buffer) and empty streams', () => {
    const fields: ArrowField[] = Array.from({ length: 300 }, (_, i) => ({ name: `column number ${i} with a long name`, type: { id: 'utf8' } }))
    const empty = tableFromIPC(writeIpcStream(fields, []))
    expect(empty.numRows).toBe(0)
    expect(empty.schema.fields.map((f) => f.name)).toEqual(fields.map((f) => f.name))
    const one = writeIpcStream(fields, [{ length: 1, columns: fields.map((_, i) => ({ nullCount: 0, buffers: [new Uint8Array(0), bytes(Int32Array.of(0, String(i).length)), new TextEncoder().encode(String(i))] })) }])
    const t = tableFromIPC(one)
    expect(t.getChild('column number 299 with a long name')!.get(0)).toBe('299')
    expect(one.byteLength % 8).toBe(0)
  })
})

describe('Arrow IPC reader of result pages', () => {
  it('reads what the writer writes, in place, as apache-arrow reads it: every type, NULLs, several batches', () => {
    const stream = writeIpcStream(fields, [batch(7), batch(9)])
    const r = readIpcStream(stream)!
    expect(r.fields.map((f) => f.name)).toEqual(fields.map((f) => f.name))
    expect(r.batches.map((b) => b.length)).toEqual([3, 3])
    // views of the received bytes, no copies
    expect(r.batches[1].columns[4].values.buffer).toBe(stream.buffer)
    const arrow = tableFromIPC(stream)
    const viaArrow = fields.map((f) => arrow.getChild(f.name)!.toArray())
    expect(Array.from(r.batches[0].columns[2].values as BigInt64Array)).toEqual(Array.from(viaArrow[2] as BigInt64Array).slice(0, 3))
    const page = cells(decodeArrowPage(stream))
    expect(page[0]).toEqual([-1, 2, 7, -1, 2, 9])
    expect(page[1]).toEqual([4_000_000_000, null, 7, 4_000_000_000, null, 9])
    expect(page[2]).toEqual(['-4611686018427387904', '0', '7', '-4611686018427387904', '0', '9'])
    expect(page[3]).toEqual([1.5, -2, 7, 1.5, -2, 9])
    expect(page[4]).toEqual([0.1, 'NaN', 7, 0.1, 'NaN', 9])
    expect(page[5]).toEqual([true, true, false, true, true, false])
    expect(page[6]).toEqual([null, 'hé', 'llo', null, 'hé', 'llo'])
    expect(page[7]).toEqual(['1970-01-01', '2019-04-14', '1969-12-31', '1970-01-01', '2019-04-14', '1969-12-31'])
    expect(page[8]).toEqual(['1970-01-01 00:00:00.000001', '2020-09-13 12:26:40', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001', '2020-09-13 12:26:40', '1969-12-31 23:59:59.999999'])
    expect(page[9]).toEqual(['18446744073709551615', '9007199254740993', '7', '18446744073709551615', '9007199254740993', '9'])
  })

  it('reads a page that does not start 8-byte aligned (a WebSocket frame in a pooled buffer)', () => {
    const stream = writeIpcStream(fields, [batch(7)])
    const shifted = new Uint8Array(stream.byteLength + 3)
    shifted.set(stream, 3)
    expect(cells(decodeArrowPage(shifted.subarray(3)))).toEqual(cells(decodeArrowPage(stream)))
  })

  it('leaves streams it does not know to apache-arrow: dictionaries, millisecond dates', () => {
    const dict = vectorFromArray(['a', 'b', 'a', null], new Dictionary(new Utf8(), new Int32()))
    const dates = vectorFromArray([new Date(Date.UTC(2020, 0, 2))], new DateMillisecond())
    for (const t of [new Table({ c: dict }), new Table({ d: dates }), tableFromArrays({ n: Int32Array.of(1, 2) })]) {
      const ipc = tableToIPC(t, 'stream')
      const known = DataType.isInt(t.schema.fields[0].type) && !DataType.isDictionary(t.schema.fields[0].type)
      expect(readIpcStream(ipc) !== null).toBe(known)
    }
    expect(cells(decodeArrowPage(tableToIPC(tableFromArrays({ n: Int32Array.of(1, 2) }), 'stream')))).toEqual([[1, 2]])
  })

  it('returns null for a truncated stream, and decoding it fails instead of showing part of a page', () => {
    const stream = writeIpcStream(fields, [batch(7), batch(9)])
    const cut = stream.subarray(0, stream.byteLength - 100)
    expect(readIpcStream(cut)).toBeNull()
    expect(() => cells(decodeArrowPage(cut))).toThrow()
  })
})
