import type { CellOutputRecord, FullOutputPage, IopubMsgType, KernelIopubEvent } from '../../../shared/api'
import { AppError } from '../../../shared/errors'

type StreamName = 'stdout' | 'stderr'

interface Execution {
  msgId: string
  cellId: string
  pending: { name: StreamName; text: string }[]
  pendingTruncated: boolean
  timer: NodeJS.Timeout | null
  relayed: number
  total: number
  truncated: boolean
  full: Record<StreamName, string[]>
  fullChars: Record<StreamName, number>
  fullDropped: boolean
  done: boolean
  /** Rich outputs (display_data, execute_result, update_display_data) whose payload was over the cap, by index. */
  rich: Record<string, unknown>[]
  /** Recorded per cell for a notebook reopened later (false for the UI's own hidden executions). */
  record: boolean
}

/** The latest outputs of one cell, as relayed: what a reopened notebook shows. */
interface CellRecord {
  msgId: string
  done: boolean
  events: KernelIopubEvent[]
  bytes: number
  overflow: boolean
}

export interface RelayOptions {
  /** Stream output is batched per cell and sent at most this often. */
  flushMs?: number
  /** Stream characters relayed per cell (until a clear_output); the rest stays available via fullOutput. */
  capChars?: number
  /** Stream characters kept per execution for fullOutput. */
  keepChars?: number
  /** Finished executions whose full output is kept. */
  keepExecutions?: number
  /**
   * display_data / execute_result / update_display_data payloads (JSON bytes of `data`) over this are
   * relayed as a short text placeholder; the full payload stays available with fullDisplay.
   */
  capRichBytes?: number
  /** IOPub output bytes per second per kernel past which forwarding pauses (as Jupyter's iopub_data_rate_limit). */
  dataRateLimit?: number
  /** The window the rate is measured over, in ms. */
  rateWindowMs?: number
  /** Recorded output bytes per cell for reopened notebooks; past it, the record says it overflowed. */
  recordBytes?: number
  /** Cells whose latest outputs are kept, and their total bytes; the oldest finished ones go first. */
  recordCells?: number
  recordTotalBytes?: number
  now?: () => number
}

/** Output messages the rate limit may hold back; status, errors, replies and clears always pass. */
const RATE_LIMITED = new Set<string>(['stream', 'display_data', 'execute_result', 'update_display_data'])

const RELAYED = new Set<IopubMsgType>([
  'stream',
  'execute_result',
  'display_data',
  'update_display_data',
  'clear_output',
  'error',
  'execute_input',
  'status'
])

export interface IopubLike {
  header: { msg_type: string }
  parent_header: { msg_id?: string } | Record<string, never>
  content: Record<string, unknown>
  metadata?: Record<string, unknown>
}

/**
 * Relays one kernel's IOPub messages to the contract, routed by the parent msg id to the cell
 * that ran it. Stream output is coalesced (one event per cell per `flushMs`) and capped per cell,
 * so a 200,000-line print does not flood the UI; the whole text stays readable with fullOutput.
 * Order is kept: pending stream text is flushed before any other message for the same cell.
 */
export class OutputRelay {
  private readonly execs = new Map<string, Execution>()
  private readonly flushMs: number
  private readonly capChars: number
  private readonly keepChars: number
  private readonly keepExecutions: number
  private readonly capRichBytes: number
  private readonly dataRateLimit: number
  private readonly rateWindowMs: number
  private readonly recordBytes: number
  private readonly recordCells: number
  private readonly recordTotalBytes: number
  private readonly now: () => number
  private readonly window: { at: number; bytes: number }[] = []
  private windowBytes = 0
  private paused = false
  private seq = 0
  private readonly cells = new Map<string, CellRecord>()
  private readonly emit: (e: KernelIopubEvent) => void
  /** Called after the recorded outputs changed (to persist them); `finished` when an execution ended. */
  onRecord: ((finished?: boolean) => void) | null = null

  constructor(
    private readonly kernelId: string,
    emit: (e: KernelIopubEvent) => void,
    opts: RelayOptions = {}
  ) {
    this.flushMs = opts.flushMs ?? 30
    this.capChars = opts.capChars ?? 500_000
    this.keepChars = opts.keepChars ?? 64 * 1024 * 1024
    this.keepExecutions = opts.keepExecutions ?? 50
    this.capRichBytes = opts.capRichBytes ?? 4 * 1024 * 1024
    this.dataRateLimit = opts.dataRateLimit ?? 32 * 1024 * 1024
    this.rateWindowMs = opts.rateWindowMs ?? 1000
    this.recordBytes = opts.recordBytes ?? 2 * 1024 * 1024
    this.recordCells = opts.recordCells ?? 1000
    this.recordTotalBytes = opts.recordTotalBytes ?? 32 * 1024 * 1024
    this.now = opts.now ?? Date.now
    this.emit = (e) => {
      const ev = { ...e, seq: ++this.seq }
      this.recordEvent(ev)
      emit(ev)
    }
  }

  /** The sequence number of the last event relayed (events carry theirs as `seq`). */
  get lastSeq(): number {
    return this.seq
  }

  register(msgId: string, cellId: string, opts: { record?: boolean } = {}): void {
    const record = opts.record ?? true
    if (record) {
      this.cells.delete(cellId) // re-inserted last: the oldest cells are the first to go
      this.cells.set(cellId, { msgId, done: false, events: [], bytes: 0, overflow: false })
      this.trimRecords()
      this.onRecord?.()
    }
    this.execs.set(msgId, {
      rich: [],
      record,
      msgId,
      cellId,
      pending: [],
      pendingTruncated: false,
      timer: null,
      relayed: 0,
      total: 0,
      truncated: false,
      full: { stdout: [], stderr: [] },
      fullChars: { stdout: 0, stderr: 0 },
      fullDropped: false,
      done: false
    })
    this.evict()
  }

  /** Executions started and not finished (to report them lost when the kernel dies). */
  inFlight(): { msgId: string; cellId: string }[] {
    return [...this.execs.values()].filter((e) => !e.done).map((e) => ({ msgId: e.msgId, cellId: e.cellId }))
  }

  handle(msg: IopubLike): void {
    const parent = (msg.parent_header as { msg_id?: string }).msg_id
    const ex = parent ? this.execs.get(parent) : undefined
    const type = msg.header.msg_type as IopubMsgType
    if (!ex || !parent || !RELAYED.has(type)) return
    const held = RATE_LIMITED.has(type) && this.overRate(ex, msg)
    if (type === 'stream') return this.stream(ex, msg.content as { name?: string; text?: string }, held)
    if (held) return
    this.flush(ex)
    if (type === 'clear_output') {
      ex.relayed = 0
      ex.total = 0
      ex.truncated = false
      ex.full = { stdout: [], stderr: [] }
      ex.fullChars = { stdout: 0, stderr: 0 }
    }
    let content = msg.content
    let truncated = false
    if ((type === 'display_data' || type === 'execute_result' || type === 'update_display_data') && content.data && typeof content.data === 'object') {
      const size = jsonBytes(content.data)
      if (size > this.capRichBytes) {
        ex.rich.push(msg.content)
        const mimes = Object.keys(content.data as Record<string, unknown>).join(', ')
        content = {
          ...content,
          data: { 'text/plain': `[${type === 'execute_result' ? 'result' : 'display'} of ${formatBytes(size)} (${mimes}) not shown: over the ${formatBytes(this.capRichBytes)} relay limit]` },
          atelier_full: { index: ex.rich.length - 1, bytes: size }
        }
        truncated = true
      }
    }
    this.emit({
      kernelId: this.kernelId,
      cellId: ex.cellId,
      parentMsgId: parent,
      msgType: type,
      content,
      ...(msg.metadata && Object.keys(msg.metadata).length ? { metadata: msg.metadata } : {}),
      ...(truncated ? { truncated: true } : {})
    })
  }

  /**
   * Counts an output message against the kernel's data rate (bytes over the last window). Past the
   * limit, output is held back and one notice goes to the cell; below 80 % of it, forwarding resumes
   * (as Jupyter's iopub_data_rate_limit does). Held stream text stays readable with fullOutput.
   */
  private overRate(ex: Execution, msg: IopubLike): boolean {
    if (!(this.dataRateLimit > 0)) return false
    const now = this.now()
    const size = msg.header.msg_type === 'stream' ? String((msg.content as { text?: unknown }).text ?? '').length : jsonBytes(msg.content.data ?? msg.content)
    this.window.push({ at: now, bytes: size })
    this.windowBytes += size
    while (this.window.length && this.window[0].at <= now - this.rateWindowMs) this.windowBytes -= this.window.shift()!.bytes
    const rate = (this.windowBytes * 1000) / this.rateWindowMs
    if (!this.paused && rate > this.dataRateLimit) {
      this.paused = true
      this.flush(ex)
      this.emit({
        kernelId: this.kernelId,
        cellId: ex.cellId,
        parentMsgId: ex.msgId,
        msgType: 'stream',
        content: {
          name: 'stderr',
          text: `Output paused: the kernel is sending more than ${formatBytes(this.dataRateLimit)}/s. Forwarding resumes when the rate drops; printed text stays available in full.\n`
        },
        rateLimited: true
      })
    } else if (this.paused && rate < 0.8 * this.dataRateLimit) {
      this.paused = false
    }
    return this.paused
  }

  /** A rich output whose payload was over the relay cap, in full. */
  fullDisplay(msgId: string, index: number): Record<string, unknown> {
    const ex = this.execs.get(msgId)
    const c = ex?.rich[index]
    if (!c) throw new AppError('NOT_FOUND', `No full output ${index} kept for execution ${msgId}.`, { msgId, index })
    return c
  }

  private recordEvent(ev: KernelIopubEvent) {
    if (!ev.cellId || ev.msgType === 'status') return
    const ex = this.execs.get(ev.parentMsgId)
    if (ex && !ex.record) return
    const rec = this.cells.get(ev.cellId)
    if (!rec || rec.msgId !== ev.parentMsgId) return
    if (ev.msgType === 'execute_reply') rec.done = true
    if (ev.msgType === 'clear_output' && !(ev.content as { wait?: boolean }).wait) {
      rec.events = rec.events.filter((e) => e.msgType === 'execute_input')
      rec.bytes = 0
    }
    const last = rec.events[rec.events.length - 1]
    if (ev.msgType === 'stream' && last && last.msgType === 'stream' && last.content.name === ev.content.name && !last.truncated) {
      const text = String(ev.content.text ?? '')
      if (rec.bytes + text.length <= this.recordBytes) {
        rec.events[rec.events.length - 1] = { ...last, content: { ...last.content, text: String(last.content.text ?? '') + text }, seq: ev.seq, ...(ev.truncated ? { truncated: true } : {}) }
        rec.bytes += text.length
      } else rec.overflow = true
    } else {
      const size = ev.msgType === 'stream' ? String(ev.content.text ?? '').length : ev.msgType === 'execute_reply' || ev.msgType === 'execute_input' ? 0 : jsonBytes(ev.content)
      if (rec.bytes + size <= this.recordBytes) {
        rec.events.push(ev)
        rec.bytes += size
      } else rec.overflow = true
    }
    this.onRecord?.(ev.msgType === 'execute_reply')
  }

  /** Keeps the records of the most recent cells within `recordCells` and `recordTotalBytes`; running cells stay. */
  private trimRecords() {
    let total = 0
    for (const r of this.cells.values()) total += r.bytes
    for (const [id, r] of this.cells) {
      if (this.cells.size <= this.recordCells && total <= this.recordTotalBytes) break
      if (!r.done) continue
      this.cells.delete(id)
      total -= r.bytes
    }
  }

  /** The latest outputs of every cell this kernel ran (for a notebook reopened later). */
  records(): CellOutputRecord[] {
    return [...this.cells].map(([cellId, r]) => ({ cellId, msgId: r.msgId, done: r.done, overflow: r.overflow, events: r.events }))
  }

  /**
   * Restores what an earlier run of the app recorded: the cells' outputs, and the routing of the
   * executions still running, so that Jupyter's replay of buffered messages reaches their cells.
   */
  seed(records: CellOutputRecord[]): void {
    for (const r of records) {
      const bytes = r.events.reduce((n, e) => n + (e.msgType === 'stream' ? String(e.content.text ?? '').length : 0), 0)
      this.cells.set(r.cellId, { msgId: r.msgId, done: r.done, events: r.events, bytes, overflow: r.overflow })
      for (const e of r.events) this.seq = Math.max(this.seq, e.seq ?? 0)
      if (!r.done && !this.execs.has(r.msgId)) {
        this.register(r.msgId, r.cellId, { record: false })
        this.execs.get(r.msgId)!.record = true
      }
    }
  }

  /** The cell an execution runs in. */
  cellOf(msgId: string): string | null {
    return this.execs.get(msgId)?.cellId ?? null
  }

  /** Executions this relay routes that are not finished (seeded or live). */
  running(): string[] {
    return [...this.execs.values()].filter((e) => !e.done).map((e) => e.msgId)
  }

  /** Marks cells whose outputs were lost (the kernel or its server went away while the app was not there). */
  markLost(msgIds: string[]): void {
    const lost = new Set(msgIds)
    for (const r of this.cells.values()) if (lost.has(r.msgId)) r.done = true
    for (const id of msgIds) {
      const ex = this.execs.get(id)
      if (ex) ex.done = true
    }
    this.onRecord?.()
  }

  private stream(ex: Execution, content: { name?: string; text?: string }, held = false) {
    const name: StreamName = content.name === 'stderr' ? 'stderr' : 'stdout'
    const text = typeof content.text === 'string' ? content.text : ''
    if (!text) return
    ex.total += text.length
    if (ex.fullChars.stdout + ex.fullChars.stderr + text.length <= this.keepChars) {
      ex.full[name].push(text)
      ex.fullChars[name] += text.length
    } else ex.fullDropped = true
    if (held) {
      ex.truncated = true
      return
    }
    const room = this.capChars - ex.relayed
    if (room <= 0) return
    const part = text.length > room ? text.slice(0, room) : text
    ex.relayed += part.length
    if (part.length < text.length) {
      ex.truncated = true
      ex.pendingTruncated = true
    }
    const last = ex.pending[ex.pending.length - 1]
    if (last && last.name === name) last.text += part
    else ex.pending.push({ name, text: part })
    if (!ex.timer) ex.timer = setTimeout(() => this.flush(ex), this.flushMs)
  }

  private flush(ex: Execution) {
    if (ex.timer) clearTimeout(ex.timer)
    ex.timer = null
    const batch = ex.pending
    if (batch.length === 0) return
    ex.pending = []
    batch.forEach((seg, i) => {
      const truncated = ex.pendingTruncated && i === batch.length - 1
      this.emit({
        kernelId: this.kernelId,
        cellId: ex.cellId,
        parentMsgId: ex.msgId,
        msgType: 'stream',
        content: { name: seg.name, text: seg.text },
        ...(truncated ? { truncated: true } : {})
      })
    })
    ex.pendingTruncated = false
  }

  /** The execution finished: flush, then relay the reply with the stream totals. */
  finish(msgId: string, reply: Record<string, unknown>): void {
    const ex = this.execs.get(msgId)
    if (!ex) return
    this.flush(ex)
    ex.done = true
    this.emit({
      kernelId: this.kernelId,
      cellId: ex.cellId,
      parentMsgId: msgId,
      msgType: 'execute_reply',
      content: reply,
      stream: { totalChars: ex.total, relayedChars: ex.relayed }
    })
    this.evict()
  }

  /** Marks every running execution as over (kernel died or restarted); returns them. */
  abandon(): { msgId: string; cellId: string }[] {
    const lost = this.inFlight()
    for (const l of lost) {
      const ex = this.execs.get(l.msgId)!
      this.flush(ex)
      ex.done = true
      const rec = this.cells.get(l.cellId)
      if (rec?.msgId === l.msgId) rec.done = true
    }
    if (lost.length) this.onRecord?.()
    return lost
  }

  fullOutput(msgId: string, name: StreamName, offset = 0, limit = 1_000_000): FullOutputPage {
    const ex = this.execs.get(msgId)
    if (!ex) throw new AppError('NOT_FOUND', `No output kept for execution ${msgId} (only the last ${this.keepExecutions} are kept).`, { msgId })
    if (ex.full[name].length > 1) ex.full[name] = [ex.full[name].join('')]
    const all = ex.full[name][0] ?? ''
    const text = all.slice(offset, offset + limit)
    return { name, text, offset, totalChars: all.length, done: ex.done && offset + text.length >= all.length }
  }

  private evict() {
    if (this.execs.size <= this.keepExecutions) return
    for (const [id, ex] of this.execs) {
      if (this.execs.size <= this.keepExecutions) break
      if (ex.done) this.execs.delete(id)
    }
  }

  dispose(): void {
    for (const ex of this.execs.values()) if (ex.timer) clearTimeout(ex.timer)
    this.execs.clear()
    this.onRecord = null
  }
}

function jsonBytes(v: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(v) ?? '')
  } catch {
    return 0
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 ** 2).toFixed(1)} MB`
}
