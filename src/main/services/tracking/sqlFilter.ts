/** Turns parsed filter clauses into SQLite conditions with bound parameters. */
import { invalid } from './errors'
import type { Clause, Comparator } from './filter'

export type Bind = string | number | null

/** MLflow's LIKE is case-sensitive: translate it to GLOB (SQLite's LIKE ignores ASCII case). */
export function likeToGlob(pattern: string): string {
  let out = ''
  for (const ch of pattern) {
    if (ch === '%') out += '*'
    else if (ch === '_') out += '?'
    else if (ch === '*' || ch === '?' || ch === '[') out += `[${ch}]`
    else out += ch
  }
  return out
}

/** `<column> <comparator> <value>` for a string-valued column. */
export function stringCondition(column: string, c: Clause, what: string): { sql: string; binds: Bind[] } {
  switch (c.comparator) {
    case '=':
    case '!=':
      if (typeof c.value !== 'string') throw invalid(`Expected a quoted string value for ${what} '${c.key}', found ${String(c.value)}`)
      return { sql: `${column} ${c.comparator} ?`, binds: [c.value] }
    case 'LIKE':
      return { sql: `${column} GLOB ?`, binds: [likeToGlob(c.value as string)] }
    case 'ILIKE':
      return { sql: `lower(${column}) LIKE lower(?)`, binds: [c.value as string] }
    case 'IN':
    case 'NOT IN': {
      const list = c.value as string[]
      return { sql: `${column} ${c.comparator} (${list.map(() => '?').join(', ')})`, binds: list }
    }
    default:
      throw invalid(`Invalid comparator '${c.comparator}' for ${what} '${c.key}'. Only '=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN' are allowed.`)
  }
}

const NUMERIC: readonly Comparator[] = ['=', '!=', '>', '>=', '<', '<=']

export function numericCondition(column: string, c: Clause, what: string): { sql: string; binds: Bind[] } {
  if (!NUMERIC.includes(c.comparator)) {
    throw invalid(`Invalid comparator '${c.comparator}' for ${what} '${c.key}'. Only '>', '>=', '=', '!=', '<=', '<' are allowed.`)
  }
  let v = c.value
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) v = Number(v)
  if (typeof v !== 'number') throw invalid(`Expected numeric value type for ${what} '${c.key}', found '${String(c.value)}'`)
  return { sql: `${column} ${c.comparator} ?`, binds: [v] }
}
