import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createJobsTestCore, type JobsTestCore } from './testing'

const PY = '/usr/bin/python3'

describe.skipIf(!existsSync(PY))('sweeps on this machine (throttled jobs)', () => {
  let core: JobsTestCore
  beforeAll(async () => {
    core = await createJobsTestCore({ localConcurrency: 4 })
    writeFileSync(join(core.workspaceDir, 'trial.py'), 'import os, time\nx = float(os.environ["HP_X"])\ntime.sleep(float(os.environ.get("NAP", "0.3")))\nprint(f"score={(x - 2) ** 2}")\n')
  }, 60_000)
  afterAll(async () => core?.cleanup())

  const spec = (vars: Record<string, string> = {}) => ({
    name: 'sweep',
    target: { kind: 'local' },
    entry: { kind: 'script', path: 'trial.py' },
    env: { python: PY, vars },
    metricDefinitions: [{ name: 'score', regex: 'score=([0-9.]+)' }]
  })

  it('runs a grid as jobs at most `concurrency` at a time and picks the best trial', async () => {
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: spec(),
      sweep: { strategy: 'grid', space: { x: { values: [0, 1, 2, 3] } }, concurrency: 2, objective: { metric: 'score', goal: 'minimize' } }
    })
    expect(sweep.trials.map((t: any) => t.jobId !== null)).toEqual([true, true, false, false])
    expect(sweep.trials.slice(2).map((t: any) => t.state)).toEqual(['pending', 'pending'])
    const deadline = Date.now() + 40_000
    let maxActive = 0
    let s = sweep
    while (s.state === 'running' && Date.now() < deadline) {
      const active = s.trials.filter((t: any) => ['queued', 'starting', 'running'].includes(t.state)).length
      maxActive = Math.max(maxActive, active)
      await new Promise((r) => setTimeout(r, 100))
      s = await core.call('jobs.sweeps.get', { sweepId: sweep.id })
    }
    expect(s).toMatchObject({ state: 'finished', done: 4, trialCount: 4, bestTrial: 2 })
    expect(maxActive).toBeLessThanOrEqual(2)
    expect(s.trials.map((t: any) => t.objective)).toEqual([4, 1, 0, 1])
    expect(s.trials.every((t: any) => t.state === 'succeeded')).toBe(true)
    const list = await core.call('jobs.sweeps.list', {})
    expect(list.find((x: any) => x.id === sweep.id)).toMatchObject({ state: 'finished', bestTrial: 2 })
  })

  it('stops early: unfinished trials are cancelled and the rest never start', async () => {
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: spec({ NAP: '60' }),
      sweep: { strategy: 'random', seed: 1, maxTrials: 5, space: { x: { min: 0, max: 4 } }, concurrency: 2 }
    })
    const first = sweep.trials[0].jobId
    await core.waitState(first, ['running'])
    const stopped = await core.call('jobs.sweeps.stop', { sweepId: sweep.id })
    expect(stopped.state).toBe('stopped')
    expect(stopped.trials.slice(0, 2).map((t: any) => t.state)).toEqual(['cancelled', 'cancelled'])
    expect(stopped.trials.slice(2).every((t: any) => t.jobId === null && t.state === 'cancelled')).toBe(true)
    await new Promise((r) => setTimeout(r, 600))
    expect((await core.call('jobs.list', { sweepId: sweep.id })).length).toBe(2)
  })
})
