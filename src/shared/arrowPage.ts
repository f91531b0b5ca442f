import { DataType, tableFromIPC, type Data, type Int } from 'apache-arrow'
import { readIpcStream, type IpcType } from './arrowIpcRead'

/** One column of a decoded page: values read on demand from the Arrow buffers, as the JSON path gives them. */
export interface ColumnReader {
  get(row: number): unknown
}

export interface DecodedPage {
  rowCount: number
  columns: ColumnReader[]
}

const decoder = new TextDecoder()

const pad2 = (n: number) => (n < 10 ? '0' : '') + n

/** `YYYY-MM-DD` of a day number since 1970-01-01 (years 1–9999, the range the server sends as days), by integer arithmetic. */
export function formatDay(days: number): string {
  // days → civil date (proleptic Gregorian), after H. Hinnant's days_from_civil inverse
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0)
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`
}

/** DuckDB's text for a TIMESTAMP whose microseconds fit a double exactly (|µs| < 2^53, years 1685–2255). */
function formatSafeMicros(micros: number): string {
  let secs = Math.floor(micros / 1e6)
  let frac = micros - secs * 1e6
  // the division rounds; the remainder, exact in integers below 2^53, puts the second right
  if (frac < 0) {
    secs -= 1
    frac += 1e6
  } else if (frac >= 1e6) {
    secs += 1
    frac -= 1e6
  }
  const days = Math.floor(secs / 86_400)
  const sod = secs - days * 86_400
  const h = Math.floor(sod / 3600)
  const mi = Math.floor((sod - h * 3600) / 60)
  const f = frac === 0 ? '' : `.${String(frac).padStart(6, '0').replace(/0+$/, '')}`
  return `${formatDay(days)} ${pad2(h)}:${pad2(mi)}:${pad2(sod - h * 3600 - mi * 60)}${f}`
}

/** DuckDB's text for a TIMESTAMP in microseconds: `YYYY-MM-DD HH:MM:SS[.ffffff without trailing zeros]`. */
export function formatMicros(micros: bigint): string {
  if (micros > -9_007_199_254_740_992n && micros < 9_007_199_254_740_992n) return formatSafeMicros(Number(micros))
  let secs = micros / 1_000_000n
  let frac = micros % 1_000_000n
  if (frac < 0n) {
    frac += 1_000_000n
    secs -= 1n
  }
  const iso = new Date(Number(secs) * 1000).toISOString()
  const f = frac === 0n ? '' : `.${frac.toString().padStart(6, '0').replace(/0+$/, '')}`
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${f}`
}

/** Reads the cell at index `i` of one record batch's column (a valid one; NULLs are checked before). */
type BatchReader = (i: number) => unknown

const TWO_32 = 4294967296

/**
 * A reader bound to one record batch's buffers: typed-array views are taken once per batch, not per
 * cell. Strings of an all-ASCII batch are sliced from one decoded string (byte offsets are then string
 * offsets); 64-bit integers are read as 32-bit halves, without BigInt, while they fit a double exactly.
 * `o` is the batch's first row in its buffers.
 */
function batchReader(type: IpcType, values: ArrayBufferView, valueOffsets: Int32Array | null, o: number): BatchReader {
  if (type.id === 'utf8') {
    const offsets = valueOffsets as Int32Array
    const bytes = values as Uint8Array
    let whole: string | null | undefined
    return (i) => {
      if (whole === undefined) {
        const text = decoder.decode(bytes)
        whole = text.length === bytes.length ? text : null
      }
      const a = offsets[o + i]
      const b = offsets[o + i + 1]
      return whole !== null ? whole.slice(a, b) : decoder.decode(bytes.subarray(a, b))
    }
  }
  if (type.id === 'bool') {
    const bits = values as Uint8Array
    return (i) => (bits[(o + i) >> 3] & (1 << ((o + i) & 7))) !== 0
  }
  if (type.id === 'dateDay') {
    const days = values as Int32Array
    return (i) => formatDay(days[o + i])
  }
  if (type.id === 'timestampMicros' || (type.id === 'int' && type.bitWidth === 64)) {
    const v = values as BigInt64Array
    const h = new Int32Array(v.buffer, v.byteOffset, v.length * 2)
    if (type.id === 'timestampMicros')
      return (i) => {
        const hi = h[2 * (o + i) + 1]
        // below 2^53 in magnitude the value is read as a double, without BigInt
        if (hi >= -0x200000 && hi < 0x200000) return formatSafeMicros(hi * TWO_32 + (h[2 * (o + i)] >>> 0))
        return formatMicros(v[o + i])
      }
    // 64-bit integers travel as strings on the JSON path; the grid formats both the same way
    const signed = type.signed
    return (i) => {
      const hi = h[2 * (o + i) + 1]
      if (signed ? hi >= -0x200000 && hi < 0x200000 : hi >= 0 && hi < 0x200000) return String(hi * TWO_32 + (h[2 * (o + i)] >>> 0))
      return signed ? String(v[o + i]) : String(BigInt.asUintN(64, v[o + i]))
    }
  }
  // as on the JSON path, NaN and ±Infinity (which JSON cannot hold) read as text
  if (type.id === 'float') {
    const f = values as Float64Array | Float32Array
    return (i) => {
      const x = f[o + i]
      return Number.isFinite(x) ? x : String(x)
    }
  }
  const ints = values as Int32Array
  return (i) => ints[o + i]
}

/** The fast reader's name for a type apache-arrow decoded (for streams read the general way). */
function typeOf(t: DataType): IpcType {
  if (DataType.isUtf8(t)) return { id: 'utf8' }
  if (DataType.isBool(t)) return { id: 'bool' }
  if (DataType.isDate(t)) return { id: 'dateDay' }
  if (DataType.isTimestamp(t)) return { id: 'timestampMicros' }
  if (DataType.isFloat(t)) return { id: 'float', bitWidth: 64 }
  if (DataType.isInt(t)) return { id: 'int', bitWidth: (t as Int).bitWidth, signed: (t as Int).isSigned }
  return { id: 'int', bitWidth: 32, signed: true }
}

/** One record batch's column, wherever it was read from. */
interface BatchColumn {
  offset: number
  validity: Uint8Array | null
  read: BatchReader
}

/** The batches of a stream the fast reader does not know, read by apache-arrow. */
function readWithArrow(bytes: Uint8Array): { lengths: number[]; columns: BatchColumn[][] } {
  const table = tableFromIPC(bytes)
  const types = table.schema.fields.map((f) => typeOf(f.type))
  return {
    lengths: table.batches.map((b) => b.numRows),
    columns: types.map((type, c) =>
      table.batches.map((b) => {
        const d = b.data.children[c] as Data
        const bm = d.nullBitmap
        return { offset: d.offset, validity: bm && d.nullCount !== 0 && bm.length !== 0 ? bm : null, read: batchReader(type, d.values, d.valueOffsets ?? null, d.offset) }
      })
    )
  }
}

/**
 * Reads a page sent as an Arrow IPC stream. Nothing is copied or converted up front: each column
 * keeps views of the received buffers (one per record batch) and a cell is decoded when the grid
 * reads it. Streams of the types the server sends are read in place; others go through apache-arrow.
 */
export function decodeArrowPage(bytes: Uint8Array): DecodedPage {
  const fast = readIpcStream(bytes)
  const { lengths, columns: byColumn } = fast
    ? {
        lengths: fast.batches.map((b) => b.length),
        columns: fast.fields.map((f, c) =>
          fast.batches.map((b) => {
            const col = b.columns[c]
            return { offset: 0, validity: col.validity, read: batchReader(f.type, col.values, col.offsets, 0) }
          })
        )
      }
    : readWithArrow(bytes)
  const starts: number[] = []
  let n = 0
  for (const len of lengths) {
    starts.push(n)
    n += len
  }
  const columns = byColumn.map((chunks): ColumnReader => {
    const last = chunks.length - 1
    return {
      get(row: number) {
        if (row < 0 || row >= n) return undefined
        let k = last
        while (starts[k] > row) k--
        const i = row - starts[k]
        const { validity, offset, read } = chunks[k]
        if (validity !== null) {
          const bit = offset + i
          if ((validity[bit >> 3] & (1 << (bit & 7))) === 0) return null
        }
        return read(i)
      }
    }
  })
  return { rowCount: n, columns }
}
