/**
 * DuckDB's data chunks and materialised results hold native memory that is freed only when V8
 * collects their JS wrappers, and @duckdb/node-api neither frees them earlier nor tells V8 how big
 * they are. Code that makes little JS garbage of its own (Arrow pages straight from DuckDB's buffers)
 * lets many of them pile up between V8's collections. The pacer counts the bytes of chunks the lake
 * is done with and, after every `budgetBytes`, runs a young-generation collection (a few ms), which
 * frees the wrappers made since and so their native memory.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

type Collect = (options?: { type?: 'minor' | 'major' }) => void

let collect: Collect | null | undefined

function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      collect = runInNewContext('gc') as Collect
    } catch {
      collect = null
    }
  }
  return collect
}

export class NativeMemoryPacer {
  private pending = 0
  /** Young-generation collections run so far. */
  collections = 0

  constructor(private readonly budgetBytes = 8 * 1024 * 1024) {}

  /** `bytes` of DuckDB chunk data are no longer needed by the caller. */
  released(bytes: number): void {
    this.pending += bytes
    if (this.pending < this.budgetBytes) return
    this.pending = 0
    const gc = collector()
    if (!gc) return
    gc({ type: 'minor' })
    this.collections++
  }
}

/** About how many bytes a chunk's vectors hold (8 per value; strings' heaps are not counted). */
export const chunkBytes = (rows: number, columns: number): number => rows * columns * 8
