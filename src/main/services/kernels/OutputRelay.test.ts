import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { KernelIopubEvent } from '../../../shared/api'
import { OutputRelay, type IopubLike } from './OutputRelay'

const msg = (type: string, parent: string, content: Record<string, unknown>): IopubLike => ({
  header: { msg_type: type },
  parent_header: { msg_id: parent },
  content
})

describe('OutputRelay', () => {
  let out: KernelIopubEvent[]
  let relay: OutputRelay
  beforeEach(() => {
    vi.useFakeTimers()
    out = []
    relay = new OutputRelay('k1', (e) => out.push(e), { flushMs: 30, capChars: 50 })
    relay.register('m1', 'cellA')
  })
  afterEach(() => vi.useRealTimers())

  it('batches stream text per cell every flushMs, merging same-stream chunks in order', () => {
    for (let i = 0; i < 5; i++) relay.handle(msg('stream', 'm1', { name: 'stdout', text: `${i}\n` }))
    relay.handle(msg('stream', 'm1', { name: 'stderr', text: 'e\n' }))
    relay.handle(msg('stream', 'm1', { name: 'stdout', text: 'x\n' }))
    expect(out).toHaveLength(0)
    vi.advanceTimersByTime(30)
    expect(out.map((e) => [e.cellId, e.content.name, e.content.text])).toEqual([
      ['cellA', 'stdout', '0\n1\n2\n3\n4\n'],
      ['cellA', 'stderr', 'e\n'],
      ['cellA', 'stdout', 'x\n']
    ])
  })

  it('flushes pending text before any other message of the cell, and ignores unknown parents', () => {
    relay.handle(msg('stream', 'm1', { name: 'stdout', text: 'a' }))
    relay.handle(msg('execute_result', 'm1', { data: { 'text/plain': '2' } }))
    relay.handle(msg('stream', 'other', { name: 'stdout', text: 'nope' }))
    relay.handle(msg('comm_msg', 'm1', {}))
    expect(out.map((e) => e.msgType)).toEqual(['stream', 'execute_result'])
  })

  it('caps what is relayed per cell, keeps everything for fullOutput, resets on clear_output', () => {
    relay.handle(msg('stream', 'm1', { name: 'stdout', text: 'x'.repeat(40) }))
    relay.handle(msg('stream', 'm1', { name: 'stdout', text: 'y'.repeat(40) }))
    relay.handle(msg('stream', 'm1', { name: 'stdout', text: 'z'.repeat(40) }))
    vi.advanceTimersByTime(30)
    expect(out).toHaveLength(1)
    expect(out[0].content.text).toBe('x'.repeat(40) + 'y'.repeat(10))
    expect(out[0].truncated).toBe(true)
    relay.finish('m1', { status: 'ok', execution_count: 1 })
    expect(out[1]).toMatchObject({ msgType: 'execute_reply', stream: { totalChars: 120, relayedChars: 50 } })
    const full = relay.fullOutput('m1', 'stdout', 35, 10)
    expect(full).toMatchObject({ text: 'xxxxxyyyyy', totalChars: 120, done: false })
    expect(relay.fullOutput('m1', 'stdout', 110).done).toBe(true)
    relay.handle(msg('clear_output', 'm1', { wait: false }))
    relay.handle(msg('stream', 'm1', { name: 'stdout', text: 'fresh' }))
    vi.advanceTimersByTime(30)
    expect(out.at(-1)?.content.text).toBe('fresh')
    expect(relay.fullOutput('m1', 'stdout').text).toBe('fresh')
  })

  it('reports running executions as lost once', () => {
    relay.register('m2', 'cellB')
    relay.finish('m1', { status: 'ok' })
    expect(relay.abandon()).toEqual([{ msgId: 'm2', cellId: 'cellB' }])
    expect(relay.abandon()).toEqual([])
    expect(() => relay.fullOutput('nope', 'stdout')).toThrow(/No output kept/)
  })
})
