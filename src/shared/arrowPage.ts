import { DataType, tableFromIPC, type Data, type Int } from 'apache-arrow'

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
 * A reader bound to one record batch's buffers: typed-array views and offsets are taken once per
 * batch, not per cell. Strings of an all-ASCII batch are sliced from one decoded string (byte offsets
 * are then string offsets); 64-bit integers are read as 32-bit halves, without BigInt, while they
 * fit a double exactly.
 */
function batchReader(type: DataType, d: Data): BatchReader {
  const o = d.offset
  if (DataType.isUtf8(type)) {
    const offsets = d.valueOffsets as Int32Array
    const bytes = d.values as Uint8Array
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
  if (DataType.isBool(type)) {
    const bits = d.values as Uint8Array
    return (i) => (bits[(o + i) >> 3] & (1 << ((o + i) & 7))) !== 0
  }
  if (DataType.isDate(type)) {
    const days = d.values as Int32Array
    return (i) => formatDay(days[o + i])
  }
  if (DataType.isTimestamp(type) || (DataType.isInt(type) && type.bitWidth === 64)) {
    const v = d.values as BigInt64Array
    const h = new Int32Array(v.buffer, v.byteOffset, v.length * 2)
    if (DataType.isTimestamp(type))
      return (i) => {
        const hi = h[2 * (o + i) + 1]
        // below 2^53 in magnitude the value is read as a double, without BigInt
        if (hi >= -0x200000 && hi < 0x200000) return formatSafeMicros(hi * TWO_32 + (h[2 * (o + i)] >>> 0))
        return formatMicros(v[o + i])
      }
    // 64-bit integers travel as strings on the JSON path; the grid formats both the same way
    const signed = (type as Int).isSigned
    return (i) => {
      const hi = h[2 * (o + i) + 1]
      if (signed ? hi >= -0x200000 && hi < 0x200000 : hi >= 0 && hi < 0x200000) return String(hi * TWO_32 + (h[2 * (o + i)] >>> 0))
      return String(v[o + i])
    }
  }
  // as on the JSON path, NaN and ±Infinity (which JSON cannot hold) read as text
  if (DataType.isFloat(type)) {
    const f = d.values as Float64Array
    return (i) => {
      const x = f[o + i]
      return Number.isFinite(x) ? x : String(x)
    }
  }
  const ints = d.values as Int32Array
  return (i) => ints[o + i]
}

/** The validity bitmap of a batch's column, or null when it holds no NULL. */
function nullMask(d: Data): Uint8Array | null {
  const bm = d.nullBitmap
  return bm && d.nullCount !== 0 && bm.length !== 0 ? bm : null
}

/**
 * Reads a page sent as an Arrow IPC stream. Nothing is copied or converted up front: each column
 * keeps the received buffers (one per record batch) and a cell is decoded when the grid reads it.
 */
export function decodeArrowPage(bytes: Uint8Array): DecodedPage {
  const table = tableFromIPC(bytes)
  const starts: number[] = []
  let n = 0
  for (const b of table.batches) {
    starts.push(n)
    n += b.numRows
  }
  const columns = table.schema.fields.map((field, c): ColumnReader => {
    const chunks = table.batches.map((b) => b.data.children[c] as Data)
    const readers = chunks.map((d) => batchReader(field.type, d))
    const masks = chunks.map(nullMask)
    const offsets = chunks.map((d) => d.offset)
    const last = chunks.length - 1
    return {
      get(row: number) {
        if (row < 0 || row >= n) return undefined
        let k = last
        while (starts[k] > row) k--
        const i = row - starts[k]
        const bm = masks[k]
        if (bm !== null) {
          const bit = offsets[k] + i
          if ((bm[bit >> 3] & (1 << (bit & 7))) === 0) return null
        }
        return readers[k](i)
      }
    }
  })
  return { rowCount: n, columns }
}
