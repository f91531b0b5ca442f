import { getHeapSpaceStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { NativeMemoryPacer, chunkBytes } from './nativeMemory'

describe('native memory pacer', () => {
  it('collects the young generation once per budget of released chunk bytes', () => {
    const pacer = new NativeMemoryPacer(1000)
    pacer.released(600)
    expect(pacer.collections).toBe(0)
    pacer.released(600)
    expect(pacer.collections).toBe(1)
    for (let i = 0; i < 10; i++) pacer.released(chunkBytes(2048, 10))
    expect(pacer.collections).toBe(11)
  })

  it('really runs a young-generation collection (what frees the wrappers of DuckDB chunks)', () => {
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size
    let garbage: object[] | null = Array.from({ length: 50_000 }, (_, i) => ({ i }))
    garbage = null
    const before = newSpace()
    new NativeMemoryPacer(1).released(1)
    expect(garbage).toBeNull()
    expect(newSpace()).toBeLessThan(before / 2)
  })
})
