import { describe, expect, it } from 'vitest'
import type { JobInfo } from '../../../../shared/jobs'
import { bestTrialIndex, filterJobs, formatDuration, jobDurationMs } from './format'
import { extendMatches, findMatches, highlight, LogBuffer, visibleRange } from './logBuffer'

describe('log buffer', () => {
  it('appends in order, ignores overlaps and reports gaps', () => {
    const b = new LogBuffer()
    expect(b.apply(0, ['a', 'b'])).toBe(true)
    expect(b.apply(1, ['b', 'c'])).toBe(true)
    expect(b.lines).toEqual(['a', 'b', 'c'])
    expect(b.apply(0, ['a'])).toBe(false)
    // an event from the future: held back, the gap is reported
    expect(b.apply(5, ['f'])).toBe(false)
    expect(b.missing()).toEqual({ fromLine: 3, count: 3 })
    b.apply(3, ['d', 'e', 'f'])
    expect(b.lines).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(b.missing()).toBeNull()
  })

  it('searches 100k lines quickly and extends matches as lines arrive', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `epoch=${i} loss=${(1 / (i + 1)).toFixed(6)}${i % 1000 === 0 ? ' CHECKPOINT' : ''}`)
    const t0 = performance.now()
    const m = findMatches(lines, 'checkpoint')
    const ms = performance.now() - t0
    expect(m.length).toBe(100)
    expect(m[1]).toBe(1000)
    expect(ms).toBeLessThan(200)
    lines.push('new CHECKPOINT line')
    expect(extendMatches(m, lines, 100_000, 'checkpoint').at(-1)).toBe(100_000)
    expect(findMatches(lines, '')).toEqual([])
  })

  it('highlights every case-insensitive hit', () => {
    expect(highlight('Loss loss', 'LOSS')).toEqual([
      { text: 'Loss', hit: true },
      { text: ' ', hit: false },
      { text: 'loss', hit: true }
    ])
    expect(highlight('', 'x')).toEqual([{ text: '', hit: false }])
  })

  it('renders only the visible window', () => {
    expect(visibleRange(0, 400, 18, 100_000, 10)).toEqual([0, 33])
    expect(visibleRange(18 * 50_000, 400, 18, 100_000, 10)).toEqual([49_990, 50_033])
    expect(visibleRange(0, 400, 18, 5)).toEqual([0, 5])
  })
})

describe('job formatting', () => {
  const job = (over: Partial<JobInfo>): JobInfo => ({
    id: 'j',
    name: 'n',
    backend: 'local',
    targetId: null,
    targetName: 'Local',
    remoteId: null,
    state: 'running',
    exitCode: null,
    reason: null,
    submittedAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    endedAt: null,
    runId: null,
    experimentId: null,
    sweepId: null,
    trialIndex: null,
    hyperparameters: {},
    ...over
  })

  it('formats durations, live for running jobs', () => {
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(7_000)).toBe('0:07')
    expect(formatDuration(3_723_000)).toBe('1:02:03')
    const start = Date.parse('2026-01-01T00:00:10.000Z')
    expect(jobDurationMs(job({ startedAt: '2026-01-01T00:00:10.000Z' }), start + 5_000)).toBe(5_000)
    expect(jobDurationMs(job({ state: 'succeeded', startedAt: '2026-01-01T00:00:10.000Z', endedAt: '2026-01-01T00:01:10.000Z' }), start + 1e9)).toBe(60_000)
    expect(jobDurationMs(job({ state: 'queued' }), start)).toBeNull()
  })

  it('filters by state, newest first', () => {
    const jobs = [
      job({ id: 'a', state: 'succeeded', submittedAt: '2026-01-01T00:00:01Z' }),
      job({ id: 'b', state: 'running', submittedAt: '2026-01-01T00:00:03Z' }),
      job({ id: 'c', state: 'queued', submittedAt: '2026-01-01T00:00:02Z' })
    ]
    expect(filterJobs(jobs, 'all').map((j) => j.id)).toEqual(['b', 'c', 'a'])
    expect(filterJobs(jobs, 'active').map((j) => j.id)).toEqual(['b', 'c'])
    expect(filterJobs(jobs, 'succeeded').map((j) => j.id)).toEqual(['a'])
  })

  it('finds the best trial for the goal', () => {
    const trials = [
      { index: 0, hyperparameters: {}, jobId: 'a', state: 'succeeded' as const, objective: 0.5 },
      { index: 1, hyperparameters: {}, jobId: 'b', state: 'succeeded' as const, objective: 0.2 },
      { index: 2, hyperparameters: {}, jobId: null, state: 'pending' as const, objective: null }
    ]
    expect(bestTrialIndex(trials, 'minimize')).toBe(1)
    expect(bestTrialIndex(trials, 'maximize')).toBe(0)
    expect(bestTrialIndex([], 'minimize')).toBeNull()
  })
})
