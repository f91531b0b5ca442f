import { describe, expect, it } from 'vitest'
import { DataType, tableFromIPC, type Int, type Float } from 'apache-arrow'
import { writeIpcStream, type ArrowField } from './arrowIpc'

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

describe('Arrow IPC writer', () => {
  it('writes a stream apache-arrow reads back: types, names, NULLs, several batches', () => {
    const fields: ArrowField[] = [
      { name: 'i8', type: { id: 'int', bitWidth: 8, signed: true } },
      { name: 'u32', type: { id: 'int', bitWidth: 32, signed: false } },
      { name: 'i64', type: { id: 'int', bitWidth: 64, signed: true } },
      { name: 'f32', type: { id: 'float', precision: 'single' } },
      { name: 'f64', type: { id: 'float', precision: 'double' } },
      { name: 'b', type: { id: 'bool' } },
      { name: 's', type: { id: 'utf8' } },
      { name: 'd', type: { id: 'dateDay' } },
      { name: 'ts', type: { id: 'timestampMicros' } }
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
        { nullCount: 0, buffers: [new Uint8Array(0), bytes(BigInt64Array.of(1n, 1_600_000_000_000_000n, -1n))] }
      ]
    })
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
