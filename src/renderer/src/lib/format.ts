/** Typed cell formatting. Big integers and decimals arrive as strings: formatted textually, never via Number. */

export type ValueKind = 'number' | 'time' | 'bool' | 'nested' | 'text'

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC|INT1|INT2|INT4|INT8|FLOAT4|FLOAT8)\b/i
const TIME = /^(TIMESTAMP|DATE|TIME|TIMESTAMPTZ|TIMETZ)\b/i
const NESTED = /(\[\]$|^(STRUCT|MAP|LIST|UNION)\b|\[\d+\]$)/i

export function kindOfType(type: string): ValueKind {
  const t = type.trim()
  if (NESTED.test(t)) return 'nested'
  if (NUMERIC.test(t)) return 'number'
  if (TIME.test(t)) return 'time'
  if (/^BOOL/i.test(t)) return 'bool'
  return 'text'
}

/** Groups the integer digits of a plain decimal string with commas; leaves anything else untouched. */
export function groupDigits(s: string): string {
  const m = /^([-+]?)(\d+)(\.\d+)?$/.exec(s)
  if (!m) return s
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${m[1]}${int}${m[3] ?? ''}`
}

export function formatNumber(v: number | string | bigint): string {
  if (typeof v === 'bigint') return groupDigits(v.toString())
  if (typeof v === 'string') return groupDigits(v.trim())
  if (!Number.isFinite(v)) return String(v)
  // String(n) is the shortest exact round-trip representation; group it without rounding.
  return groupDigits(String(v))
}

export function formatTime(v: string, type: string): string {
  const m = /^(\d{4,}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v)
  if (!m) return v
  const frac = m[3] && /[1-9]/.test(m[3]) ? m[3].replace(/0+$/, '') : ''
  const tz = /TZ|TIME ZONE/i.test(type) ? (m[4] === 'Z' ? ' UTC' : m[4] ? ` ${m[4]}` : '') : ''
  return `${m[1]} ${m[2]}${frac}${tz}`
}

export function compactJson(v: unknown, max = 300): string {
  let s: string
  try {
    s = JSON.stringify(v) ?? String(v)
  } catch {
    s = String(v)
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

export interface Formatted {
  text: string
  isNull: boolean
  align: 'left' | 'right'
}

export function formatCell(v: unknown, type: string, kind: ValueKind = kindOfType(type)): Formatted {
  if (v === null || v === undefined) return { text: 'NULL', isNull: true, align: kind === 'number' ? 'right' : 'left' }
  if (kind === 'number' && (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint'))
    return { text: formatNumber(v), isNull: false, align: 'right' }
  if (kind === 'time' && typeof v === 'string') return { text: formatTime(v, type), isNull: false, align: 'left' }
  if (typeof v === 'object') return { text: compactJson(v), isNull: false, align: 'left' }
  if (typeof v === 'boolean') return { text: v ? 'true' : 'false', isNull: false, align: 'left' }
  if (typeof v === 'number') return { text: formatNumber(v), isNull: false, align: 'right' }
  return { text: String(v), isNull: false, align: 'left' }
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** A count with its noun in the right form: "1 run", "2 runs", "1,000 rows"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`
}

/** What a query's duration measures, as the run bar and History say it. */
export const QUERY_DURATION_NOTE = 'Duration: from the start of the query until every row was read and counted, measured by the engine'

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return `${m} min ${s} s`
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

/** Quotes an identifier for SQL when it is not a plain lower-case name. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`
}

const INTEGER_TYPE = /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT1|INT2|INT4|INT8)\b/i

/**
 * A summary statistic (min, max, quantile, mean, std) of a column, formatted to the column's precision:
 * integers as integers (except mean/std, which are real numbers), DECIMAL(p,s) with s decimals (two
 * more for mean/std), floating point with six significant digits; thousands separated. Times and text
 * are shown as they are.
 */
export function formatStat(v: string | number | null | undefined, type: string, stat: 'value' | 'quantile' | 'mean' = 'value'): string {
  if (v === null || v === undefined || v === '') return '—'
  const kind = kindOfType(type)
  // quantiles of times are interpolated: whole seconds are precision enough
  if (kind === 'time' && typeof v === 'string') return stat === 'quantile' ? formatTime(v, type).replace(/(\d{2}:\d{2}:\d{2})\.\d+/, '$1') : formatTime(v, type)
  if (kind !== 'number') return String(v)
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isFinite(n)) return String(v)
  const decimal = /^(DECIMAL|NUMERIC)\s*\(\s*\d+\s*,\s*(\d+)\s*\)/i.exec(type)
  if (stat !== 'mean' && INTEGER_TYPE.test(type)) {
    // exact text for big integers; quantiles of integers may come back interpolated
    return typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? groupDigits(v.trim()) : fixed(Math.round(n), 0)
  }
  if (decimal) {
    // the column's scale, but no more than six significant digits (and never fewer than two decimals)
    const scale = Number(decimal[2])
    const a = Math.abs(n)
    const intDigits = a >= 1 ? Math.floor(Math.log10(a)) + 1 : 0
    const sensible = Math.max(2, 6 - intDigits)
    return fixed(n, Math.min(scale + (stat === 'mean' ? 2 : 0), sensible), stat !== 'mean' && scale <= 4)
  }
  return significant(n, 6)
}

function fixed(n: number, decimals: number, keepZeros = false): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: keepZeros ? decimals : 0, maximumFractionDigits: Math.min(20, decimals) })
}

function significant(n: number, digits: number): string {
  const a = Math.abs(n)
  if (a !== 0 && (a >= 1e15 || a < 1e-4)) return n.toExponential(digits - 1).replace(/\.?0+e/, 'e')
  const intDigits = a >= 1 ? Math.floor(Math.log10(a)) + 1 : 0
  if (intDigits >= digits) return fixed(n, 0)
  if (a >= 1) return fixed(n, digits - intDigits)
  return n.toLocaleString('en-US', { maximumSignificantDigits: digits })
}
