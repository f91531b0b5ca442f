import { describe, expect, it } from 'vitest'
import type { KernelIopubEvent } from '../../../../shared/api'
import { applyCarriageReturns, reduceOutputs, stripAnsi, toNbformat, updateDisplay, type Output } from './outputs'

const ev = (msgType: KernelIopubEvent['msgType'], content: Record<string, unknown>, extra: Partial<KernelIopubEvent> = {}): KernelIopubEvent => ({
  kernelId: 'k',
  cellId: 'c1',
  parentMsgId: 'm1',
  msgType,
  content,
  ...extra
})

describe('notebook outputs', () => {
  it('strips ANSI colours and applies carriage returns', () => {
    expect(stripAnsi('\x1b[31mred\x1b[0m text')).toBe('red text')
    expect(applyCarriageReturns('progress 1\rprogress 2\rdone\nnext')).toBe('done\nnext')
    expect(applyCarriageReturns('ab\bc')).toBe('ac')
    expect(applyCarriageReturns('a\r\nb')).toBe('a\nb')
  })

  it('coalesces streams of the same name and keeps the truncation marker', () => {
    let r = reduceOutputs([], ev('stream', { name: 'stdout', text: '10%\r' }), false)
    r = reduceOutputs(r.outputs, ev('stream', { name: 'stdout', text: '100%\n' }, { truncated: true }), false)
    expect(r.outputs).toHaveLength(1)
    expect(r.outputs[0].text).toBe('100%\n')
    expect(r.outputs[0]._truncated).toEqual({ msgId: 'm1', name: 'stdout' })
    r = reduceOutputs(r.outputs, ev('stream', { name: 'stderr', text: 'warn' }), false)
    expect(r.outputs).toHaveLength(2)
    expect(toNbformat(r.outputs[0])).not.toHaveProperty('_truncated')
  })

  it('clear_output(wait=True) clears on the next output only', () => {
    const first = reduceOutputs([], ev('stream', { name: 'stdout', text: 'tick 0\n' }), false)
    const waiting = reduceOutputs(first.outputs, ev('clear_output', { wait: true }), false)
    expect(waiting.outputs).toHaveLength(1)
    expect(waiting.pendingClear).toBe(true)
    const next = reduceOutputs(waiting.outputs, ev('stream', { name: 'stdout', text: 'tick 1\n' }), waiting.pendingClear)
    expect(next.outputs.map((o) => o.text)).toEqual(['tick 1\n'])
    expect(reduceOutputs(next.outputs, ev('clear_output', { wait: false }), false).outputs).toEqual([])
  })

  it('update_display_data replaces the bundle with the same display id', () => {
    const r = reduceOutputs([], ev('display_data', { data: { 'text/plain': "'one'" }, metadata: {}, transient: { display_id: 'd1' } }), false)
    const updated = updateDisplay(r.outputs as Output[], 'd1', { data: { 'text/plain': "'two'" }, metadata: {} })
    expect(updated?.[0].data).toEqual({ 'text/plain': "'two'" })
    expect(updateDisplay(r.outputs, 'other', { data: {} })).toBeNull()
  })
})

describe('a rich output over the relay cap', () => {
  it('keeps where its full payload is, and does not save that marker', () => {
    const big: KernelIopubEvent = {
      kernelId: 'k',
      cellId: 'c',
      parentMsgId: 'm1',
      msgType: 'display_data',
      content: { data: { 'text/plain': '[display of 9.0 MB not shown]' }, metadata: {}, atelier_full: { index: 2, bytes: 9_437_184 } },
      truncated: true
    }
    const { outputs } = reduceOutputs([], big, false)
    expect(outputs[0]._full).toEqual({ msgId: 'm1', index: 2, bytes: 9_437_184 })
    expect(toNbformat(outputs[0])).toEqual({ output_type: 'display_data', data: { 'text/plain': '[display of 9.0 MB not shown]' }, metadata: {} })
  })
})
