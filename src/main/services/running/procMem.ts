import { readdirSync, readFileSync } from 'node:fs'

/**
 * One read of /proc: parents, and on demand each process's command line and resident memory. Memory
 * figures in the Running panel come from here (VmRSS of a process and all its descendants), never
 * from an estimate.
 */
export class ProcSnapshot {
  private readonly children = new Map<number, number[]>()
  readonly pids: number[] = []

  constructor() {
    let entries: string[] = []
    try {
      entries = readdirSync('/proc')
    } catch {
      return
    }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        const pid = Number(e)
        this.pids.push(pid)
        const list = this.children.get(ppid) ?? []
        list.push(pid)
        this.children.set(ppid, list)
      } catch {
        // the process ended while we looked
      }
    }
  }

  /** `pid` and all its descendants. */
  tree(pid: number): number[] {
    const out = [pid]
    for (let i = 0; i < out.length; i++) out.push(...(this.children.get(out[i]) ?? []))
    return out
  }

  descendants(pid: number): number[] {
    return this.tree(pid).slice(1)
  }

  cmdline(pid: number): string {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
    } catch {
      return ''
    }
  }

  /** Resident memory of one process in bytes; null once it is gone (or for a zombie, which has none). */
  rss(pid: number): number | null {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      return m ? Number(m[1]) * 1024 : null
    } catch {
      return null
    }
  }

  /** Resident memory of a process tree; null when the root process is gone. */
  treeRss(pid: number, exclude: Set<number> = new Set()): number | null {
    const own = this.rss(pid)
    if (own === null) return null
    let total = own
    for (const p of this.descendants(pid)) {
      if (exclude.has(p)) continue
      total += this.rss(p) ?? 0
    }
    return total
  }
}
