import { describe, expect, it } from 'vitest'
import { quitAnswer, quitPolicy, type QuitInput } from './quitPolicy'

const base: QuitInput = {
  lifetime: { lifetime: 'stop-with-app', idleHours: 12 },
  askOnQuit: true,
  serverRunning: true,
  kernels: [
    { kernelId: 'aaaaaaaa-1', path: '/ws/sub/train.ipynb', status: 'busy' },
    { kernelId: 'bbbbbbbb-2', path: '/ws/eda.ipynb', status: 'idle' }
  ],
  workspace: '/ws'
}

describe('what the desktop app does with the local server at quit', () => {
  it('asks when the server stops with the app and kernels live, listing them by notebook and state', () => {
    const d = quitPolicy(base)
    expect(d.action).toBe('ask')
    if (d.action !== 'ask') return
    expect(d.question.message).toBe('Keep 2 kernels running?')
    expect(d.question.buttons).toEqual(['Keep running', 'Stop kernels', 'Cancel'])
    expect(d.question.checkboxLabel).toBe('Remember my choice')
    expect(d.question.detail.split('\n').slice(0, 2)).toEqual(['• sub/train.ipynb (busy)', '• eda.ipynb (idle)'])
    expect(d.question.detail).toMatch(/A cell is still running\./)
    expect(d.question.detail).toMatch(/idle for 12 hours is stopped/)
  })

  it('one kernel, without a notebook or outside the workspace', () => {
    const d = quitPolicy({ ...base, kernels: [{ kernelId: '0123456789', path: null, status: 'idle' }] })
    expect(d.action === 'ask' && d.question.message).toBe('Keep 1 kernel running?')
    expect(d.action === 'ask' && d.question.detail.split('\n')[0]).toBe('• kernel 01234567 (idle)')
    expect(d.action === 'ask' && d.question.detail).not.toMatch(/still running/)
    const out = quitPolicy({ ...base, kernels: [{ kernelId: 'k', path: '/elsewhere/x.ipynb', status: 'idle' }] })
    expect(out.action === 'ask' && out.question.detail.split('\n')[0]).toBe('• x.ipynb (idle)')
  })

  it('keeps without asking when the server is set to keep running', () => {
    expect(quitPolicy({ ...base, lifetime: { lifetime: 'keep-running', idleHours: 2 } })).toEqual({ action: 'keep' })
  })

  it('stops without asking when no kernel lives, the choice was remembered, or no server runs', () => {
    expect(quitPolicy({ ...base, kernels: [] })).toEqual({ action: 'stop' })
    expect(quitPolicy({ ...base, kernels: [{ kernelId: 'k', path: null, status: 'dead' }] })).toEqual({ action: 'stop' })
    expect(quitPolicy({ ...base, askOnQuit: false })).toEqual({ action: 'stop' })
    expect(quitPolicy({ ...base, serverRunning: false })).toEqual({ action: 'stop' })
  })

  it('maps the buttons to keep, stop and cancel', () => {
    expect([0, 1, 2, -1].map(quitAnswer)).toEqual(['keep', 'stop', 'cancel', 'cancel'])
  })
})
