import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WebSocket } from 'ws'
import { CLOSE_TOO_SLOW, HARD_BUFFER_CAP, sendEvent } from './backpressure'

/** The parts of a ws socket sendEvent uses, with the queue under the test's control. */
function socket(queued: number) {
  const s = {
    OPEN: 1,
    CLOSED: 3,
    readyState: 1,
    bufferedAmount: queued,
    closedWith: null as number | null,
    terminated: false,
    close(code: number) {
      s.closedWith = code
      s.readyState = 2
    },
    terminate() {
      s.terminated = true
      s.readyState = 3
    },
    send() {}
  }
  return s
}

describe('serve: closing a client past the hard cap', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('drops a client that reads nothing after the close frame within a second', () => {
    const s = socket(HARD_BUFFER_CAP + 1)
    expect(sendEvent(s as unknown as WebSocket, '{}', false, { dropped: 0 })).toBe('closed')
    expect(s.closedWith).toBe(CLOSE_TOO_SLOW)
    vi.advanceTimersByTime(1001)
    expect(s.terminated).toBe(true)
  })

  it('lets a client that is still reading get to the close frame', () => {
    const s = socket(HARD_BUFFER_CAP + 1)
    sendEvent(s as unknown as WebSocket, '{}', false, { dropped: 0 })
    for (let i = 0; i < 5; i++) {
      s.bufferedAmount -= 8 * 1024 * 1024
      vi.advanceTimersByTime(1000)
      expect(s.terminated, `after ${i + 1} s`).toBe(false)
    }
    s.readyState = s.CLOSED
    vi.advanceTimersByTime(60_000)
    expect(s.terminated).toBe(false)
  })

  it('drops a client that reads, but too slowly to finish within 30 s', () => {
    const s = socket(HARD_BUFFER_CAP + 1)
    sendEvent(s as unknown as WebSocket, '{}', false, { dropped: 0 })
    for (let i = 0; i < 31 && !s.terminated; i++) {
      s.bufferedAmount -= 1024
      vi.advanceTimersByTime(1000)
    }
    expect(s.terminated).toBe(true)
  })
})
