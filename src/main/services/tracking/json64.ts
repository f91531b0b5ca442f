/**
 * JSON with exact 64-bit integers, for the MLflow REST API: MLflow's steps (and timestamps) are
 * int64, and a JSON number beyond 2^53 loses digits in `JSON.parse`. Request bodies keep such
 * integer literals as their digits (as protobuf's JSON form spells int64: a string), and responses
 * write BigInt values as plain JSON numbers with every digit.
 */

/** Beyond this many digits an integer literal may not fit a double exactly. */
const LONG_DIGITS = /\d{16}/

/** `parse` (JSON.parse), except that integer literals outside ±(2^53−1) come back as strings of their digits. */
export function parseJsonInt64(text: string, parse: (text: string) => unknown = JSON.parse): unknown {
  return parse(LONG_DIGITS.test(text) ? quoteLongIntegers(text) : text)
}

/** Puts quotes around integer literals too large for a double; strings and other numbers are left alone. */
function quoteLongIntegers(text: string): string {
  let out = ''
  let last = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      i++
      while (i < n && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1
      i++
      continue
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i
      i++
      while (i < n && /[0-9.eE+-]/.test(text[i])) i++
      const lit = text.slice(start, i)
      if (/^-?\d+$/.test(lit) && !Number.isSafeInteger(Number(lit))) {
        out += text.slice(last, start) + '"' + lit + '"'
        last = i
      }
      continue
    }
    i++
  }
  return out + text.slice(last)
}

const MARK = `\u0000int64:${Math.random().toString(36).slice(2)}:`

/** `JSON.stringify`, with BigInt values written as JSON numbers (all digits). */
export function stringifyJsonInt64(value: unknown): string {
  let big = false
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v !== 'bigint') return v
    big = true
    return MARK + v.toString()
  })
  if (!big) return text
  // Each marked value is written as `"<escaped MARK><digits>"`: drop the quotes and the mark.
  const opening = JSON.stringify(MARK).slice(0, -1)
  return text
    .split(opening)
    .map((part, i) => (i === 0 ? part : part.replace(/^(-?\d+)"/, '$1')))
    .join('')
}

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n

/** A number when it is exactly one, else the BigInt (values from SQLite read with safeIntegers). */
export function exactInt(v: number | bigint): number | bigint {
  if (typeof v === 'number') return v
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}
