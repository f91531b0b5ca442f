import { describe, expect, it } from 'vitest'
import { MAX_SCROLL_PX, scrollGeometry } from './geometry'

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
