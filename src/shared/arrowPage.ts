import { DataType, tableFromIPC, type Data } from 'apache-arrow'

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

function isValid(d: Data, i: number): boolean {
  const bm = d.nullBitmap
  if (!bm || d.nullCount === 0 || bm.length === 0) return true
  const bit = d.offset + i
  return (bm[bit >> 3] & (1 << (bit & 7))) !== 0
}

type CellReader = (d: Data, i: number) => unknown

/** Per record batch: its UTF-8 buffer as one string when it is all ASCII (byte offsets are then string offsets), else null. */
const asciiText = new WeakMap<Data, string | null>()
/** Per record batch: its 64-bit integers as 32-bit halves, read without BigInt while they fit a double exactly. */
const halves = new WeakMap<Data, Int32Array>()

function halvesOf(d: Data): Int32Array {
  let h = halves.get(d)
  if (!h) {
    const v = d.values as BigInt64Array
    halves.set(d, (h = new Int32Array(v.buffer, v.byteOffset, v.length * 2)))
  }
  return h
}

function int64Text(d: Data, i: number, signed: boolean): string {
  const h = halvesOf(d)
  const j = 2 * (d.offset + i)
  const hi = h[j + 1]
  const lo = h[j] >>> 0
  if (signed ? hi >= -0x200000 && hi < 0x200000 : hi >= 0 && hi < 0x200000) return String(hi * 4294967296 + lo)
  return String((d.values as BigInt64Array)[d.offset + i])
}

function cellReader(type: DataType): CellReader {
  if (DataType.isUtf8(type))
    return (d, i) => {
      const o = d.valueOffsets as Int32Array
      const bytes = d.values as Uint8Array
      let whole = asciiText.get(d)
      if (whole === undefined) {
        const text = decoder.decode(bytes)
        asciiText.set(d, (whole = text.length === bytes.length ? text : null))
      }
      const a = o[d.offset + i]
      const b = o[d.offset + i + 1]
      return whole !== null ? whole.slice(a, b) : decoder.decode(bytes.subarray(a, b))
    }
  if (DataType.isBool(type))
    return (d, i) => {
      const bit = d.offset + i
      return ((d.values as Uint8Array)[bit >> 3] & (1 << (bit & 7))) !== 0
    }
  if (DataType.isDate(type)) return (d, i) => formatDay((d.values as Int32Array)[d.offset + i])
  if (DataType.isTimestamp(type))
    return (d, i) => {
      const h = halvesOf(d)
      const j = 2 * (d.offset + i)
      const hi = h[j + 1]
      // below 2^53 in magnitude the value is read as a double, without BigInt
      if (hi >= -0x200000 && hi < 0x200000) return formatSafeMicros(hi * 4294967296 + (h[j] >>> 0))
      return formatMicros((d.values as BigInt64Array)[d.offset + i])
    }
  // 64-bit integers travel as strings on the JSON path; the grid formats both the same way
  if (DataType.isInt(type) && type.bitWidth === 64) {
    const signed = type.isSigned
    return (d, i) => int64Text(d, i, signed)
  }
  // as on the JSON path, NaN and ±Infinity (which JSON cannot hold) read as text
  if (DataType.isFloat(type))
    return (d, i) => {
      const x = (d.values as Float64Array)[d.offset + i]
      return Number.isFinite(x) ? x : String(x)
    }
  return (d, i) => (d.values as Int32Array)[d.offset + i]
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
    const read = cellReader(field.type)
    return {
      get(row: number) {
        if (row < 0 || row >= n) return undefined
        let k = chunks.length - 1
        while (starts[k] > row) k--
        const d = chunks[k]
        const i = row - starts[k]
        return isValid(d, i) ? read(d, i) : null
      }
    }
  })
  return { rowCount: n, columns }
}
