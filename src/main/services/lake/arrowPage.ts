import { DuckDBTypeId, JsonDuckDBValueConverter, type DuckDBDataChunk, type DuckDBVector } from '@duckdb/node-api'
import { writeIpcStream, type ArrowColumn, type ArrowType } from './arrowIpc'

/** A prefix of a DuckDB chunk: its first `rows` rows. */
export interface ChunkSlice {
  chunk: DuckDBDataChunk
  rows: number
}

type Kind = 'fixed' | 'bool' | 'utf8' | 'date' | 'timestamp' | 'text'

const FIXED: Partial<Record<DuckDBTypeId, ArrowType>> = {
  [DuckDBTypeId.TINYINT]: { id: 'int', bitWidth: 8, signed: true },
  [DuckDBTypeId.SMALLINT]: { id: 'int', bitWidth: 16, signed: true },
  [DuckDBTypeId.INTEGER]: { id: 'int', bitWidth: 32, signed: true },
  [DuckDBTypeId.BIGINT]: { id: 'int', bitWidth: 64, signed: true },
  [DuckDBTypeId.UTINYINT]: { id: 'int', bitWidth: 8, signed: false },
  [DuckDBTypeId.USMALLINT]: { id: 'int', bitWidth: 16, signed: false },
  [DuckDBTypeId.UINTEGER]: { id: 'int', bitWidth: 32, signed: false },
  [DuckDBTypeId.UBIGINT]: { id: 'int', bitWidth: 64, signed: false },
  [DuckDBTypeId.FLOAT]: { id: 'float', precision: 'single' },
  [DuckDBTypeId.DOUBLE]: { id: 'float', precision: 'double' }
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

/** A column's kind by its DuckDB type alone (dates and timestamps may still fall back to text). */
function nominalKind(typeId: DuckDBTypeId): Kind {
  if (FIXED[typeId]) return 'fixed'
  if (typeId === DuckDBTypeId.BOOLEAN) return 'bool'
  if (typeId === DuckDBTypeId.VARCHAR) return 'utf8'
  if (typeId === DuckDBTypeId.DATE) return 'date'
  if (typeId === DuckDBTypeId.TIMESTAMP) return 'timestamp'
  return 'text'
}

/** Whether every valid date or timestamp of column `c` in the slice is one the reader formats itself. */
function inRange(kind: 'date' | 'timestamp', s: ChunkSlice, c: number): boolean {
  const v = s.chunk.getColumnVector(c)
  const items = (v as unknown as { items: Int32Array | BigInt64Array }).items
  const mask = validityOf(v, s.rows)?.bitmap
  if (kind === 'date') {
    for (let r = 0; r < s.rows; r++) if (isValid(mask, r) && !(items[r] >= MIN_DAY && items[r] <= MAX_DAY)) return false
    return true
  }
  // the high 32 bits decide unless they equal a bound's; only then is the BigInt compared
  const halves = new Int32Array(items.buffer, items.byteOffset, s.rows * 2)
  for (let r = 0; r < s.rows; r++) {
    if (!isValid(mask, r)) continue
    const hi = halves[2 * r + 1]
    if (hi > MIN_MICROS_HI && hi < MAX_MICROS_HI) continue
    const x = items[r] as bigint
    if (!(x >= MIN_MICROS && x <= MAX_MICROS)) return false
  }
  return true
}

function typeOf(kind: Kind, typeId: DuckDBTypeId): ArrowType {
  switch (kind) {
    case 'fixed':
      return FIXED[typeId]!
    case 'bool':
      return { id: 'bool' }
    case 'date':
      return { id: 'dateDay' }
    case 'timestamp':
      return { id: 'timestampMicros' }
    default:
      return { id: 'utf8' }
  }
}

const encoder = new TextEncoder()
const NONE = new Uint8Array(0)

function utf8Column(strings: (string | null)[], rows: number): ArrowColumn {
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
  return { nullCount: nulls, buffers: [nulls ? bitmap : NONE, bytesOf(offsets), data] }
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/**
 * A VARCHAR column as Arrow UTF-8, straight from DuckDB's 16-byte string headers: the length is in
 * the header, strings of up to 12 bytes sit inside it and are copied as bytes; only longer ones (held
 * behind a pointer JavaScript cannot follow) go through a JS string, written into their exact slot.
 */
function varcharColumn(v: DuckDBVector, rows: number): ArrowColumn {
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
  return { nullCount: validity?.nulls ?? 0, buffers: [mask ?? NONE, bytesOf(offsets), data] }
}

function column(kind: Kind, s: ChunkSlice, c: number): ArrowColumn {
  const v = s.chunk.getColumnVector(c)
  const rows = s.rows
  if (kind === 'utf8') return varcharColumn(v, rows)
  if (kind === 'text') {
    const strings = s.chunk
      .convertColumnValues(c, JsonDuckDBValueConverter)
      .slice(0, rows)
      .map((x) => (x === null ? null : typeof x === 'string' ? x : JSON.stringify(x)))
    return utf8Column(strings, rows)
  }
  const validity = validityOf(v, rows)
  const nullCount = validity?.nulls ?? 0
  const bitmap = validity?.bitmap ?? NONE
  if (kind === 'bool') {
    const view = (v as unknown as { dataView: DataView }).dataView
    const bits = new Uint8Array(Math.ceil(rows / 8))
    for (let r = 0; r < rows; r++) if (view.getUint8(r)) bits[r >> 3] |= 1 << (r & 7)
    return { nullCount, buffers: [bitmap, bits] }
  }
  // fixed-width numbers, days and microseconds: DuckDB's buffer, copied once into the stream
  const items = (v as unknown as { items: Int32Array }).items
  return { nullCount, buffers: [bitmap, new Uint8Array(items.buffer, items.byteOffset, rows * items.BYTES_PER_ELEMENT)] }
}

/**
 * A page of DuckDB chunks as an Arrow IPC stream (one record batch per chunk), built from DuckDB's
 * column buffers without going through row objects: numbers, days and microseconds are copied as
 * they are, strings as UTF-8, and the types the grid shows as text (decimals, huge integers,
 * intervals, lists, structs…) as DuckDB's own text or JSON. Chunks are encoded as they are added (a
 * query adds each while DuckDB produces the next); the stream is written by `finish`.
 */
export class ArrowPageBuilder {
  private kinds: Kind[] | null = null
  private typeIds: DuckDBTypeId[] = []
  private readonly slices: ChunkSlice[] = []
  private readonly batches: ArrowColumn[][] = []
  /** Columns that turned to text after earlier batches were encoded otherwise. */
  private readonly redo = new Set<number>()

  constructor(private readonly names: string[]) {}

  add(s: ChunkSlice): void {
    if (s.rows <= 0) return
    if (!this.kinds) {
      this.typeIds = this.names.map((_, c) => s.chunk.getColumnVector(c).type.typeId)
      this.kinds = this.typeIds.map(nominalKind)
    }
    const kinds = this.kinds
    for (let c = 0; c < kinds.length; c++) {
      const k = kinds[c]
      // a date or timestamp outside years 1–9999 makes the whole column text, earlier batches too
      if ((k === 'date' || k === 'timestamp') && !inRange(k, s, c)) {
        kinds[c] = 'text'
        if (this.batches.length > 0) this.redo.add(c)
      }
    }
    this.slices.push(s)
    this.batches.push(kinds.map((k, c) => column(k, s, c)))
  }

  finish(): Uint8Array {
    if (!this.kinds) return writeIpcStream(this.names.map((name) => ({ name, type: { id: 'utf8' } })), [])
    const kinds = this.kinds
    for (const c of this.redo) this.slices.forEach((s, b) => (this.batches[b][c] = column(kinds[c], s, c)))
    const fields = kinds.map((k, c) => ({ name: this.names[c], type: typeOf(k, this.typeIds[c]) }))
    return writeIpcStream(
      fields,
      this.slices.map((s, b) => ({ length: s.rows, columns: this.batches[b] }))
    )
  }
}

/** A page of DuckDB chunks as an Arrow IPC stream (see ArrowPageBuilder). */
export function encodeArrowPage(names: string[], slices: ChunkSlice[]): Uint8Array {
  const page = new ArrowPageBuilder(names)
  for (const s of slices) page.add(s)
  return page.finish()
}
