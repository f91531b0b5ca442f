import { describe, expect, it } from 'vitest'
import { DOM_DELTA_LINE, DOM_DELTA_PAGE, DOM_DELTA_PIXEL, MAX_SCROLL_PX, scrollGeometry, steppedFirst, wheelRows } from './geometry'

describe('scrollGeometry', () => {
  it('is the identity below the cap', () => {
    const g = scrollGeometry(1000, 480, 24)
    expect(g.spaceH).toBe(24_000)
    expect(g.firstAt(240)).toBeCloseTo(10)
    expect(g.scrollFor(10)).toBeCloseTo(240)
  })
  it('scales 30 million rows into the capped space and reaches both ends', () => {
    const rows = 30_000_000
    const g = scrollGeometry(rows, 480, 24)
    expect(g.spaceH).toBe(MAX_SCROLL_PX)
    expect(g.firstAt(0)).toBe(0)
    expect(g.firstAt(MAX_SCROLL_PX - 480)).toBeCloseTo(rows - 20)
    expect(g.firstAt(g.scrollFor(12_345_678))).toBeCloseTo(12_345_678, 3)
  })
})

describe('wheelRows', () => {
  it('moves by whole rows, never more than the visible rows, in every delta mode', () => {
    expect(wheelRows(3, DOM_DELTA_LINE, 18, 24)).toEqual({ rows: 3, carry: 0 })
    expect(wheelRows(-3, DOM_DELTA_LINE, 18, 24)).toEqual({ rows: -3, carry: 0 })
    expect(wheelRows(40, DOM_DELTA_LINE, 18, 24).rows).toBe(18)
    expect(wheelRows(1, DOM_DELTA_PAGE, 18.7, 24).rows).toBe(18)
    expect(wheelRows(-1, DOM_DELTA_PAGE, 18.7, 24).rows).toBe(-18)
    expect(wheelRows(100, DOM_DELTA_PIXEL, 18, 24)).toEqual({ rows: 4, carry: 4 })
    expect(wheelRows(100, DOM_DELTA_PIXEL, 18, 24, 20)).toEqual({ rows: 5, carry: 0 })
    expect(wheelRows(720, DOM_DELTA_PIXEL, 18, 24)).toEqual({ rows: 18, carry: 0 })
    expect(wheelRows(10, DOM_DELTA_PIXEL, 18, 24)).toEqual({ rows: 0, carry: 10 })
    expect(wheelRows(-10, DOM_DELTA_PIXEL, 18, 24, 10)).toEqual({ rows: 0, carry: -10 })
  })
  it('small trackpad deltas add up to rows', () => {
    let carry = 0
    let total = 0
    for (let i = 0; i < 24; i++) {
      const r = wheelRows(5, DOM_DELTA_PIXEL, 18, 24, carry)
      carry = r.carry
      total += r.rows
    }
    expect(total).toBe(5)
  })
  it('steps so that every row is shown: from a fractional first row, in both directions', () => {
    const visible = 18
    const seen = new Set<number>()
    let first = 0.4
    // fully visible at first: rows 1..17
    for (let r = Math.ceil(first); r + 1 <= first + visible; r++) seen.add(r)
    for (let i = 0; i < 200; i++) {
      first = steppedFirst(first, visible, 3_000_000 - 18.5)
      for (let r = first; r < first + visible; r++) seen.add(r)
    }
    for (let r = 1; r < 200 * visible; r++) expect(seen.has(r)).toBe(true)
    expect(steppedFirst(10.4, -18, 100)).toBe(0)
    expect(steppedFirst(30.4, -18, 100)).toBe(13)
    expect(steppedFirst(99, 18, 95.5)).toBe(95.5)
  })
})
