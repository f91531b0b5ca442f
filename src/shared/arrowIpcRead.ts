/**
 * A reader of Arrow IPC streams for the column types result pages carry (the ones the lake's writer
 * produces): integers, floats, booleans, UTF-8, days and microsecond timestamps, uncompressed, flat.
 * It reads the FlatBuffers metadata in place and gives each column typed-array views of the received
 * bytes. Anything else (dictionaries, nested or compressed columns, other units) gets null, and the
 * caller reads that stream with apache-arrow.
 */

import { DATE_DAY, DATE_MILLISECOND, HEADER_RECORD_BATCH, HEADER_SCHEMA, PRECISION, TIME_MICROSECOND, TIME_SECOND, TYPE_BOOL, TYPE_DATE, TYPE_FLOAT, TYPE_INT, TYPE_TIMESTAMP, TYPE_UTF8 } from './arrowFormat'

/** A column's type, as far as reading its cells needs. */
export type IpcType =
  | { id: 'int'; bitWidth: 8 | 16 | 32 | 64; signed: boolean }
  | { id: 'float'; bitWidth: 32 | 64 }
  | { id: 'bool' }
  | { id: 'utf8' }
  | { id: 'dateDay' }
  | { id: 'timestampMicros' }

/** One column of one record batch: views of its buffers. */
export interface IpcColumn {
  nullCount: number
  /** The validity bitmap, or null when the column holds no NULL. */
  validity: Uint8Array | null
  /** Fixed-width values (bools as a bitmap), or the UTF-8 bytes of a string column. */
  values: ArrayBufferView
  /** String columns: where each value starts and ends in `values`. */
  offsets: Int32Array | null
}

export interface IpcBatch {
  length: number
  columns: IpcColumn[]
}

export interface IpcStream {
  fields: { name: string; type: IpcType }[]
  batches: IpcBatch[]
}

class Unsupported extends Error {}

/** Reads FlatBuffers tables in one buffer. */
class Flat {
  constructor(
    readonly v: DataView,
    readonly base: number
  ) {}
  u8(p: number): number {
    return this.v.getUint8(this.base + p)
  }
  i16(p: number): number {
    return this.v.getInt16(this.base + p, true)
  }
  i32(p: number): number {
    return this.v.getInt32(this.base + p, true)
  }
  /** An int64 that must fit a double exactly (lengths, offsets, counts). */
  i64(p: number): number {
    const hi = this.v.getInt32(this.base + p + 4, true)
    if (hi < 0 || hi >= 0x200000) throw new Unsupported()
    return hi * 4294967296 + this.v.getUint32(this.base + p, true)
  }
  /** Where field `slot` of the table at `t` is, or 0 when absent. */
  field(t: number, slot: number): number {
    const vt = t - this.i32(t)
    const at = 4 + 2 * slot
    if (at >= this.v.getUint16(this.base + vt, true)) return 0
    const off = this.v.getUint16(this.base + vt + at, true)
    return off ? t + off : 0
  }
  /** The table, vector or string a field's offset points at. */
  ref(p: number): number {
    return p + this.i32(p)
  }
  str(p: number): string {
    const len = this.i32(p)
    return textDecoder.decode(new Uint8Array(this.v.buffer, this.v.byteOffset + this.base + p + 4, len))
  }
}

const textDecoder = new TextDecoder()

function fieldType(f: Flat, field: number): IpcType {
  const typeTag = f.field(field, 2)
  const typeRef = f.field(field, 3)
  const children = f.field(field, 5)
  if (f.field(field, 4) || (children && f.i32(f.ref(children)) !== 0) || !typeTag || !typeRef) throw new Unsupported()
  const t = f.ref(typeRef)
  const short = (slot: number, dflt: number) => {
    const p = f.field(t, slot)
    return p ? f.i16(p) : dflt
  }
  switch (f.u8(typeTag)) {
    case TYPE_INT: {
      const w = f.field(t, 0) ? f.i32(f.field(t, 0)) : 0
      const signed = f.field(t, 1) ? f.u8(f.field(t, 1)) !== 0 : false
      if (w !== 8 && w !== 16 && w !== 32 && w !== 64) throw new Unsupported()
      return { id: 'int', bitWidth: w, signed }
    }
    case TYPE_FLOAT: {
      const precision = short(0, PRECISION.half)
      if (precision === PRECISION.single) return { id: 'float', bitWidth: 32 }
      if (precision === PRECISION.double) return { id: 'float', bitWidth: 64 }
      throw new Unsupported()
    }
    case TYPE_UTF8:
      return { id: 'utf8' }
    case TYPE_BOOL:
      return { id: 'bool' }
    case TYPE_DATE:
      if (short(0, DATE_MILLISECOND) !== DATE_DAY) throw new Unsupported()
      return { id: 'dateDay' }
    case TYPE_TIMESTAMP:
      // a zone would change what the grid shows
      if (short(0, TIME_SECOND) !== TIME_MICROSECOND || f.field(t, 1)) throw new Unsupported()
      return { id: 'timestampMicros' }
    default:
      throw new Unsupported()
  }
}

function valuesView(type: IpcType, buf: ArrayBuffer, at: number, length: number, bytes: number): ArrayBufferView {
  switch (type.id) {
    case 'int':
      if (type.bitWidth === 64) return new BigInt64Array(buf, at, need(length, bytes, 8))
      if (type.bitWidth === 32) return type.signed ? new Int32Array(buf, at, need(length, bytes, 4)) : new Uint32Array(buf, at, need(length, bytes, 4))
      if (type.bitWidth === 16) return type.signed ? new Int16Array(buf, at, need(length, bytes, 2)) : new Uint16Array(buf, at, need(length, bytes, 2))
      return type.signed ? new Int8Array(buf, at, need(length, bytes, 1)) : new Uint8Array(buf, at, need(length, bytes, 1))
    case 'float':
      return type.bitWidth === 64 ? new Float64Array(buf, at, need(length, bytes, 8)) : new Float32Array(buf, at, need(length, bytes, 4))
    case 'timestampMicros':
      return new BigInt64Array(buf, at, need(length, bytes, 8))
    case 'dateDay':
      return new Int32Array(buf, at, need(length, bytes, 4))
    case 'bool':
      return new Uint8Array(buf, at, need(Math.ceil(length / 8), bytes, 1))
    case 'utf8':
      return new Uint8Array(buf, at, bytes)
  }
}

/** `length` elements of `size` bytes, which the buffer must hold. */
function need(length: number, bytes: number, size: number): number {
  if (length * size > bytes) throw new Unsupported()
  return length
}

/**
 * Reads an Arrow IPC stream whose columns the fast path knows, or returns null for the caller to read
 * it with apache-arrow. The views share `bytes`' memory; bytes not 8-byte aligned are copied once.
 */
export function readIpcStream(bytes: Uint8Array): IpcStream | null {
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice()
  const buf = bytes.buffer as ArrayBuffer
  const view = new DataView(buf, bytes.byteOffset, bytes.byteLength)
  const out: IpcStream = { fields: [], batches: [] }
  let schemaSeen = false
  let pos = 0
  try {
    while (pos + 4 <= bytes.byteLength) {
      let len = view.getInt32(pos, true)
      pos += 4
      if (len === -1) {
        len = view.getInt32(pos, true)
        pos += 4
      }
      if (len === 0) return schemaSeen ? out : null
      if (len < 0 || pos + len > bytes.byteLength) return null
      const f = new Flat(view, pos)
      const msg = f.i32(0)
      const headerType = f.field(msg, 1) ? f.u8(f.field(msg, 1)) : 0
      const headerRef = f.field(msg, 2)
      const bodyLength = f.field(msg, 3) ? f.i64(f.field(msg, 3)) : 0
      const bodyAt = pos + len
      if (!headerRef || bodyAt + bodyLength > bytes.byteLength) return null
      const header = f.ref(headerRef)
      if (headerType === HEADER_SCHEMA && !schemaSeen) {
        const list = f.field(header, 1)
        const vec = list ? f.ref(list) : 0
        const n = vec ? f.i32(vec) : 0
        for (let i = 0; i < n; i++) {
          const field = f.ref(vec + 4 + 4 * i)
          const name = f.field(field, 0)
          out.fields.push({ name: name ? f.str(f.ref(name)) : '', type: fieldType(f, field) })
        }
        schemaSeen = true
      } else if (headerType === HEADER_RECORD_BATCH && schemaSeen) {
        out.batches.push(readBatch(f, header, out.fields, buf, bytes.byteOffset + bodyAt, bodyLength))
      } else {
        return null
      }
      pos = bodyAt + bodyLength
    }
    return null
  } catch (e) {
    if (e instanceof Unsupported || e instanceof RangeError) return null
    throw e
  }
}

function readBatch(f: Flat, rb: number, fields: IpcStream['fields'], buf: ArrayBuffer, bodyAt: number, bodyLength: number): IpcBatch {
  if (f.field(rb, 3) || f.field(rb, 4)) throw new Unsupported()
  const length = f.field(rb, 0) ? f.i64(f.field(rb, 0)) : 0
  const nodesRef = f.field(rb, 1)
  const buffersRef = f.field(rb, 2)
  if (!nodesRef || !buffersRef) throw new Unsupported()
  const nodes = f.ref(nodesRef)
  const buffers = f.ref(buffersRef)
  if (f.i32(nodes) !== fields.length) throw new Unsupported()
  let b = 0
  const nextBuffer = (): [number, number] => {
    if (b >= f.i32(buffers)) throw new Unsupported()
    const p = buffers + 4 + 16 * b++
    const offset = f.i64(p)
    const len = f.i64(p + 8)
    if (offset + len > bodyLength || (bodyAt + offset) % 8 !== 0) throw new Unsupported()
    return [bodyAt + offset, len]
  }
  const columns = fields.map(({ type }, i): IpcColumn => {
    const node = nodes + 4 + 16 * i
    if (f.i64(node) !== length) throw new Unsupported()
    const nullCount = f.i64(node + 8)
    const [vAt, vLen] = nextBuffer()
    const validity = nullCount > 0 ? new Uint8Array(buf, vAt, need(Math.ceil(length / 8), vLen, 1)) : null
    if (type.id === 'utf8') {
      const [oAt, oLen] = nextBuffer()
      const offsets = new Int32Array(buf, oAt, need(length + 1, oLen, 4))
      const [dAt, dLen] = nextBuffer()
      if (offsets[length] > dLen) throw new Unsupported()
      return { nullCount, validity, offsets, values: new Uint8Array(buf, dAt, dLen) }
    }
    const [dAt, dLen] = nextBuffer()
    return { nullCount, validity, offsets: null, values: valuesView(type, buf, dAt, length, dLen) }
  })
  return { length, columns }
}
