/**
 * Job logs on this machine: for jobs on this machine the log file itself, for remote ones a mirror
 * the poller appends to (only whole lines), so `jobs.logs` pages by line number without a round
 * trip and a restarted app still has the full log. A per-file index of line starts keeps paging
 * through 100k-line logs cheap.
 */
import { appendFile, mkdir, open, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

interface Index {
  size: number
  /** Byte offset of each line start (the first is 0). */
  starts: number[]
}

export class LogFiles {
  private readonly index = new Map<string, Index>()

  async append(path: string, data: Buffer): Promise<void> {
    await mkdir(dirname(path), { recursive: true })
    await appendFile(path, data)
  }

  private async refresh(path: string): Promise<{ idx: Index; size: number }> {
    let idx = this.index.get(path)
    if (!idx) {
      idx = { size: 0, starts: [0] }
      this.index.set(path, idx)
    }
    let size = 0
    try {
      size = (await stat(path)).size
    } catch {
      return { idx, size: 0 }
    }
    if (size < idx.size) {
      idx.size = 0
      idx.starts = [0]
    }
    if (size > idx.size) {
      const fh = await open(path, 'r')
      try {
        const chunk = Buffer.alloc(1 << 20)
        let pos = idx.size
        while (pos < size) {
          const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, size - pos), pos)
          if (bytesRead === 0) break
          for (let i = 0; i < bytesRead; i++) if (chunk[i] === 10) idx.starts.push(pos + i + 1)
          pos += bytesRead
        }
        idx.size = pos
      } finally {
        await fh.close()
      }
    }
    return { idx, size: idx.size }
  }

  /** Lines [fromLine, fromLine + maxLines); a last line without a newline counts when `includePartial`. */
  async page(path: string, fromLine: number, maxLines: number, includePartial: boolean): Promise<{ lines: string[]; totalLines: number }> {
    const { idx, size } = await this.refresh(path)
    const complete = idx.starts.length - 1
    const partial = includePartial && idx.starts[idx.starts.length - 1] < size
    const totalLines = complete + (partial ? 1 : 0)
    const end = Math.min(totalLines, fromLine + maxLines)
    if (fromLine >= end) return { lines: [], totalLines }
    const startByte = idx.starts[fromLine]
    const endByte = end <= complete ? idx.starts[end] : size
    const fh = await open(path, 'r')
    try {
      const buf = Buffer.alloc(endByte - startByte)
      await fh.read(buf, 0, buf.length, startByte)
      const lines = buf.toString('utf8').split('\n')
      if (lines[lines.length - 1] === '') lines.pop()
      return { lines: lines.map((l) => l.replace(/\r$/, '')), totalLines }
    } finally {
      await fh.close()
    }
  }

  forget(path: string): void {
    this.index.delete(path)
  }
}

/** Splits new bytes at the last newline: the whole lines and how many bytes they took. */
export function wholeLines(chunk: Buffer, final: boolean): { lines: string[]; bytes: number } {
  const cut = final ? chunk.length : chunk.lastIndexOf(10) + 1
  if (cut === 0) return { lines: [], bytes: 0 }
  const text = chunk.subarray(0, cut).toString('utf8')
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return { lines: lines.map((l) => l.replace(/\r$/, '')), bytes: cut }
}
