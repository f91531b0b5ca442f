/** Column profiles for the builder's column list, computed with DuckDB in a few queries over the whole table. */
import type { ColumnProfile, ColumnsResult, ColumnWarning, ProblemType } from '../../../shared/builder'
import type { DuckEngine } from '../lake/engine'
import { quoteIdent } from '../lake/sql'

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/i
const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/i
const DATE = /^(DATE|TIME.*|TIMESTAMP.*)$/i

function kindOf(type: string): ColumnProfile['kind'] {
  if (NUMERIC.test(type)) return 'numeric'
  if (/^BOOLEAN$/i.test(type)) return 'boolean'
  if (DATE.test(type)) return 'date'
  if (/^VARCHAR$/i.test(type)) return 'categorical'
  return 'text'
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

/** Profiles every column of `relation` (a quoted catalog name); `target` adds leakage checks and the problem type. */
export async function profileColumns(engine: DuckEngine, relation: string, table: string, target?: string): Promise<ColumnsResult> {
  const started = Date.now()
  const described = await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${relation}`)
  const cols = described.map((d) => ({ name: d.column_name, type: d.column_type, kind: kindOf(d.column_type) }))
  const q = (c: string) => quoteIdent(c)
  const parts = ['count(*) AS n']
  cols.forEach((c, i) => {
    parts.push(`count(${q(c.name)}) AS nn${i}`, `count(DISTINCT ${q(c.name)}) AS d${i}`)
    if (c.kind === 'numeric') parts.push(`min(${q(c.name)})::DOUBLE AS lo${i}`, `max(${q(c.name)})::DOUBLE AS hi${i}`)
    if (c.kind === 'categorical') parts.push(`avg(length(${q(c.name)})) AS len${i}`)
  })
  const [s] = await engine.rows<Record<string, unknown>>(`SELECT ${parts.join(', ')} FROM ${relation}`)
  const n = Number(s.n)
  const tgt = target ? cols.find((c) => c.name === target) : undefined
  // histograms: 12 equal-width bins for numbers, top values for the rest, all in one pass per kind
  const hist = new Map<string, { label: string; count: number }[]>()
  const numericCols = cols.map((c, i) => ({ ...c, i })).filter((c) => c.kind === 'numeric' && num(s[`lo${c.i}`]) !== null)
  if (numericCols.length > 0) {
    const bins = 12
    const sel = numericCols.map((c) => {
      const lo = num(s[`lo${c.i}`])!
      const hi = num(s[`hi${c.i}`])!
      const w = hi > lo ? (hi - lo) / bins : 1
      return `histogram(least(${bins - 1}, floor((${q(c.name)} - ${lo}) / ${w}))::INT) AS l${c.i}`
    })
    const [h] = await engine.rows<Record<string, unknown>>(`SELECT ${sel.join(', ')} FROM ${relation}`)
    for (const c of numericCols) {
      const lo = num(s[`lo${c.i}`])!
      const hi = num(s[`hi${c.i}`])!
      const w = hi > lo ? (hi - lo) / bins : 1
      const m = parseMap(h[`l${c.i}`])
      const out: { label: string; count: number }[] = []
      const nb = hi > lo ? bins : 1
      for (let b = 0; b < nb; b++) out.push({ label: fmt(lo + b * w), count: m.get(String(b)) ?? 0 })
      hist.set(c.name, out)
    }
  }
  const otherCols = cols.filter((c) => c.kind !== 'numeric')
  for (const c of otherCols) {
    const rows = await engine.rows<{ v: unknown; c: unknown }>(
      `SELECT ${q(c.name)}::VARCHAR AS v, count(*) AS c FROM ${relation} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 8`
    )
    hist.set(c.name, rows.map((r) => ({ label: r.v === null ? '(missing)' : String(r.v), count: Number(r.c) })))
  }
  // leakage: a column that (nearly) decides the target
  const leaks = new Set<string>()
  if (tgt) {
    const tIdx = cols.indexOf(tgt)
    const tDistinct = Number(s[`d${tIdx}`])
    const tNumeric = tgt.kind === 'numeric' || tgt.kind === 'boolean'
    const numericTarget = tNumeric ? `${q(tgt.name)}::DOUBLE` : null
    const candidates = cols.map((c, i) => ({ ...c, i })).filter((c) => c.name !== tgt.name)
    const corr = numericTarget ? candidates.filter((c) => c.kind === 'numeric' || c.kind === 'boolean') : []
    if (corr.length > 0) {
      const [r] = await engine.rows<Record<string, unknown>>(
        `SELECT ${corr.map((c) => `abs(corr(${q(c.name)}::DOUBLE, ${numericTarget})) AS c${c.i}`).join(', ')} FROM ${relation}`
      )
      for (const c of corr) if ((num(r[`c${c.i}`]) ?? 0) >= 0.97) leaks.add(c.name)
    }
    if (tDistinct <= 50) {
      const lowCard = candidates.filter((c) => !leaks.has(c.name) && Number(s[`d${c.i}`]) >= 2 && Number(s[`d${c.i}`]) <= Math.max(50, n * 0.02))
      const [maj] = await engine.rows<{ m: unknown }>(`SELECT max(c) AS m FROM (SELECT count(*) AS c FROM ${relation} GROUP BY ${q(tgt.name)})`)
      const majority = Number(maj.m) / Math.max(1, n)
      for (const c of lowCard) {
        const [p] = await engine.rows<{ pure: unknown }>(
          `SELECT sum(m) AS pure FROM (SELECT max(c) AS m FROM (SELECT ${q(c.name)} AS f, ${q(tgt.name)} AS t, count(*) AS c FROM ${relation} GROUP BY 1, 2) GROUP BY f)`
        )
        const purity = Number(p.pure) / Math.max(1, n)
        if (purity >= 0.99 && purity > majority + (1 - majority) * 0.8) leaks.add(c.name)
      }
    }
  }
  const columns: ColumnProfile[] = cols.map((c, i) => {
    const nonNull = Number(s[`nn${i}`])
    const distinct = Math.min(Number(s[`d${i}`]), nonNull)
    const missingPct = n === 0 ? 0 : (100 * (n - nonNull)) / n
    const warnings: { kind: ColumnWarning; message: string }[] = []
    const w = (kind: ColumnWarning, message: string) => warnings.push({ kind, message })
    if (nonNull === 0) w('all_missing', 'Empty in every row: not usable')
    else if (distinct <= 1) w('constant', 'The same value in every row: not usable')
    else if (c.kind === 'categorical' && (num(s[`len${i}`]) ?? 0) > 40 && distinct > 0.5 * nonNull) w('free_text', 'Looks like free text: the builder does not read text')
    else if ((INTEGER.test(c.type) || c.kind === 'categorical') && distinct >= 0.95 * nonNull && nonNull > 20) w('id_like', 'Unique per row, like an ID: it cannot generalise')
    else if (c.kind === 'categorical' && distinct > 100 && distinct > 0.05 * nonNull) w('high_cardinality_text', `${distinct.toLocaleString('en-US')} different values: too many categories to learn from`)
    if (c.kind === 'date') w('date', 'A date or time: used as is it only memorises when; derive features instead')
    if (leaks.has(c.name)) w('leakage', `Almost decides ${target}: probably known only after the fact (leakage)`)
    return { name: c.name, type: c.type, kind: c.kind, missingPct, distinct, histogram: hist.get(c.name) ?? [], warnings }
  })
  let problemType: ProblemType | null = null
  if (tgt) {
    const d = columns[cols.indexOf(tgt)].distinct
    if (d <= 2) problemType = 'binary'
    else if (tgt.kind !== 'numeric' || (INTEGER.test(tgt.type) && d <= 20)) problemType = 'multiclass'
    else problemType = 'regression'
  }
  return { table, rows: n, columns, problemType, elapsedMs: Date.now() - started }
}

function parseMap(v: unknown): Map<string, number> {
  const m = new Map<string, number>()
  if (v && typeof v === 'object') {
    if (Array.isArray(v)) {
      for (const e of v as { key: unknown; value: unknown }[]) m.set(String(e.key), Number(e.value))
    } else if ('key' in (v as object) && Array.isArray((v as { key: unknown[] }).key)) {
      const o = v as { key: unknown[]; value: unknown[] }
      o.key.forEach((k, i) => m.set(String(k), Number(o.value[i])))
    } else {
      for (const [k, val] of Object.entries(v as Record<string, unknown>)) m.set(k, Number(val))
    }
  }
  return m
}

function fmt(x: number): string {
  return Math.abs(x) >= 1000 ? x.toFixed(0) : Number(x.toPrecision(3)).toString()
}
