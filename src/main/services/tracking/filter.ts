/**
 * MLflow's search syntax (mlflow/utils/search_utils.py): a conjunction of comparisons such as
 * `metrics.acc > 0.9 and params.model = 'rf' and tags.\`my tag\` LIKE 'a%' and status IN ('FINISHED')`,
 * and order_by clauses such as `metrics.acc DESC`. Parses to plain clauses; search.ts turns them into SQL.
 */
import { invalid } from './errors'

export type EntityType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset'
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL'

export interface Clause {
  type: EntityType
  key: string
  comparator: Comparator
  /** A number, a string, a list of strings (IN), or null (IS [NOT] NULL). */
  value: number | string | string[] | null
}

export interface OrderBy {
  type: EntityType
  key: string
  ascending: boolean
}

const PREFIXES: Record<string, EntityType> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset'
}

type Token =
  | { t: 'ident'; type: EntityType; key: string; raw: string }
  | { t: 'word'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number; raw: string }
  | { t: 'op'; v: string }

function identifier(prefix: string | null, key: string, raw: string): Token {
  if (prefix === null) return { t: 'ident', type: 'attribute', key, raw }
  const type = PREFIXES[prefix.toLowerCase()]
  if (!type) throw invalid(`Invalid entity type '${prefix}'. Valid values are ${JSON.stringify(Object.keys(PREFIXES))}`)
  if (key === '') throw invalid(`Invalid identifier '${raw}': the key is empty`)
  return { t: 'ident', type, key, raw }
}

function readQuoted(s: string, i: number): [string, number] {
  const q = s[i]
  let out = ''
  let j = i + 1
  for (;;) {
    if (j >= s.length) throw invalid(`Invalid filter: unterminated quote starting at position ${i}`)
    if (s[j] === q) {
      if (s[j + 1] === q) {
        out += q
        j += 2
        continue
      }
      return [out, j + 1]
    }
    if (s[j] === '\\' && j + 1 < s.length && (s[j + 1] === q || s[j + 1] === '\\')) {
      out += s[j + 1]
      j += 2
      continue
    }
    out += s[j++]
  }
}

const KEYWORDS = new Set(['AND', 'OR', 'LIKE', 'ILIKE', 'IN', 'NOT', 'IS', 'NULL', 'ASC', 'DESC'])

export function tokenize(s: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i]
    if (/\s/.test(c)) {
      i++
    } else if (c === "'" || c === '"') {
      const [v, j] = readQuoted(s, i)
      out.push({ t: 'str', v })
      i = j
    } else if (c === '`') {
      // `key` alone (an attribute) or `prefix`.`key`
      const [v, j] = readQuoted(s, i)
      if (s[j] === '.' && (s[j + 1] === '`' || s[j + 1] === '"')) {
        const [k, j2] = readQuoted(s, j + 1)
        out.push(identifier(v, k, s.slice(i, j2)))
        i = j2
      } else {
        out.push(identifier(null, v, s.slice(i, j)))
        i = j
      }
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '+' || c === '.') && /[0-9.]/.test(s[i + 1] ?? ''))) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(s.slice(i))
      if (!m) throw invalid(`Invalid filter: bad number at position ${i}`)
      out.push({ t: 'num', v: Number(m[0]), raw: m[0] })
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][\w.\-:/]*/.exec(s.slice(i))!
      let word = m[0]
      i += word.length
      const dot = word.indexOf('.')
      if (dot < 0) {
        const upper = word.toUpperCase()
        out.push(KEYWORDS.has(upper) ? { t: 'word', v: upper } : identifier(null, word, word))
      } else if (dot === word.length - 1 && (s[i] === '`' || s[i] === '"')) {
        const [k, j] = readQuoted(s, i)
        out.push(identifier(word.slice(0, -1), k, word + s.slice(i, j)))
        i = j
      } else {
        word = word.replace(/[-:/]+$/, (tail) => {
          i -= tail.length
          return ''
        })
        out.push(identifier(word.slice(0, dot), word.slice(dot + 1), word))
      }
    } else {
      const two = s.slice(i, i + 2)
      if (two === '>=' || two === '<=' || two === '!=' || two === '<>' || two === '==') {
        out.push({ t: 'op', v: two === '<>' ? '!=' : two === '==' ? '=' : two })
        i += 2
      } else if ('=<>(),'.includes(c)) {
        out.push({ t: 'op', v: c })
        i++
      } else {
        throw invalid(`Invalid filter: unexpected character '${c}' at position ${i}`)
      }
    }
  }
  return out
}

const describe = (t: Token | undefined) =>
  t === undefined ? 'end of input' : t.t === 'ident' ? t.raw : t.t === 'str' ? `'${t.v}'` : t.t === 'num' ? t.raw : t.v

/** Parses a filter string into a conjunction of clauses. Empty or blank → []. */
export function parseFilter(filter: string | undefined | null): Clause[] {
  if (!filter || filter.trim() === '') return []
  const toks = tokenize(filter)
  const clauses: Clause[] = []
  let i = 0
  const peek = () => toks[i]
  const fail = (what: string): never => {
    throw invalid(`Invalid filter '${filter}': ${what}, found ${describe(peek())}`)
  }
  const isWord = (w: string) => {
    const t = peek()
    return t?.t === 'word' && t.v === w
  }
  for (;;) {
    const id = toks[i++]
    if (!id || id.t !== 'ident') {
      i--
      fail('expected an identifier such as metrics.acc, params.x, tags.y or attributes.status')
    }
    const ident = id as Extract<Token, { t: 'ident' }>
    let comparator: Comparator
    let value: Clause['value']
    const t = peek()
    if (t?.t === 'op' && ['=', '!=', '>', '>=', '<', '<='].includes(t.v)) {
      comparator = t.v as Comparator
      i++
      const v = toks[i++]
      if (!v || (v.t !== 'str' && v.t !== 'num')) {
        i--
        fail('expected a value')
      }
      value = (v as { v: string | number }).v
    } else if (isWord('LIKE') || isWord('ILIKE')) {
      comparator = (peek() as { v: string }).v as Comparator
      i++
      const v = toks[i++]
      if (v?.t !== 'str') {
        i--
        fail(`expected a quoted pattern after ${comparator}`)
      }
      value = (v as { v: string }).v
    } else if (isWord('IN') || isWord('NOT')) {
      comparator = isWord('NOT') ? 'NOT IN' : 'IN'
      i++
      if (comparator === 'NOT IN') {
        if (!isWord('IN')) fail('expected IN after NOT')
        i++
      }
      if (peek()?.t !== 'op' || (peek() as { v: string }).v !== '(') fail(`expected ( after ${comparator}`)
      i++
      const list: string[] = []
      for (;;) {
        const v = toks[i++]
        if (v?.t !== 'str') {
          i--
          fail('expected a quoted string in the list')
        }
        list.push((v as { v: string }).v)
        const sep = toks[i++]
        if (sep?.t === 'op' && sep.v === ')') break
        if (sep?.t !== 'op' || sep.v !== ',') {
          i--
          fail("expected ',' or ')'")
        }
      }
      value = list
    } else if (isWord('IS')) {
      i++
      comparator = 'IS NULL'
      if (isWord('NOT')) {
        comparator = 'IS NOT NULL'
        i++
      }
      if (!isWord('NULL')) fail('expected NULL')
      i++
      value = null
    } else {
      fail(`expected a comparator after ${ident.raw}`)
    }
    clauses.push({ type: ident.type, key: ident.key, comparator: comparator!, value: value! })
    if (i >= toks.length) break
    if (isWord('OR')) throw invalid(`Invalid filter '${filter}': OR is not supported; join clauses with AND`)
    if (!isWord('AND')) fail("expected 'AND' between clauses")
    i++
  }
  return clauses
}

/** Parses one order_by entry, e.g. `metrics.acc DESC`, `start_time`, `params.\`a b\` ASC`. */
export function parseOrderBy(entry: string): OrderBy {
  const toks = tokenize(entry)
  const id = toks[0]
  if (!id || id.t !== 'ident') throw invalid(`Invalid order_by clause '${entry}'. Could not be parsed.`)
  let ascending = true
  if (toks.length === 2 && toks[1].t === 'word' && (toks[1].v === 'ASC' || toks[1].v === 'DESC')) ascending = toks[1].v === 'ASC'
  else if (toks.length !== 1) throw invalid(`Invalid order_by clause '${entry}'. Could not be parsed.`)
  return { type: id.type, key: id.key, ascending }
}
