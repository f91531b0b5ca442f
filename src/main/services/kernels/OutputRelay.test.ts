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

  it('relays a display_data or execute_result over the cap as a placeholder; the full payload stays fetchable', () => {
    const r = new OutputRelay('k1', (e) => out.push(e), { capRichBytes: 1000, dataRateLimit: 0 })
    r.register('m9', 'cellR')
    const big = { 'image/png': 'A'.repeat(5000), 'text/plain': '<Figure>' }
    r.handle({ ...msg('display_data', 'm9', { data: big, metadata: {} }) })
    r.handle({ ...msg('execute_result', 'm9', { data: { 'text/plain': 'small' }, metadata: {}, execution_count: 3 }) })
    r.handle({ ...msg('update_display_data', 'm9', { data: { 'text/html': 'x'.repeat(2000) }, metadata: {}, transient: { display_id: 'd1' } }) })
    const [shown, small, update] = out
    expect(shown.truncated).toBe(true)
    expect(JSON.stringify(shown.content).length).toBeLessThan(500)
    expect(String((shown.content.data as any)['text/plain'])).toMatch(/display of 4\.9 KB \(image\/png, text\/plain\) not shown/)
    expect(shown.content.atelier_full).toEqual({ index: 0, bytes: expect.any(Number) })
    expect(small.truncated).toBeUndefined()
    expect(small.content.data).toEqual({ 'text/plain': 'small' })
    expect(update.truncated).toBe(true)
    expect(update.content.transient).toEqual({ display_id: 'd1' })
    expect(r.fullDisplay('m9', 0).data).toEqual(big)
    expect((r.fullDisplay('m9', 1).data as any)['text/html']).toHaveLength(2000)
    expect(() => r.fullDisplay('m9', 2)).toThrow(/No full output/)
  })

  it('pauses forwarding past the data rate with one notice, keeps the text for fullOutput, resumes when the rate drops', () => {
    let now = 0
    const r = new OutputRelay('k1', (e) => out.push(e), { dataRateLimit: 1000, rateWindowMs: 1000, flushMs: 10, capChars: 1_000_000, now: () => now })
    r.register('m5', 'cellP')
    for (let i = 0; i < 30; i++) {
      r.handle(msg('stream', 'm5', { name: 'stdout', text: 'x'.repeat(99) + '\n' }))
      r.handle(msg('display_data', 'm5', { data: { 'text/plain': 'p' + i }, metadata: {} }))
      now += 10
    }
    vi.advanceTimersByTime(20)
    const notices = out.filter((e) => e.rateLimited)
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatchObject({ cellId: 'cellP', msgType: 'stream', content: { name: 'stderr' } })
    const relayedText = out.filter((e) => e.msgType === 'stream' && !e.rateLimited).map((e) => String(e.content.text)).join('')
    expect(relayedText.length).toBeLessThan(1100)
    expect(out.filter((e) => e.msgType === 'display_data').length).toBeLessThan(11)
    // errors, replies and status are never held back
    r.handle(msg('error', 'm5', { ename: 'E', evalue: 'v', traceback: [] }))
    expect(out.at(-1)?.msgType).toBe('error')
    // two quiet seconds later, output flows again
    now += 2000
    r.handle(msg('display_data', 'm5', { data: { 'text/plain': 'back' }, metadata: {} }))
    expect(out.at(-1)?.content.data).toEqual({ 'text/plain': 'back' })
    r.finish('m5', { status: 'ok' })
    expect(r.fullOutput('m5', 'stdout').totalChars).toBe(30 * 100)
  })

  it('records each cell\'s latest outputs (stream merged, seq increasing) and restores the routing of a running execution from them', () => {
    const r = new OutputRelay('k1', (e) => out.push(e), { flushMs: 5, dataRateLimit: 0 })
    r.register('a1', 'cellX')
    r.handle(msg('execute_input', 'a1', { code: 'x', execution_count: 4 }))
    r.handle(msg('stream', 'a1', { name: 'stdout', text: '1\n' }))
    vi.advanceTimersByTime(5)
    r.handle(msg('stream', 'a1', { name: 'stdout', text: '2\n' }))
    vi.advanceTimersByTime(5)
    r.register('h1', 'hidden', { record: false })
    r.handle(msg('stream', 'h1', { name: 'stdout', text: 'secret' }))
    vi.advanceTimersByTime(5)
    const recs = r.records()
    expect(recs.map((x) => x.cellId)).toEqual(['cellX'])
    expect(recs[0]).toMatchObject({ msgId: 'a1', done: false })
    expect(recs[0].events.map((e) => [e.msgType, e.content.text])).toEqual([
      ['execute_input', undefined],
      ['stream', '1\n2\n']
    ])
    const seqs = out.map((e) => e.seq!)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(r.lastSeq).toBe(seqs.at(-1))
    // a new relay (the app restarted) seeded with the record routes the replayed messages to the cell
    const later: KernelIopubEvent[] = []
    const again = new OutputRelay('k1', (e) => later.push(e), { flushMs: 5, dataRateLimit: 0 })
    again.seed(JSON.parse(JSON.stringify(recs)))
    expect(again.running()).toEqual(['a1'])
    again.handle(msg('stream', 'a1', { name: 'stdout', text: '3\n' }))
    vi.advanceTimersByTime(5)
    again.finish('a1', { status: 'ok', execution_count: 4 })
    expect(later.map((e) => e.cellId)).toEqual(['cellX', 'cellX'])
    expect(later[0].seq).toBeGreaterThan(r.lastSeq - 1)
    const rec = again.records()[0]
    expect(rec.done).toBe(true)
    expect(rec.events.filter((e) => e.msgType === 'stream').map((e) => e.content.text).join('')).toBe('1\n2\n3\n')
    expect(rec.events.at(-1)?.msgType).toBe('execute_reply')
  })

  it('keeps the records of the latest cells only (running ones stay)', () => {
    const r = new OutputRelay('k1', (e) => out.push(e), { recordCells: 2, dataRateLimit: 0 })
    r.register('x1', 'a')
    r.register('x2', 'b')
    r.finish('x2', { status: 'ok' })
    r.register('x3', 'c')
    r.finish('x3', { status: 'ok' })
    r.register('x4', 'd')
    // 'a' still runs: kept; the oldest finished ones go
    expect(r.records().map((x) => x.cellId)).toEqual(['a', 'd'])
    r.finish('x1', { status: 'ok' })
    r.register('x5', 'c')
    expect(r.records().map((x) => x.cellId)).toEqual(['d', 'c'])
  })
})
