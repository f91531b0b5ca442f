import { DuckDBTypeId, JsonDuckDBValueConverter, type DuckDBDataChunk, type DuckDBVector } from '@duckdb/node-api'
import {
  Bool,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  tableToIPC,
  type Data,
  type DataType
} from 'apache-arrow'

/** A prefix of a DuckDB chunk: its first `rows` rows. */
export interface ChunkSlice {
  chunk: DuckDBDataChunk
  rows: number
}

type Kind = 'fixed' | 'bool' | 'utf8' | 'date' | 'timestamp' | 'text'

const FIXED: Partial<Record<DuckDBTypeId, () => DataType>> = {
  [DuckDBTypeId.TINYINT]: () => new Int8(),
  [DuckDBTypeId.SMALLINT]: () => new Int16(),
  [DuckDBTypeId.INTEGER]: () => new Int32(),
  [DuckDBTypeId.BIGINT]: () => new Int64(),
  [DuckDBTypeId.UTINYINT]: () => new Uint8(),
  [DuckDBTypeId.USMALLINT]: () => new Uint16(),
  [DuckDBTypeId.UINTEGER]: () => new Uint32(),
  [DuckDBTypeId.UBIGINT]: () => new Uint64(),
  [DuckDBTypeId.FLOAT]: () => new Float32(),
  [DuckDBTypeId.DOUBLE]: () => new Float64()
}

// The range in which the page's reader formats dates and timestamps exactly as DuckDB does
// (years 1–9999); values outside it travel as DuckDB's own text.
const MIN_DAY = -719_162
const MAX_DAY = 2_932_896
const MIN_MICROS = -62_135_596_800_000_000n
const MAX_MICROS = 253_402_300_799_999_999n
const MIN_MICROS_HI = Number(MIN_MICROS >> 32n)
const MAX_MICROS_HI = Number(MAX_MICROS >> 32n)

const POPCOUNT = new Uint8Array(256).map((_, i) => {
  let n = 0
  for (let b = i; b; b >>= 1) n += b & 1
  return n
})

/** Arrow validity bitmap of the first `rows` items (DuckDB's mask has the same bit order), or null when none is null. */
function validityOf(v: DuckDBVector, rows: number): { bitmap: Uint8Array; nulls: number } | null {
  const data = (v as unknown as { validity: { data: BigUint64Array | null; offset: number } }).validity
  if (!data.data) return null
  const bytes = new Uint8Array(data.data.buffer, data.data.byteOffset, Math.ceil(rows / 8))
  let valid = 0
  const full = rows >> 3
  for (let i = 0; i < full; i++) valid += POPCOUNT[bytes[i]]
  for (let r = full * 8; r < rows; r++) if (bytes[r >> 3] & (1 << (r & 7))) valid++
  if (valid === rows) return null
  return { bitmap: bytes.slice(), nulls: rows - valid }
}

function isValid(bitmap: Uint8Array | undefined, r: number): boolean {
  return !bitmap || (bitmap[r >> 3] & (1 << (r & 7))) !== 0
}

/** Decides each column's Arrow kind for the whole page (one schema for all its batches). */
function kindsOf(slices: ChunkSlice[], columns: number): Kind[] {
  const kinds: Kind[] = []
  for (let c = 0; c < columns; c++) {
    const typeId = slices[0].chunk.getColumnVector(c).type.typeId
    let kind: Kind = FIXED[typeId]
      ? 'fixed'
      : typeId === DuckDBTypeId.BOOLEAN
        ? 'bool'
        : typeId === DuckDBTypeId.VARCHAR
          ? 'utf8'
          : typeId === DuckDBTypeId.DATE
            ? 'date'
            : typeId === DuckDBTypeId.TIMESTAMP
              ? 'timestamp'
              : 'text'
    if (kind === 'date' || kind === 'timestamp') {
      for (const s of slices) {
        const v = s.chunk.getColumnVector(c)
        const items = (v as unknown as { items: Int32Array | BigInt64Array }).items
        const mask = validityOf(v, s.rows)?.bitmap
        let ok = true
        if (kind === 'date') {
          for (let r = 0; r < s.rows && ok; r++) if (isValid(mask, r)) ok = items[r] >= MIN_DAY && items[r] <= MAX_DAY
        } else {
          // the high 32 bits decide unless they equal a bound's; only then is the BigInt compared
          const halves = new Int32Array(items.buffer, items.byteOffset, s.rows * 2)
          for (let r = 0; r < s.rows && ok; r++) {
            if (!isValid(mask, r)) continue
            const hi = halves[2 * r + 1]
            if (hi > MIN_MICROS_HI && hi < MAX_MICROS_HI) continue
            const x = items[r] as bigint
            ok = x >= MIN_MICROS && x <= MAX_MICROS
          }
        }
        if (!ok) {
          kind = 'text'
          break
        }
      }
    }
    kinds.push(kind)
  }
  return kinds
}

function typeOf(kind: Kind, typeId: DuckDBTypeId): DataType {
  switch (kind) {
    case 'fixed':
      return FIXED[typeId]!()
    case 'bool':
      return new Bool()
    case 'date':
      return new DateDay()
    case 'timestamp':
      return new TimestampMicrosecond()
    default:
      return new Utf8()
  }
}

const encoder = new TextEncoder()

function utf8Data(type: DataType, strings: (string | null)[], rows: number): Data {
  const parts: Uint8Array[] = []
  const offsets = new Int32Array(rows + 1)
  let bytes = 0
  let nulls = 0
  const bitmap = new Uint8Array(Math.ceil(rows / 8))
  for (let r = 0; r < rows; r++) {
    const s = strings[r]
    if (s === null) nulls++
    else {
      bitmap[r >> 3] |= 1 << (r & 7)
      if (s.length) {
        const b = encoder.encode(s)
        parts.push(b)
        bytes += b.length
      }
    }
    offsets[r + 1] = bytes
  }
  const data = new Uint8Array(bytes)
  let at = 0
  for (const p of parts) {
    data.set(p, at)
    at += p.length
  }
  return makeData({
    type: type as Utf8,
    length: rows,
    nullCount: nulls,
    nullBitmap: nulls ? bitmap : undefined,
    valueOffsets: offsets,
    data
  })
}

/**
 * A VARCHAR column as Arrow UTF-8, straight from DuckDB's 16-byte string headers: the length is in
 * the header, strings of up to 12 bytes sit inside it and are copied as bytes; only longer ones (held
 * behind a pointer JavaScript cannot follow) go through a JS string, written into their exact slot.
 */
function varcharData(type: DataType, v: DuckDBVector, rows: number): Data {
  const view = (v as unknown as { dataView: DataView }).dataView
  const heads = new Uint8Array(view.buffer, view.byteOffset, rows * 16)
  const validity = validityOf(v, rows)
  const mask = validity?.bitmap
  const offsets = new Int32Array(rows + 1)
  let bytes = 0
  for (let r = 0; r < rows; r++) {
    if (isValid(mask, r)) bytes += view.getUint32(r * 16, true)
    offsets[r + 1] = bytes
  }
  const data = new Uint8Array(bytes)
  for (let r = 0; r < rows; r++) {
    const at = offsets[r]
    const len = offsets[r + 1] - at
    if (len === 0) continue
    if (len <= 12) {
      const from = r * 16 + 4
      for (let k = 0; k < len; k++) data[at + k] = heads[from + k]
    } else {
      encoder.encodeInto(v.getItem(r) as string, data.subarray(at, at + len))
    }
  }
  return makeData({
    type: type as Utf8,
    length: rows,
    nullCount: validity?.nulls ?? 0,
    nullBitmap: mask,
    valueOffsets: offsets,
    data
  })
}

function columnData(kind: Kind, type: DataType, s: ChunkSlice, c: number): Data {
  const v = s.chunk.getColumnVector(c)
  const rows = s.rows
  if (kind === 'utf8') return varcharData(type, v, rows)
  if (kind === 'text') {
    const strings = s.chunk
      .convertColumnValues(c, JsonDuckDBValueConverter)
      .slice(0, rows)
      .map((x) => (x === null ? null : typeof x === 'string' ? x : JSON.stringify(x)))
    return utf8Data(type, strings, rows)
  }
  const validity = validityOf(v, rows)
  const nullBitmap = validity?.bitmap
  const nullCount = validity?.nulls ?? 0
  if (kind === 'bool') {
    const view = (v as unknown as { dataView: DataView }).dataView
    const bits = new Uint8Array(Math.ceil(rows / 8))
    for (let r = 0; r < rows; r++) if (view.getUint8(r)) bits[r >> 3] |= 1 << (r & 7)
    return makeData({ type: type as Bool, length: rows, nullCount, nullBitmap, data: bits })
  }
  // fixed-width numbers, days and microseconds: DuckDB's buffer copied as it is
  const items = (v as unknown as { items: Int32Array }).items
  return makeData({ type: type as Int32, length: rows, nullCount, nullBitmap, data: items.subarray(0, rows) })
}

/**
 * A page of DuckDB chunks as an Arrow IPC stream (one record batch per chunk), built from DuckDB's
 * column buffers without going through row objects: numbers, days and microseconds are copied as
 * they are, strings as UTF-8, and the types the grid shows as text (decimals, huge integers,
 * intervals, lists, structs…) as DuckDB's own text or JSON.
 */
export function encodeArrowPage(names: string[], slices: ChunkSlice[]): Uint8Array {
  const live = slices.filter((s) => s.rows > 0)
  if (live.length === 0) return tableToIPC(new Table(new Schema(names.map((n) => new Field(n, new Utf8(), true)))), 'stream')
  const kinds = kindsOf(live, names.length)
  const types = kinds.map((k, c) => typeOf(k, live[0].chunk.getColumnVector(c).type.typeId))
  const schema = new Schema(types.map((t, c) => new Field(names[c], t, true)))
  const batches = live.map((s) => {
    const children = types.map((t, c) => columnData(kinds[c], t, s, c))
    const struct = makeData({ type: new Struct(schema.fields), length: s.rows, nullCount: 0, children })
    return new RecordBatch(schema, struct)
  })
  return tableToIPC(new Table(schema, batches), 'stream')
}
