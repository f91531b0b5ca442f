/** Small SQL text helpers shared by the lake service. */

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"'
}

export function quoteLiteral(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'"
}

/** A SQL-safe name derived from a file or folder name: `flights-3m.parquet` → `flights_3m`. */
export function deriveName(location: string): string {
  const base = location.replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? 'source'
  const stem = base.replace(/\.(parquet|csv|tsv|json|ndjson|jsonl|duckdb|db|sqlite|sqlite3|gz|zst)$/gi, '')
  let name = stem.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase()
  if (!name) name = 'source'
  if (/^[0-9]/.test(name)) name = 't_' + name
  return name.slice(0, 63)
}

/**
 * True when the text is exactly one statement with code in it (an optional trailing `;`), so it can be
 * streamed without DuckDB splitting it first. Comment-only text is not: it takes the checked path.
 */
export function isSingleStatement(sqlText: string): boolean {
  const starts = statementStarts(sqlText)
  if (starts.length > 2 || (starts.length === 2 && sqlText.slice(starts[1]).trim() !== '')) return false
  const code = sqlText
    .slice(0, starts.length === 2 ? starts[1] - 1 : undefined)
    .replace(/--[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
  return code.trim() !== ''
}

export interface SqlErrorPosition {
  line: number
  column: number
  offset: number
}

/**
 * Offsets where each statement of a script begins: 0, then just after every top-level `;`
 * (semicolons in strings, quoted names and comments do not count). DuckDB reports error lines
 * relative to the failing statement's text, which starts there.
 */
export function statementStarts(sqlText: string): number[] {
  const starts = [0]
  let i = 0
  const n = sqlText.length
  while (i < n) {
    const c = sqlText[i]
    if (c === "'" || c === '"') {
      const close = sqlText.indexOf(c, i + 1)
      i = close < 0 ? n : close + 1
      // doubled quotes ('it''s') simply re-enter the loop at the next quote
    } else if (c === '-' && sqlText[i + 1] === '-') {
      const nl = sqlText.indexOf('\n', i)
      i = nl < 0 ? n : nl + 1
    } else if (c === '/' && sqlText[i + 1] === '*') {
      const close = sqlText.indexOf('*/', i + 2)
      i = close < 0 ? n : close + 2
    } else if (c === '$' && /^\$[A-Za-z_]*\$/.test(sqlText.slice(i, i + 64))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sqlText.slice(i, i + 64))![0]
      const close = sqlText.indexOf(tag, i + tag.length)
      i = close < 0 ? n : close + tag.length
    } else {
      if (c === ';') starts.push(i + 1)
      i++
    }
  }
  return starts
}

export interface SqlErrorPosition {
  line: number
  column: number
  offset: number
}

/**
 * DuckDB reports where an error is as a `LINE n: <excerpt>` line followed by a caret line. The line
 * number counts within the failing statement's text (which starts at `statementStart`), while the
 * caret column is DuckDB's absolute offset less that line's start. A shortened excerpt (`...`) is
 * found by its text instead. Returns a 1-based line/column in the whole text.
 */
export function locateSqlError(message: string, sqlText: string, statementStart = 0): SqlErrorPosition | undefined {
  const m = /LINE (\d+): (.*)\n( *)\^/.exec(message)
  if (!m) return undefined
  const lineNo = Number(m[1])
  let excerpt = m[2]
  let caret = m[3].length - `LINE ${m[1]}: `.length
  let offset: number
  if (excerpt.startsWith('...') || excerpt.endsWith('...')) {
    if (excerpt.startsWith('...')) {
      excerpt = excerpt.slice(3)
      caret -= 3
    }
    if (excerpt.endsWith('...')) excerpt = excerpt.slice(0, -3)
    const at = sqlText.indexOf(excerpt, statementStart)
    if (at < 0) return undefined
    offset = at + Math.max(0, caret)
  } else {
    const stmt = sqlText.slice(statementStart)
    let lineStart = 0
    for (let l = 1; l < lineNo; l++) {
      const nl = stmt.indexOf('\n', lineStart)
      if (nl < 0) return undefined
      lineStart = nl + 1
    }
    offset = lineStart + caret
  }
  offset = Math.max(0, Math.min(sqlText.length, offset))
  const before = sqlText.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1, offset }
}

/** The first line of DuckDB's message, without the excerpt block: for one-line displays. */
export function shortSqlMessage(message: string): string {
  return message.split('\n\nLINE')[0].trim()
}
