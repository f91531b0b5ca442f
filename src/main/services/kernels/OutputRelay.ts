import type { FullOutputPage, IopubMsgType, KernelIopubEvent } from '../../../shared/api'
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
}

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

  constructor(
    private readonly kernelId: string,
    private readonly emit: (e: KernelIopubEvent) => void,
    opts: RelayOptions = {}
  ) {
    this.flushMs = opts.flushMs ?? 30
    this.capChars = opts.capChars ?? 500_000
    this.keepChars = opts.keepChars ?? 64 * 1024 * 1024
    this.keepExecutions = opts.keepExecutions ?? 50
  }

  register(msgId: string, cellId: string): void {
    this.execs.set(msgId, {
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
    if (type === 'stream') return this.stream(ex, msg.content as { name?: string; text?: string })
    this.flush(ex)
    if (type === 'clear_output') {
      ex.relayed = 0
      ex.total = 0
      ex.truncated = false
      ex.full = { stdout: [], stderr: [] }
      ex.fullChars = { stdout: 0, stderr: 0 }
    }
    this.emit({
      kernelId: this.kernelId,
      cellId: ex.cellId,
      parentMsgId: parent,
      msgType: type,
      content: msg.content,
      ...(msg.metadata && Object.keys(msg.metadata).length ? { metadata: msg.metadata } : {})
    })
  }

  private stream(ex: Execution, content: { name?: string; text?: string }) {
    const name: StreamName = content.name === 'stderr' ? 'stderr' : 'stdout'
    const text = typeof content.text === 'string' ? content.text : ''
    if (!text) return
    ex.total += text.length
    if (ex.fullChars.stdout + ex.fullChars.stderr + text.length <= this.keepChars) {
      ex.full[name].push(text)
      ex.fullChars[name] += text.length
    } else ex.fullDropped = true
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
    }
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
  }
}
