import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createJobsTestCore, type JobsTestCore } from './testing'

/**
 * "Slurm on this machine" where Slurm is not configured: the target says so before anything is
 * created, and a submit is refused with the tool's own words, leaving no job, sweep or run behind.
 */
describe('a Slurm target that cannot work here', () => {
  let core: JobsTestCore
  beforeAll(async () => {
    core = await createJobsTestCore({ slurmEnv: { SLURM_CONF: '/nonexistent/atelier-test/slurm.conf' } })
  }, 60_000)
  afterAll(async () => core?.cleanup())

  const spec = { name: 'train', target: { kind: 'slurm' }, entry: { kind: 'command', command: 'echo hi' } }

  it('is marked unavailable, with the verbatim reason, and cached', async () => {
    const a = (await core.call('jobs.targets.availability', {})).slurmHere
    expect(a.ok).toBe(false)
    expect(a.message).toMatch(/^Slurm is not usable on this machine: /)
    expect(a.detail).toBeTruthy()
    expect(a.message.slice('Slurm is not usable on this machine: '.length)).not.toBe('')
    expect(a.detail).toContain(a.message.slice('Slurm is not usable on this machine: '.length))
    // cached: the same answer without a second probe
    const again = (await core.call('jobs.targets.availability', {})).slurmHere
    expect(again).toEqual(a)
  })

  it('validation names the target as the problem', async () => {
    const { fieldErrors } = await core.call('jobs.validate', { spec })
    expect(fieldErrors).toContainEqual({ field: 'target', message: expect.stringMatching(/^Slurm is not usable on this machine/) })
    // a local job is fine
    expect((await core.call('jobs.validate', { spec: { ...spec, target: { kind: 'local' } } })).fieldErrors).toEqual([])
  })

  it('a submit is refused before anything is created: no job, no sweep, no run', async () => {
    const err = await core.call('jobs.submit', { spec }).catch((e) => e)
    expect(err.code).toBe('TARGET_UNAVAILABLE')
    expect(err.message).toMatch(/^Slurm is not usable on this machine: /)
    expect(err.details.detail).toBeTruthy()
    const sweepErr = await core.call('jobs.sweeps.submit', { spec, sweep: { strategy: 'grid', space: { lr: { values: [1, 2] } } } }).catch((e) => e)
    expect(sweepErr.code).toBe('TARGET_UNAVAILABLE')
    expect(await core.call('jobs.list', {})).toEqual([])
    expect(await core.call('jobs.sweeps.list', {})).toEqual([])
    const exps = await core.call('tracking.experiments.list', {})
    expect(exps.reduce((n: number, e: { runCount: number }) => n + e.runCount, 0)).toBe(0)
    expect(core.seen.filter((e) => e.name === 'job.status')).toEqual([])
  })
})
