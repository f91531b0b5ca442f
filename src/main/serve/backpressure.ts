import type { WebSocket } from 'ws'
import type { EventName } from '../../shared/api'

/** Past this many bytes queued for a socket, its re-fetchable events are dropped. */
export const SOFT_BUFFER_CAP = 8 * 1024 * 1024
/** Past this many bytes queued for a socket, the client is too slow to keep: it is closed. */
export const HARD_BUFFER_CAP = 64 * 1024 * 1024
/** Close code for a client that does not read (4000–4999 are the application's own). */
export const CLOSE_TOO_SLOW = 4008

const OUTPUT_DELTAS = new Set(['stream', 'display_data', 'update_display_data', 'execute_result'])

/**
 * Events a slow client may miss because it can fetch their content again: kernel output (the
 * notebook's outputs and `kernels.fullOutput`), progress ticks, and job log lines (`jobs.logs`).
 * Status changes, errors, replies and input requests are never dropped.
 */
export function isDroppable(event: EventName | string, payload: unknown): boolean {
  if (event === 'query.progress' || event === 'export.progress' || event === 'job.log') return true
  if (event === 'kernel.iopub') return OUTPUT_DELTAS.has(String((payload as { msgType?: unknown } | null)?.msgType))
  return false
}

export interface SocketFlow {
  /** Events dropped for this socket since it connected. */
  dropped: number
}

/**
 * Sends one pushed event to one socket, minding how much is already queued for it: over the soft cap
 * a droppable event is skipped; over the hard cap the socket is closed with CLOSE_TOO_SLOW. The close
 * frame waits behind what is queued: a client still reading gets to it; one that reads nothing for a
 * second (or is still not done after 30 s) is dropped outright.
 */
function dropIfStalled(ws: WebSocket, before: number, deadline: number): void {
  setTimeout(() => {
    if (ws.readyState === ws.CLOSED) return
    const now = ws.bufferedAmount
    if (now >= before || Date.now() > deadline) ws.terminate()
    else dropIfStalled(ws, now, deadline)
  }, 1000).unref()
}

export function sendEvent(ws: WebSocket, text: string, droppable: boolean, flow: SocketFlow): 'sent' | 'dropped' | 'closed' {
  if (ws.readyState !== ws.OPEN) return 'closed'
  const queued = ws.bufferedAmount
  if (queued > HARD_BUFFER_CAP) {
    ws.close(CLOSE_TOO_SLOW, 'client too slow: more than 64 MiB of events unread')
    dropIfStalled(ws, queued, Date.now() + 30_000)
    return 'closed'
  }
  if (droppable && queued > SOFT_BUFFER_CAP) {
    flow.dropped++
    return 'dropped'
  }
  ws.send(text)
  return 'sent'
}
