/** The Running panel's SageMaker jobs and tuning trials: instances, price per hour, cost so far, stop (AWS fake). */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningItem } from '../../../shared/running'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { createJobsTestCore, type JobsTestCore } from '../jobs/testing'
import { ProcSnapshot } from './procMem'
import { jobProvider } from './providers'

describe('Running panel: SageMaker jobs with their cost', () => {
  let aws: AwsFake
  let s3: S3Fake
  let core: JobsTestCore
  let targetId: string

  beforeAll(async () => {
    aws = await new AwsFake({ stepMs: 200 }).start()
    s3 = await startS3Fake(['atelier-ml'])
    core = await createJobsTestCore({ cloud: { sagemaker: { minPollIntervalMs: 0, minLogIntervalMs: 0 } } })
    writeFileSync(join(core.workspaceDir, 'train.py'), 'print("hi")\n')
    const t = await core.call('jobs.targets.save', {
      target: { name: 'SM eu', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, ...FAKE_CREDENTIALS } }
    })
    targetId = t.id
  })
  afterAll(async () => {
    await core?.cleanup()
    await aws?.stop()
    await s3?.stop()
  })

  const spec = (name: string, sagemaker: Record<string, unknown>) => ({
    name,
    target: { kind: 'sagemaker', targetId },
    entry: { kind: 'script', path: 'train.py' },
    hyperparameters: { epochs: 50 },
    sagemaker
  })

  it('lists an InProgress training job with instance type × count, price per hour and cost so far; Stop calls StopTrainingJob', async () => {
    const job = await core.call('jobs.submit', { spec: spec('sm-costly', { instanceType: 'ml.m5.xlarge', instanceCount: 2 }) })
    const running = await core.waitState(job.id, ['running'])
    const item = ((await core.call('running.list')) as RunningItem[]).find((i) => i.kind === 'job' && i.id === job.id)!
    expect(item.detail).toBe(`sagemaker · ml.m5.xlarge × 2 · SM eu · atelier-${job.id}`)
    // ml.m5.xlarge is 0.23 USD per instance-hour in resources/cloud/sagemaker-prices.json
    expect(item.costPerHour).toBeCloseTo(0.46, 10)
    expect(item.costSoFar).toBeGreaterThanOrEqual(0)

    // half an hour after it started running it has cost half its hourly price
    const halfHourIn = Date.parse(running.startedAt) + 30 * 60_000
    const [later] = (await jobProvider(core.jobs, { now: () => halfHourIn }).list(new ProcSnapshot())).filter((i) => i.id === job.id)
    expect(later.costSoFar).toBeCloseTo(0.23, 10)

    await core.call('running.stop', { kind: 'job', id: job.id })
    expect(aws.callsTo('StopTrainingJob').map((c) => c.body.TrainingJobName)).toContain(`atelier-${job.id}`)
    expect((await core.call('jobs.get', { jobId: job.id })).state).toBe('cancelled')
    expect(((await core.call('running.list')) as RunningItem[]).some((i) => i.id === job.id)).toBe(false)
  })

  it('lists the running trials of a tuning job with their cost, and says when an instance type has no price', async () => {
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: { ...spec('sm-tune', { instanceType: 'ml.g5.xlarge' }), hyperparameters: {}, metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }] },
      sweep: { strategy: 'grid', space: { epochs: { values: [49, 50] } }, concurrency: 2, objective: { metric: 'loss', goal: 'minimize' } }
    })
    const tuning = aws.callsTo('CreateHyperParameterTuningJob').at(-1)!.body.HyperParameterTuningJobName
    let trials: RunningItem[] = []
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      trials = ((await core.call('running.list')) as RunningItem[]).filter((i) => i.kind === 'job' && i.state === 'running' && i.detail?.includes(`of tuning job ${tuning}`))
      if (trials.length === 2) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(trials).toHaveLength(2)
    for (const t of trials) {
      expect(t.detail).toMatch(/^sagemaker · ml\.g5\.xlarge × 1 · SM eu · atl-.* · trial #\d of tuning job /)
      expect(t.costPerHour).toBeCloseTo(1.408, 10)
    }
    await core.call('jobs.sweeps.stop', { sweepId: sweep.id })

    const odd = await core.call('jobs.submit', { spec: spec('sm-unpriced', { instanceType: 'ml.r5.large' }) })
    await core.waitState(odd.id, ['running'])
    const item = ((await core.call('running.list')) as RunningItem[]).find((i) => i.id === odd.id)!
    expect(item.detail).toContain('ml.r5.large × 1 (no price in sagemaker-prices.json)')
    expect([item.costPerHour, item.costSoFar]).toEqual([null, null])
    await core.call('running.stop', { kind: 'job', id: odd.id })
  })
})
