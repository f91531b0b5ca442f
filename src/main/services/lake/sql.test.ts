import { describe, expect, it } from 'vitest'
import { deriveName, isSingleStatement, locateSqlError, quoteIdent, quoteLiteral, statementStarts } from './sql'

describe('sql helpers', () => {
  it('derives SQL names from paths', () => {
    expect(deriveName('/data/flights-3m.parquet')).toBe('flights_3m')
    expect(deriveName('/data/2024 sales/')).toBe('t_2024_sales')
    expect(deriveName('C:\\x\\Orders.CSV')).toBe('orders')
  })

  it('quotes identifiers and literals', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"')
    expect(quoteLiteral("it's")).toBe("'it''s'")
  })

  it('locates the caret of a DuckDB error in a single statement', () => {
    const sql = 'select 1,\n  nope from range(3)'
    const msg = 'Binder Error: Referenced column "nope" not found\n\nLINE 2:   nope from range(3)\n          ^'
    expect(locateSqlError(msg, sql)).toEqual({ line: 2, column: 3, offset: 12 })
  })

  it('locates errors in later statements of a script (as DuckDB reports them)', () => {
    // Messages as DuckDB 1.5 prints them for the last statement of each script.
    const a = 'select 1;\nselect nope from range(3)'
    expect(locateSqlError('X\n\nLINE 2: select nope from range(3)\n                        ^', a, statementStarts(a)[1])).toMatchObject({ line: 2, column: 8 })
    const b = 'select 1; select nope from range(3)'
    expect(locateSqlError('X\n\nLINE 1:  select nope from range(3)\n                         ^', b, statementStarts(b)[1])).toMatchObject({ line: 1, column: 18 })
    const c = 'select 1;\nselect 2,\n  nope from range(3)'
    expect(locateSqlError('X\n\nLINE 3:   nope from range(3)\n                   ^', c, statementStarts(c)[1])).toMatchObject({ line: 3, column: 3 })
  })

  it('splits statements outside strings and comments', () => {
    expect(statementStarts("select ';'; -- a;b\nselect 2; /* ; */ select \"x;\"")).toEqual([0, 11, 28])
  })

  it('handles shortened excerpts', () => {
    const sql = 'select ' + 'a, '.repeat(40) + 'zzz from t'
    const idx = sql.indexOf('zzz')
    const excerpt = sql.slice(idx - 20)
    const msg = `Binder Error: x\n\nLINE 1: ...${excerpt}\n${' '.repeat(8 + 3 + 20)}^`
    expect(locateSqlError(msg, sql)?.offset).toBe(idx)
  })

  it('returns undefined when there is no position', () => {
    expect(locateSqlError('Catalog Error: Table x does not exist', 'select * from x')).toBeUndefined()
  })
})

describe('isSingleStatement', () => {
  it('takes the direct path only for one statement with code in it', () => {
    expect(isSingleStatement('select 1')).toBe(true)
    expect(isSingleStatement('select 1;  \n')).toBe(true)
    expect(isSingleStatement("select 'a;b', \"c;d\" -- x;y\n/* ; */")).toBe(true)
    expect(isSingleStatement('select 1; select 2')).toBe(false)
    expect(isSingleStatement('select 1; -- trailing comment')).toBe(false)
    expect(isSingleStatement('-- only a comment')).toBe(false)
    expect(isSingleStatement('/* nothing */ ;')).toBe(false)
    expect(isSingleStatement('   ')).toBe(false)
  })
})
