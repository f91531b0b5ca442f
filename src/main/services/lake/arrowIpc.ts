/**
 * A small writer of Arrow IPC streams for the column types result pages use: the Schema and
 * RecordBatch messages are built as FlatBuffers here, and every column buffer is copied once, straight
 * into the output. (apache-arrow's general writer walks its type visitors and builds intermediate
 * tables for every page.) src/shared/arrowIpcRead.ts reads these streams back in place.
 */
import { DATE_DAY, HEADER_RECORD_BATCH, HEADER_SCHEMA, METADATA_V5, PRECISION, TIME_MICROSECOND, TYPE_BOOL, TYPE_DATE, TYPE_FLOAT, TYPE_INT, TYPE_TIMESTAMP, TYPE_UTF8 } from '../../../shared/arrowFormat'

export type ArrowType =
  | { id: 'int'; bitWidth: 8 | 16 | 32 | 64; signed: boolean }
  | { id: 'float'; precision: 'single' | 'double' }
  | { id: 'bool' }
  | { id: 'utf8' }
  | { id: 'dateDay' }
  | { id: 'timestampMicros' }

export interface ArrowField {
  name: string
  type: ArrowType
}

/** One column of a record batch: its NULL count and its buffers in Arrow's order (validity first, empty when no NULL). */
export interface ArrowColumn {
  nullCount: number
  buffers: Uint8Array[]
}

export interface ArrowBatch {
  length: number
  columns: ArrowColumn[]
}

const TWO_32 = 4294967296

/** A FlatBuffers builder (written back to front, as FlatBuffers are), enough for Arrow's messages. */
class Builder {
  private buf = new Uint8Array(1024)
  private view = new DataView(this.buf.buffer)
  private head = this.buf.length
  private minAlign = 1
  private fields: number[] = []
  private objectEnd = 0

  /** Bytes written so far: an object's offset counts from the end of the buffer. */
  offset(): number {
    return this.buf.length - this.head
  }

  private grow(): void {
    const old = this.buf
    this.buf = new Uint8Array(old.length * 2)
    this.buf.set(old, old.length)
    this.view = new DataView(this.buf.buffer)
    this.head += old.length
  }

  /** Aligns so that `size` bytes written after `additional` more bytes land on a multiple of `size`. */
  private prep(size: number, additional: number): void {
    if (size > this.minAlign) this.minAlign = size
    const pad = (-(this.offset() + additional) & (size - 1)) >>> 0
    while (this.head < pad + size + additional) this.grow()
    for (let i = 0; i < pad; i++) this.buf[--this.head] = 0
  }

  private int8(v: number): void {
    this.buf[--this.head] = v
  }
  private int16(v: number): void {
    this.head -= 2
    this.view.setInt16(this.head, v, true)
  }
  private int32(v: number): void {
    this.head -= 4
    this.view.setInt32(this.head, v, true)
  }
  private int64(v: number): void {
    this.head -= 8
    this.view.setUint32(this.head, v % TWO_32, true)
    this.view.setInt32(this.head + 4, Math.floor(v / TWO_32), true)
  }

  private uoffset(target: number): void {
    this.prep(4, 0)
    this.int32(this.offset() - target + 4)
  }

  startObject(fields: number): void {
    this.fields = new Array<number>(fields).fill(0)
    this.objectEnd = this.offset()
  }
  fieldInt8(slot: number, v: number): void {
    this.prep(1, 0)
    this.int8(v)
    this.fields[slot] = this.offset()
  }
  fieldInt16(slot: number, v: number): void {
    this.prep(2, 0)
    this.int16(v)
    this.fields[slot] = this.offset()
  }
  fieldInt32(slot: number, v: number): void {
    this.prep(4, 0)
    this.int32(v)
    this.fields[slot] = this.offset()
  }
  fieldInt64(slot: number, v: number): void {
    this.prep(8, 0)
    this.int64(v)
    this.fields[slot] = this.offset()
  }
  fieldOffset(slot: number, target: number): void {
    this.uoffset(target)
    this.fields[slot] = this.offset()
  }

  endObject(): number {
    this.prep(4, 0)
    this.int32(0)
    const object = this.offset()
    let n = this.fields.length
    while (n > 0 && this.fields[n - 1] === 0) n--
    for (let i = n - 1; i >= 0; i--) this.int16(this.fields[i] ? object - this.fields[i] : 0)
    this.int16(object - this.objectEnd)
    this.int16((n + 2) * 2)
    const vtable = this.offset()
    // the table starts with the distance back to its vtable, written just before it
    this.view.setInt32(this.buf.length - object, vtable - object, true)
    return object
  }

  string(text: string): number {
    const bytes = new TextEncoder().encode(text)
    this.prep(4, bytes.length + 1)
    this.int8(0)
    this.head -= bytes.length
    this.buf.set(bytes, this.head)
    this.int32(bytes.length)
    return this.offset()
  }

  offsetVector(targets: number[]): number {
    this.prep(4, 4 * targets.length)
    for (let i = targets.length - 1; i >= 0; i--) this.uoffset(targets[i])
    this.int32(targets.length)
    return this.offset()
  }

  /** A vector of structs of two int64s (FieldNode, Buffer). */
  pairVector(pairs: [number, number][]): number {
    this.prep(4, 16 * pairs.length)
    this.prep(8, 16 * pairs.length)
    for (let i = pairs.length - 1; i >= 0; i--) {
      this.int64(pairs[i][1])
      this.int64(pairs[i][0])
    }
    this.int32(pairs.length)
    return this.offset()
  }

  finish(root: number): Uint8Array {
    this.prep(this.minAlign, 4)
    this.uoffset(root)
    return this.buf.subarray(this.head)
  }
}

function typeTable(b: Builder, t: ArrowType): { typeId: number; offset: number } {
  switch (t.id) {
    case 'int':
      b.startObject(2)
      b.fieldInt32(0, t.bitWidth)
      b.fieldInt8(1, t.signed ? 1 : 0)
      return { typeId: TYPE_INT, offset: b.endObject() }
    case 'float':
      b.startObject(1)
      b.fieldInt16(0, PRECISION[t.precision])
      return { typeId: TYPE_FLOAT, offset: b.endObject() }
    case 'dateDay':
      b.startObject(1)
      b.fieldInt16(0, DATE_DAY)
      return { typeId: TYPE_DATE, offset: b.endObject() }
    case 'timestampMicros':
      b.startObject(2)
      b.fieldInt16(0, TIME_MICROSECOND)
      return { typeId: TYPE_TIMESTAMP, offset: b.endObject() }
    case 'bool':
      b.startObject(0)
      return { typeId: TYPE_BOOL, offset: b.endObject() }
    case 'utf8':
      b.startObject(0)
      return { typeId: TYPE_UTF8, offset: b.endObject() }
  }
}

function message(b: Builder, headerType: number, header: number, bodyLength: number): Uint8Array {
  b.startObject(5)
  b.fieldInt64(3, bodyLength)
  b.fieldOffset(2, header)
  b.fieldInt16(0, METADATA_V5)
  b.fieldInt8(1, headerType)
  return b.finish(b.endObject())
}

function schemaMessage(fields: ArrowField[]): Uint8Array {
  const b = new Builder()
  const offsets = fields.map((f) => {
    const name = b.string(f.name)
    const type = typeTable(b, f.type)
    const children = b.offsetVector([])
    b.startObject(7)
    b.fieldOffset(0, name)
    b.fieldOffset(3, type.offset)
    b.fieldOffset(5, children)
    b.fieldInt8(1, 1)
    b.fieldInt8(2, type.typeId)
    return b.endObject()
  })
  const list = b.offsetVector(offsets)
  b.startObject(4)
  b.fieldOffset(1, list)
  return message(b, HEADER_SCHEMA, b.endObject(), 0)
}

const pad8 = (n: number) => (n + 7) & ~7

/** The metadata of a record batch and where each of its buffers goes in the body. */
function batchMessage(batch: ArrowBatch): { meta: Uint8Array; body: { at: number; bytes: Uint8Array }[]; bodyLength: number } {
  const nodes: [number, number][] = []
  const spans: [number, number][] = []
  const body: { at: number; bytes: Uint8Array }[] = []
  let at = 0
  for (const col of batch.columns) {
    nodes.push([batch.length, col.nullCount])
    for (const bytes of col.buffers) {
      spans.push([at, bytes.byteLength])
      body.push({ at, bytes })
      at = pad8(at + bytes.byteLength)
    }
  }
  const b = new Builder()
  const bufferVec = b.pairVector(spans)
  const nodeVec = b.pairVector(nodes)
  b.startObject(5)
  b.fieldInt64(0, batch.length)
  b.fieldOffset(1, nodeVec)
  b.fieldOffset(2, bufferVec)
  return { meta: message(b, HEADER_RECORD_BATCH, b.endObject(), at), body, bodyLength: at }
}

/** An Arrow IPC stream: the schema, the record batches, and the end-of-stream marker, in one buffer. */
export function writeIpcStream(fields: ArrowField[], batches: ArrowBatch[]): Uint8Array {
  const schema = schemaMessage(fields)
  const parts = batches.map(batchMessage)
  // each message: 0xFFFFFFFF, the metadata length (padded to 8), the metadata, then the body
  let total = 8 + pad8(schema.length) + 8
  for (const p of parts) total += 8 + pad8(p.meta.length) + p.bodyLength
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let at = 0
  const put = (meta: Uint8Array) => {
    view.setUint32(at, 0xffffffff, true)
    view.setInt32(at + 4, pad8(meta.length), true)
    out.set(meta, at + 8)
    at += 8 + pad8(meta.length)
  }
  put(schema)
  for (const p of parts) {
    put(p.meta)
    for (const piece of p.body) out.set(piece.bytes, at + piece.at)
    at += p.bodyLength
  }
  view.setUint32(at, 0xffffffff, true)
  view.setInt32(at + 4, 0, true)
  return out
}
