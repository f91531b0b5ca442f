/**
 * JSON that round-trips byte for byte. `parseWithGuide` reads a document and records, beside the
 * plain value, a "guide": each object's key order, each array's items, and the exact text of every
 * number or string whose canonical form differs (`1.0`, `1e-05`, `"\u00e9"`). `stringifyLike`
 * writes a value the way Python's `json.dumps(indent=1, sort_keys=True, ensure_ascii=False)` does
 * (what Jupyter writes), following the guide wherever the value still equals what was read, so an
 * unedited document comes back unchanged and an edited one changes only where it was edited.
 */

export type Guide =
  | { k: 'o'; keys: string[]; sorted: boolean; ch: Map<string, Guide>; id?: string }
  | { k: 'a'; items: Guide[] }
  | { k: 's'; lex?: string; v: string }
  | { k: 'n'; lex?: string; v?: number }
  | { k: 'l' }

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number
  ) {
    super(`${message} at line ${line}, column ${column}`)
  }
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

export function parseWithGuide(text: string): { value: unknown; guide: Guide } {
  let i = 0
  const fail = (msg: string, at = i): never => {
    const before = text.slice(0, at)
    const line = before.split('\n').length
    throw new JsonSyntaxError(msg, line, at - before.lastIndexOf('\n'))
  }
  const skip = () => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++
  }
  const str = (): { v: string; lex: string } => {
    const start = i
    i++
    let escaped = false
    for (;;) {
      const q = text.indexOf('"', i)
      if (q < 0) fail('Unterminated string', start)
      const bs = text.indexOf('\\', i)
      if (bs >= 0 && bs < q) {
        escaped = true
        i = bs + 2
        continue
      }
      i = q + 1
      break
    }
    const lex = text.slice(start, i)
    if (!escaped) {
      const v = lex.slice(1, -1)
      for (let c = 0; c < v.length; c++) if (v.charCodeAt(c) < 0x20) fail('Control character in string', start + 1 + c)
      return { v, lex }
    }
    try {
      return { v: JSON.parse(lex) as string, lex }
    } catch {
      return fail('Invalid string escape', start)
    }
  }
  const value = (): { v: unknown; g: Guide } => {
    skip()
    const c = text[i]
    if (c === '{') {
      i++
      const obj: Record<string, unknown> = {}
      const keys: string[] = []
      const ch = new Map<string, Guide>()
      skip()
      if (text[i] === '}') {
        i++
        return { v: obj, g: { k: 'o', keys, sorted: true, ch } }
      }
      for (;;) {
        skip()
        if (text[i] !== '"') fail('Expected a property name')
        const key = str().v
        skip()
        if (text[i] !== ':') fail("Expected ':'")
        i++
        const item = value()
        if (!Object.prototype.hasOwnProperty.call(obj, key)) keys.push(key)
        Object.defineProperty(obj, key, { value: item.v, enumerable: true, writable: true, configurable: true })
        ch.set(key, item.g)
        skip()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          break
        }
        fail("Expected ',' or '}'")
      }
      let sorted = true
      for (let k = 1; k < keys.length; k++) if (pyCompare(keys[k - 1], keys[k]) > 0) sorted = false
      const g: Guide = { k: 'o', keys, sorted, ch }
      if (typeof obj.id === 'string') g.id = obj.id
      return { v: obj, g }
    }
    if (c === '[') {
      i++
      const arr: unknown[] = []
      const items: Guide[] = []
      skip()
      if (text[i] === ']') {
        i++
        return { v: arr, g: { k: 'a', items } }
      }
      for (;;) {
        const item = value()
        arr.push(item.v)
        items.push(item.g)
        skip()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          break
        }
        fail("Expected ',' or ']'")
      }
      return { v: arr, g: { k: 'a', items } }
    }
    if (c === '"') {
      const s = str()
      return { v: s.v, g: JSON.stringify(s.v) === s.lex ? { k: 's', v: s.v } : { k: 's', lex: s.lex, v: s.v } }
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity]
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length
        return typeof v === 'number' ? { v, g: { k: 'n', lex: word, v } } : { v, g: { k: 'l' } }
      }
    }
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    if (!m) return fail(i >= text.length ? 'Unexpected end of input' : `Unexpected character '${text[i]}'`)
    i += m[0].length
    const n = Number(m[0])
    return { v: n, g: formatNumber(n) === m[0] ? { k: 'n' } : { k: 'n', lex: m[0], v: n } }
  }
  const out = value()
  skip()
  if (i < text.length) fail('Unexpected text after the document')
  return { value: out.v, guide: out.g }
}

/** Python's string ordering (by code point), as `sort_keys=True` uses. */
function pyCompare(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!
    if (d !== 0) return d
  }
  return x.length - y.length
}

/** Python's `repr(float)` / `str(int)` for a JS number (ints below 2^53 print as ints). */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return Object.is(n, -0) ? '-0.0' : String(n)
  const [mant, expText] = n.toExponential().split('e')
  const exp = Number(expText)
  const neg = mant.startsWith('-')
  const digits = mant.replace('-', '').replace('.', '')
  let body: string
  if (exp >= -4 && exp < 16) {
    if (exp < 0) body = '0.' + '0'.repeat(-exp - 1) + digits
    else if (digits.length > exp + 1) body = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1)
    else body = digits + '0'.repeat(exp + 1 - digits.length) + '.0'
  } else {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  }
  return (neg ? '-' : '') + body
}

export interface StringifyOptions {
  indent: number
  /** Where Jupyter stores text as a list of lines: decides whether a string at `path` is split. */
  splitLines?: (path: readonly (string | number)[]) => boolean
}

/** Python's `str.splitlines(True)`. */
export function splitLines(s: string): string[] {
  const out: string[] = []
  const re = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g
  let last = 0
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push(s.slice(last, m.index + m[0].length))
    last = m.index + m[0].length
  }
  if (last < s.length) out.push(s.slice(last))
  return out
}

export function stringifyLike(value: unknown, guide: Guide | undefined, opts: StringifyOptions): string {
  const parts: string[] = []
  const path: (string | number)[] = []
  const pad = (level: number) => '\n' + ' '.repeat(opts.indent * level)
  const write = (v: unknown, g: Guide | undefined, level: number): void => {
    // JSON transports turn NaN and ±Infinity into null: a null where the file had one keeps it.
    if (v === null) return void parts.push(g?.k === 'n' && g.lex !== undefined && NON_FINITE.has(g.lex) ? g.lex : 'null')
    if (opts.splitLines && (typeof v === 'string' || isStringArray(v)) && opts.splitLines(path)) {
      // Multi-line text: unchanged text keeps the file's spelling (one string or its own split),
      // new or changed text is written as Jupyter's split_lines writes it, whatever form it came in.
      const text = typeof v === 'string' ? v : v.join('')
      if (g !== undefined && joinedText(g) === text) return writeSpelled(g, level)
      return writeSpelled({ k: 'a', items: splitLines(text).map((line) => ({ k: 's', v: line })) }, level)
    }
    switch (typeof v) {
      case 'boolean':
        return void parts.push(v ? 'true' : 'false')
      case 'number':
        return void parts.push(g?.k === 'n' && g.lex !== undefined && Object.is(g.v, v) ? g.lex : formatNumber(v))
      case 'string':
        return void parts.push(g?.k === 's' && g.lex !== undefined && g.v === v ? g.lex : JSON.stringify(v))
      case 'object': {
        if (Array.isArray(v)) {
          if (v.length === 0) return void parts.push('[]')
          const items = g?.k === 'a' ? matchItems(v, g.items) : []
          parts.push('[')
          v.forEach((item, i) => {
            parts.push(i === 0 ? pad(level + 1) : ',' + pad(level + 1))
            path.push(i)
            write(item === undefined ? null : item, items[i], level + 1)
            path.pop()
          })
          parts.push(pad(level) + ']')
          return
        }
        const obj = v as Record<string, unknown>
        const present = Object.keys(obj).filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function')
        if (present.length === 0) return void parts.push('{}')
        let keys: string[]
        if (g?.k === 'o' && !g.sorted) {
          const set = new Set(present)
          keys = g.keys.filter((k) => set.has(k))
          const known = new Set(keys)
          keys.push(...present.filter((k) => !known.has(k)).sort(pyCompare))
        } else keys = present.sort(pyCompare)
        const ch = g?.k === 'o' ? g.ch : undefined
        parts.push('{')
        keys.forEach((k, i) => {
          parts.push((i === 0 ? '' : ',') + pad(level + 1) + JSON.stringify(k) + ': ')
          path.push(k)
          write(obj[k], ch?.get(k), level + 1)
          path.pop()
        })
        parts.push(pad(level) + '}')
        return
      }
      default:
        return void parts.push('null')
    }
  }
  /** Writes a string or list of strings exactly as the guide recorded it. */
  const writeSpelled = (g: Guide, level: number): void => {
    if (g.k === 's') return void parts.push(g.lex ?? JSON.stringify(g.v))
    if (g.k !== 'a') return
    if (g.items.length === 0) return void parts.push('[]')
    parts.push('[')
    g.items.forEach((item, i) => {
      parts.push((i === 0 ? '' : ',') + pad(level + 1))
      writeSpelled(item, level + 1)
    })
    parts.push(pad(level) + ']')
  }
  write(value, guide, 0)
  return parts.join('')
}

const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity'])

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string')
}

/** The text a guide recorded for a string or a list of strings (Jupyter's multi-line form). */
function joinedText(g: Guide): string | undefined {
  if (g.k === 's') return g.v
  if (g.k !== 'a') return undefined
  let text = ''
  for (const item of g.items) {
    if (item.k !== 's') return undefined
    text += item.v
  }
  return text
}

/** Pairs array items with the guide's: by `id` where the items have ids (cells), else by position. */
function matchItems(items: unknown[], guides: Guide[]): (Guide | undefined)[] {
  const byId = new Map<string, Guide>()
  for (const g of guides) if (g.k === 'o' && g.id !== undefined) byId.set(g.id, g)
  return items.map((item, i) => {
    const id = item && typeof item === 'object' && !Array.isArray(item) ? (item as { id?: unknown }).id : undefined
    if (typeof id === 'string' && byId.size > 0) return byId.get(id)
    const g = guides[i]
    if (g?.k === 'o' && g.id !== undefined && g.id !== id) return undefined
    return g
  })
}
