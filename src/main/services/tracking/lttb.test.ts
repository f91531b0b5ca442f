import { describe, expect, it } from 'vitest'
import { lttb } from './lttb'

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('LTTB', () => {
  it('returns every index when the series is short enough, and the ends otherwise', () => {
    expect([...lttb([1, 2, 3], [1, 2, 3], 5)]).toEqual([0, 1, 2])
    expect([...lttb(range(10), range(10), 2)]).toEqual([0, 9])
    expect([...lttb([], [], 10)]).toEqual([])
  })

  it('keeps exactly threshold points, first and last, in increasing order', () => {
    const n = 100_003
    const x = range(n)
    const y = x.map((i) => Math.sin(i / 1000) + ((i * 7919) % 13) / 100)
    const idx = lttb(x, y, 2000)
    expect(idx.length).toBe(2000)
    expect(idx[0]).toBe(0)
    expect(idx[1999]).toBe(n - 1)
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1])
  })

  it('keeps isolated spikes that stride sampling would drop', () => {
    const n = 50_000
    const x = range(n)
    const y = x.map(() => 0)
    const spikes = [1234, 20_001, 33_333, 49_001]
    for (const s of spikes) y[s] = s % 2 ? -50 : 50
    const idx = new Set(lttb(x, y, 500))
    for (const s of spikes) expect(idx.has(s)).toBe(true)
    const stride = new Set(range(500).map((i) => Math.floor((i * n) / 500)))
    expect(spikes.filter((s) => stride.has(s))).toEqual([])
  })

  it('follows the shape better than stride sampling (max interpolation error)', () => {
    const n = 20_000
    const x = range(n)
    const y = x.map((i) => Math.sin(i / 300) * Math.exp(-i / 8000) + (i % 997 === 0 ? 2 : 0))
    const err = (keep: number[]) => {
      let worst = 0
      for (let k = 0; k + 1 < keep.length; k++) {
        const [a, b] = [keep[k], keep[k + 1]]
        for (let i = a; i <= b; i++) {
          const interp = b === a ? y[a] : y[a] + ((y[b] - y[a]) * (i - a)) / (b - a)
          worst = Math.max(worst, Math.abs(interp - y[i]))
        }
      }
      return worst
    }
    const l = err([...lttb(x, y, 400)])
    const s = err([...range(399).map((i) => Math.floor((i * n) / 399)), n - 1])
    expect(l).toBeLessThan(s)
  })
})
