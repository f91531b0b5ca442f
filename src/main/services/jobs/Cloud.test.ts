/** SageMaker and Kubernetes targets through the router (jobs.* RPCs), against the protocol fakes. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { K8sFake } from '../../testing/cloud/k8sFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { allLogLines, createJobsTestCore, type JobsTestCore } from './testing'

describe('cloud job targets through the router', () => {
  let aws: AwsFake
  let s3: S3Fake
  let k8s: K8sFake
  let core: JobsTestCore
  let kubeconfig: string
  let kdir: string

  beforeAll(async () => {
    aws = await new AwsFake({ stepMs: 100 }).start()
    s3 = await startS3Fake(['atelier-ml'])
    k8s = await new K8sFake({ stepMs: 100, namespaces: ['ml'], gpusPerNode: 1, s3Credentials: [FAKE_CREDENTIALS] }).start()
    kdir = mkdtempSync(join(tmpdir(), 'atelier-cloudcfg-'))
    kubeconfig = k8s.writeKubeconfig(join(kdir, 'kubeconfig'), 'ml')
    core = await createJobsTestCore({ cloud: { sagemaker: { minPollIntervalMs: 0, minLogIntervalMs: 0 }, kubernetes: { minLogIntervalMs: 0 } } })
    writeFileSync(join(core.workspaceDir, 'train.py'), 'print("hi")\n')
  })
  afterAll(async () => {
    await core?.cleanup()
    await aws?.stop()
    await s3?.stop()
    await k8s?.stop()
    if (kdir) rmSync(kdir, { recursive: true, force: true })
  })

  it('creates a SageMaker target (keys in the secret store), tests it, runs a job to Completed with its log, metrics and model artifact', async () => {
    const t = await core.call('jobs.targets.save', {
      target: {
        name: 'SM eu',
        kind: 'sagemaker',
        sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', prefix: 'team', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, ...FAKE_CREDENTIALS }
      }
    })
    expect(t).toMatchObject({ kind: 'sagemaker', sagemaker: { region: aws.region, bucket: 'atelier-ml', hasKeys: true } })
    expect(JSON.stringify(t)).not.toContain(FAKE_CREDENTIALS.secretAccessKey)
    // the keys are not in the database
    const stored = core.db.prepare('SELECT config FROM job_cloud_targets WHERE id = ?').get(t.id) as { config: string }
    expect(stored.config).not.toContain(FAKE_CREDENTIALS.secretAccessKey)
    expect(stored.config).not.toContain(FAKE_CREDENTIALS.accessKeyId)
    expect((await core.call('jobs.targets.list')).map((x: { name: string }) => x.name)).toContain('SM eu')

    expect(await core.call('jobs.targets.test', { targetId: t.id })).toMatchObject({ ok: true, message: `Connected to SageMaker in ${aws.region}.` })
    const bad = await core.call('jobs.targets.save', { target: { name: 'SM nobucket', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'missing-bucket', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, ...FAKE_CREDENTIALS } } })
    const badTest = await core.call('jobs.targets.test', { targetId: bad.id })
    expect(badTest.ok).toBe(false)
    expect(badTest.message).toContain('bucket s3://missing-bucket: NotFound')

    const job = await core.call('jobs.submit', {
      spec: {
        name: 'sm-train',
        target: { kind: 'sagemaker', targetId: t.id },
        entry: { kind: 'script', path: 'train.py' },
        hyperparameters: { epochs: 3 },
        metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
        sagemaker: { instanceType: 'ml.m5.large', maxRuntimeSec: 3600 }
      }
    })
    expect(job).toMatchObject({ backend: 'sagemaker', targetId: t.id, targetName: 'SM eu' })
    const states: string[] = []
    const deadline = Date.now() + 30_000
    for (;;) {
      const j = await core.call('jobs.get', { jobId: job.id })
      if (states[states.length - 1] !== j.state) states.push(j.state)
      if (j.state === 'succeeded' || j.state === 'failed' || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(states).toContain('running')
    const done = await core.waitState(job.id, ['succeeded'])
    expect(done.remoteId).toBe(`atelier-${job.id}`)
    expect(done.reason).toBe('Completed')
    const lines = await allLogLines(core, job.id)
    expect(lines.join('\n')).toContain('epoch=3 loss=0.2500')
    expect(done.metrics.loss).toBe(0.25)
    const run = core.tracking.runs.get(done.runId)
    expect(run.info.status).toBe('FINISHED')
    const tags = Object.fromEntries(run.data.tags.map((x: { key: string; value: string }) => [x.key, x.value]))
    expect(tags['atelier.job.model_artifact']).toBe(`s3://atelier-ml/team/output/atelier-${job.id}/output/model.tar.gz`)
    expect(aws.callsTo('CreateTrainingJob')).toHaveLength(1)
    // the form's cost estimate: price table × instances × max runtime
    expect(await core.call('jobs.estimateCost', { spec: { ...done.spec, sagemaker: { instanceType: 'ml.m5.large', instanceCount: 2, maxRuntimeSec: 7200 } } })).toMatchObject({
      instanceType: 'ml.m5.large',
      instanceCount: 2,
      hours: 2,
      maxCost: expect.any(Number)
    })
  })

  it('cancels a SageMaker job and re-attaches to a running one after a restart', async () => {
    const [t] = (await core.call('jobs.targets.list')).filter((x: { name: string }) => x.name === 'SM eu')
    const spec = (name: string, epochs: number) => ({
      name,
      target: { kind: 'sagemaker', targetId: t.id },
      entry: { kind: 'script', path: 'train.py' },
      hyperparameters: { epochs },
      sagemaker: { instanceType: 'ml.m5.large' }
    })
    const long = await core.call('jobs.submit', { spec: spec('sm-long', 200) })
    await core.waitState(long.id, ['running'])
    // the Running panel lists it, and stops it by cancelling the training job
    const item = (await core.call('running.list')).find((i: { kind: string; id: string }) => i.kind === 'job' && i.id === long.id)
    expect(item.detail).toBe(`sagemaker · ml.m5.large × 1 · SM eu · atelier-${long.id}`)
    await core.call('running.stop', { kind: 'job', id: long.id })
    expect((await core.call('jobs.get', { jobId: long.id })).state).toBe('cancelled')
    expect(aws.callsTo('StopTrainingJob').map((c) => c.body.TrainingJobName)).toContain(`atelier-${long.id}`)

    const again = await core.call('jobs.submit', { spec: spec('sm-again', 20) })
    await core.waitState(again.id, ['running'])
    const root = core.root
    await core.close()
    core = await createJobsTestCore({ cloud: { sagemaker: { minPollIntervalMs: 0, minLogIntervalMs: 0 }, kubernetes: { minLogIntervalMs: 0 } } }, { root })
    const done = await core.waitState(again.id, ['succeeded'], 30_000)
    expect(done.remoteId).toBe(`atelier-${again.id}`)
    expect((await allLogLines(core, again.id)).join('\n')).toContain('epoch=20')
  })

  it('runs a sweep on SageMaker as one tuning job whose training jobs are the trials, with SageMaker\'s values, logs and objective', async () => {
    const [t] = (await core.call('jobs.targets.list')).filter((x: { name: string }) => x.name === 'SM eu')
    const before = aws.callsTo('CreateTrainingJob').length
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: {
        name: 'sm-sweep',
        target: { kind: 'sagemaker', targetId: t.id },
        entry: { kind: 'script', path: 'train.py' },
        metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
        sagemaker: { instanceType: 'ml.m5.large' }
      },
      sweep: { strategy: 'grid', space: { epochs: { values: [1, 3] } }, concurrency: 2, objective: { metric: 'loss', goal: 'minimize' } }
    })
    const create = aws.callsTo('CreateHyperParameterTuningJob').at(-1)!.body
    expect(create.HyperParameterTuningJobConfig.Strategy).toBe('Grid')
    expect(create.HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges).toEqual([{ Name: 'epochs', Values: ['1', '3'] }])
    // one definition for every trial: no trial's run id in it
    expect(create.TrainingJobDefinition.Environment.MLFLOW_RUN_ID).toBeUndefined()
    const deadline = Date.now() + 30_000
    let s = sweep
    while (s.state === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      s = await core.call('jobs.sweeps.get', { sweepId: sweep.id })
    }
    expect(s.state).toBe('finished')
    expect(aws.callsTo('CreateTrainingJob').length).toBe(before)
    expect(s.trials.map((x: { state: string }) => x.state)).toEqual(['succeeded', 'succeeded'])
    // the values SageMaker chose (the fake picks categorical values at random), each trial's objective from its own log
    const lossAt: Record<number, number> = { 1: 0.5, 3: 0.25 }
    for (const x of s.trials) expect(x.objective).toBe(lossAt[x.hyperparameters.epochs])
    const best = s.trials[s.bestTrial]
    expect(best.objective).toBe(Math.min(...s.trials.map((x: { objective: number }) => x.objective)))
    const job = await core.call('jobs.get', { jobId: best.jobId })
    expect(job.remoteId).toMatch(/^atl-/)
    const epochs = job.hyperparameters.epochs
    expect(epochs).toBe(best.hyperparameters.epochs)
    expect((await allLogLines(core, best.jobId)).join('\n')).toContain(`epoch=${epochs} loss=${lossAt[epochs].toFixed(4)}`)
    const run = core.tracking.runs.get(job.runId)
    expect(run.data.params.find((p: { key: string }) => p.key === 'epochs')?.value).toBe(String(epochs))
    expect(run.data.tags.find((x: { key: string }) => x.key === 'atelier.job.model_artifact')?.value).toContain(job.remoteId)
  })

  it('keeps a tuning sweep across a restart before SageMaker started its trials', async () => {
    const [t] = (await core.call('jobs.targets.list')).filter((x: { name: string }) => x.name === 'SM eu')
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: { name: 'sm-sweep-restart', target: { kind: 'sagemaker', targetId: t.id }, entry: { kind: 'script', path: 'train.py' }, metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }], sagemaker: { instanceType: 'ml.m5.large' } },
      sweep: { strategy: 'random', maxTrials: 2, space: { epochs: { values: [2] } }, concurrency: 1, objective: { metric: 'loss', goal: 'minimize' } }
    })
    const root = core.root
    await core.close()
    core = await createJobsTestCore({ cloud: { sagemaker: { minPollIntervalMs: 0, minLogIntervalMs: 0 }, kubernetes: { minLogIntervalMs: 0 } } }, { root })
    const deadline = Date.now() + 30_000
    let s = await core.call('jobs.sweeps.get', { sweepId: sweep.id })
    while (s.state === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      s = await core.call('jobs.sweeps.get', { sweepId: sweep.id })
    }
    expect(s.state).toBe('finished')
    expect(s.trials.map((x: { state: string }) => x.state)).toEqual(['succeeded', 'succeeded'])
  })

  it('runs a Kubernetes PyTorchJob with 2 workers, with each pod in the log', async () => {
    const t = await core.call('jobs.targets.save', { target: { name: 'K ml', kind: 'kubernetes', kubernetes: { kubeconfigPath: kubeconfig, namespace: 'ml' } } })
    expect(t).toMatchObject({ kind: 'kubernetes', kubernetes: { kubeconfigPath: kubeconfig, namespace: 'ml' } })
    expect(await core.call('jobs.targets.test', { targetId: t.id })).toMatchObject({ ok: true })
    // the image is required on Kubernetes
    expect((await core.call('jobs.validate', { spec: { name: 'k', target: { kind: 'kubernetes', targetId: t.id }, entry: { kind: 'script', path: 'train.py' } } })).fieldErrors).toEqual([
      { field: 'kubernetes.image', message: 'give the container image the job runs in' }
    ])
    const job = await core.call('jobs.submit', {
      spec: {
        name: 'k-dist',
        target: { kind: 'kubernetes', targetId: t.id },
        entry: { kind: 'script', path: 'train.py' },
        kubernetes: { image: 'pytorch/pytorch', workers: 2 },
        resources: { torchrun: { nprocPerNode: 2 } },
        metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }]
      }
    })
    const done = await core.waitState(job.id, ['succeeded'])
    expect(done.remoteId).toBe(`pytorchjob/atelier-${job.id}`)
    const log = (await allLogLines(core, job.id)).join('\n')
    for (const p of [`atelier-${job.id}-master-0`, `atelier-${job.id}-worker-0`, `atelier-${job.id}-worker-1`]) expect(log).toContain(`[${p}] rank=`)
    expect(k8s.list('pytorchjobs', 'ml').find((x) => x.metadata.name === `atelier-${job.id}`)?.spec.pytorchReplicaSpecs.Worker.replicas).toBe(2)
  })

  it('a Kubernetes target that takes code from S3: its AWS keys in the secret store, the job fetched its code from the bucket', async () => {
    const t = await core.call('jobs.targets.save', {
      target: {
        name: 'K s3',
        kind: 'kubernetes',
        kubernetes: { kubeconfigPath: kubeconfig, namespace: 'ml', codeFrom: 's3', s3: { bucket: 'atelier-ml', prefix: 'k8s', region: aws.region, endpoint: s3.endpoint, ...FAKE_CREDENTIALS } }
      }
    })
    expect(t.kubernetes).toEqual({ kubeconfigPath: kubeconfig, namespace: 'ml', codeFrom: 's3', s3: { bucket: 'atelier-ml', prefix: 'k8s', region: aws.region, endpoint: s3.endpoint } })
    const stored = core.db.prepare('SELECT config FROM job_cloud_targets WHERE id = ?').get(t.id) as { config: string }
    expect(stored.config).not.toContain(FAKE_CREDENTIALS.secretAccessKey)
    expect(stored.config).not.toContain(FAKE_CREDENTIALS.accessKeyId)
    await expect(core.call('jobs.targets.save', { target: { name: 'K bad', kind: 'kubernetes', kubernetes: { kubeconfigPath: kubeconfig, codeFrom: 's3' } } })).rejects.toMatchObject({ code: 'INVALID_SPEC' })
    const job = await core.call('jobs.submit', {
      spec: { name: 'k-s3', target: { kind: 'kubernetes', targetId: t.id }, entry: { kind: 'script', path: 'train.py' }, kubernetes: { image: 'python:3.12' } }
    })
    await core.waitState(job.id, ['succeeded'])
    const fetched = k8s.initFetches.filter((f) => f.pod.startsWith(`atelier-${job.id}-`))
    expect(fetched.map((f) => [f.status, f.error, new URL(f.url).pathname])).toEqual([[200, null, `/atelier-ml/k8s/${job.id}/sourcedir.tar.gz`]])
  })
})
