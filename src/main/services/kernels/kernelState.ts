import { randomUUID } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { CellOutputRecord } from '../../../shared/api'

/** What is kept about one kernel between runs of the app. */
export interface KernelRecord {
  serverId: string
  path: string | null
  sessionId: string | null
  specName: string
  cells: CellOutputRecord[]
}

interface StateFile {
  /**
   * The client session id every kernel connection of this data dir uses: Jupyter buffers a kernel's
   * messages for the last client that went away and replays them when the same session reconnects.
   */
  clientId: string
  kernels: Record<string, KernelRecord>
  /** Notebooks whose kernel was found gone at start: why, shown once when the notebook is reopened. */
  lost: Record<string, { reason: string; cells: CellOutputRecord[] }>
}

/**
 * The kernels' state in the data dir (JSON, 0600, replaced atomically, written at most every
 * `debounceMs`): the stable client id, which notebook each kernel serves, and each cell's latest
 * outputs, so that a restarted app shows them and routes Jupyter's replay to the right cells.
 */
export class KernelStateFile {
  private state: StateFile
  private timer: NodeJS.Timeout | null = null
  /** Kernels whose record is read when the file is written (not at every output). */
  private readonly live = new Map<string, () => KernelRecord>()

  constructor(
    private readonly file: string | null,
    private readonly debounceMs = 250
  ) {
    this.state = this.load()
  }

  private load(): StateFile {
    const empty: StateFile = { clientId: randomUUID(), kernels: {}, lost: {} }
    if (!this.file || !existsSync(this.file)) return empty
    try {
      const s = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<StateFile>
      return { clientId: typeof s.clientId === 'string' ? s.clientId : empty.clientId, kernels: s.kernels ?? {}, lost: s.lost ?? {} }
    } catch {
      return empty
    }
  }

  get clientId(): string {
    if (this.file && !existsSync(this.file)) this.flush()
    return this.state.clientId
  }

  kernels(): Record<string, KernelRecord> {
    return this.state.kernels
  }

  /**
   * Records a kernel; `read` is called when the file is next written. `soon`: something that matters
   * after a crash (an execution finished): written within a few ms rather than the debounce.
   */
  put(kernelId: string, read: () => KernelRecord, soon = false): void {
    this.live.set(kernelId, read)
    this.schedule(soon)
  }

  remove(kernelId: string): void {
    const known = this.live.delete(kernelId) || kernelId in this.state.kernels
    delete this.state.kernels[kernelId]
    if (known) this.schedule()
  }

  markLost(path: string, reason: string, cells: CellOutputRecord[]): void {
    this.state.lost[path] = { reason, cells }
    this.schedule()
  }

  takeLost(path: string): { reason: string; cells: CellOutputRecord[] } | null {
    const l = this.state.lost[path]
    if (!l) return null
    delete this.state.lost[path]
    this.schedule()
    return l
  }

  private due = 0

  private schedule(soon = false) {
    if (!this.file) return
    const at = Date.now() + (soon ? 5 : this.debounceMs)
    if (this.timer && at >= this.due) return
    if (this.timer) clearTimeout(this.timer)
    this.due = at
    this.timer = setTimeout(() => this.flush(), at - Date.now())
    this.timer.unref()
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const [id, read] of this.live) this.state.kernels[id] = read()
    if (!this.file) return
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 })
    chmodSync(tmp, 0o600)
    renameSync(tmp, this.file)
  }
}
