/**
 * How cloud jobs reach tracking, through the router against the protocol fakes. A SageMaker job
 * (the fake's local container mode runs the script for real) with no tracking URI reachable from
 * SageMaker writes MLflow's file store with the shipped `atelier.tracking` into its output data;
 * the app reads it into the job's run when the job ends, also when the app restarted mid-job, and
 * never twice. A target that names a reachable tracking server hands its jobs that URI, the token
 * from the secret store and the run id; the app's loopback relay is never handed to a cloud job.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { K8sFake } from '../../testing/cloud/k8sFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { allLogLines, createJobsTestCore, type JobsTestCore } from './testing'
import { SageMakerBackend } from './SageMakerBackend'

/** Logs train_loss per epoch with atelier.tracking (whatever MLFLOW_TRACKING_URI says) and saves a model. */
const TRAIN = `import argparse, os, time
from atelier import tracking
p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=3)
p.add_argument('--nap', type=float, default=0)
a = p.parse_args()
print('tracking', os.environ['MLFLOW_TRACKING_URI'], flush=True)
tracking.log_param('optimizer', 'sgd')
for e in range(a.epochs):
    loss = 1.0 / (e + 2)
    tracking.log_metric('train_loss', loss, e)
    print('epoch=%d loss=%.4f' % (e + 1, loss), flush=True)
    time.sleep(a.nap)
open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('weights of %d epochs' % a.epochs)
`

const curve = (n: number) => Array.from({ length: n }, (_, e) => 1 / (e + 2))
const opts = { cloud: { sagemaker: { minPollIntervalMs: 0, minLogIntervalMs: 0 }, kubernetes: { minLogIntervalMs: 0 } }, outputRetryMs: 400 }

describe('cloud jobs and tracking', () => {
  let aws: AwsFake
  let s3: S3Fake
  let k8s: K8sFake
  let kdir: string
  let kubeconfig: string
  let core: JobsTestCore
  let targetId: string

  beforeAll(async () => {
    s3 = await startS3Fake(['atelier-ml'])
    aws = await new AwsFake({ localContainer: { s3Endpoint: s3.endpoint, stopGraceSec: 1 } }).start()
    k8s = await new K8sFake({ stepMs: 100, namespaces: ['ml'] }).start()
    kdir = mkdtempSync(join(tmpdir(), 'atelier-cloudtrk-'))
    kubeconfig = k8s.writeKubeconfig(join(kdir, 'kubeconfig'), 'ml')
    core = await createJobsTestCore(opts)
    writeFileSync(join(core.workspaceDir, 'train.py'), TRAIN)
    const t = await core.call('jobs.targets.save', {
      target: { name: 'SM', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', prefix: 'team', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, ...FAKE_CREDENTIALS } }
    })
    targetId = t.id
    expect(t).toMatchObject({ trackingUri: null, hasTrackingToken: false, cloudTracking: { mode: 'file-at-end' } })
    expect(t.cloudTracking.message).toContain('arrive when the job ends')
  })
  afterAll(async () => {
    await core?.cleanup()
    await aws?.stop()
    await s3?.stop()
    await k8s?.stop()
    if (kdir) rmSync(kdir, { recursive: true, force: true })
  })

  const spec = (name: string, epochs: number, nap = 0) => ({
    name,
    target: { kind: 'sagemaker', targetId },
    entry: { kind: 'script', path: 'train.py' },
    hyperparameters: { epochs, nap },
    metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
    sagemaker: { instanceType: 'ml.m5.large', maxRuntimeSec: 600 }
  })
  const history = (c: JobsTestCore, runId: string, key = 'train_loss') => c.call('tracking.metrics.history', { runId, key, raw: true })

  it('without a reachable tracking URI: the script’s file store comes home in output.tar.gz into the run, and model.tar.gz is what it saved', async () => {
    const job = await core.call('jobs.submit', { spec: spec('sm-file', 5) })
    const create = aws.callsTo('CreateTrainingJob').at(-1)!.body
    // a launcher seeds the store with the run's meta.yaml (so the mlflow client continues MLFLOW_RUN_ID there), then runs train.py
    expect(create.HyperParameters.sagemaker_program).toBe('"_atelier_seed.py"')
    const env = create.Environment
    expect(env).toMatchObject({ MLFLOW_TRACKING_URI: 'file:/opt/ml/output/data/mlruns', MLFLOW_RUN_ID: job.runId, PYTHONPATH: '/opt/ml/code/lib' })
    expect(env.MLFLOW_TRACKING_TOKEN).toBeUndefined()
    // the app's loopback relay is never handed to a cloud job
    expect(JSON.stringify(env)).not.toMatch(/127\.0\.0\.1|localhost/)
    const done = await core.waitState(job.id, ['succeeded'], 60_000)
    expect(done.tracking).toMatchObject({ mode: 'file-at-end' })
    const lines = await allLogLines(core, job.id)
    // (the fake's container folder stands for /opt/ml)
    expect(lines[0]).toMatch(/^tracking file:\/\S+\/output\/data\/mlruns$/)
    expect(lines.slice(1)).toEqual(curve(5).map((l, e) => `epoch=${e + 1} loss=${l.toFixed(4)}`))
    const h = await history(core, job.runId)
    expect(h.steps).toEqual([0, 1, 2, 3, 4])
    expect(h.values).toEqual(curve(5))
    // live values from the metric definition meanwhile, the param from the file store
    expect(done.metrics).toMatchObject({ loss: 0.1667, train_loss: 1 / 6 })
    expect((await core.call('tracking.run.get', { runId: job.runId })).params).toMatchObject({ optimizer: 'sgd', epochs: '5' })
    // reading again adds nothing
    await core.jobs.tick()
    expect((await history(core, job.runId)).total).toBe(5)

    const run = core.tracking.runs.get(done.runId)
    const artifact = run.data.tags.find((t: { key: string }) => t.key === 'atelier.job.model_artifact')!.value
    expect(artifact).toBe(`s3://atelier-ml/team/output/atelier-${job.id}/output/model.tar.gz`)
    const client = new S3Client({ region: aws.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: { ...FAKE_CREDENTIALS } })
    const obj = await client.send(new GetObjectCommand({ Bucket: 'atelier-ml', Key: `team/output/atelier-${job.id}/output/model.tar.gz` }))
    const tgz = join(kdir, 'model.tar.gz')
    writeFileSync(tgz, Buffer.from(await obj.Body!.transformToByteArray()))
    client.destroy()
    expect(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim()).toBe('model.txt')
    expect(execFileSync('tar', ['-xzOf', tgz, 'model.txt'], { encoding: 'utf8' })).toBe('weights of 5 epochs')
    // the output data holds MLflow's file store: the seeded run and the script's points
    const data = await new S3Client({ region: aws.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: { ...FAKE_CREDENTIALS } }).send(
      new GetObjectCommand({ Bucket: 'atelier-ml', Key: `team/output/atelier-${job.id}/output/output.tar.gz` })
    )
    writeFileSync(tgz, Buffer.from(await data.Body!.transformToByteArray()))
    const runDir = `mlruns/${done.experimentId}/${job.runId}`
    expect(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').filter((f) => !f.endsWith('/')).sort()).toEqual(
      [`mlruns/${done.experimentId}/meta.yaml`, `${runDir}/meta.yaml`, `${runDir}/metrics/train_loss`, `${runDir}/params/optimizer`].sort()
    )
    expect(execFileSync('tar', ['-xzOf', tgz, `${runDir}/meta.yaml`], { encoding: 'utf8' })).toContain(`run_id: ${job.runId}`)
  }, 90_000)

  it('a tuning sweep: each trial runs for real, one at a time, and its own file store comes home into its own run', async () => {
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: { ...spec('sm-tune-file', 0), hyperparameters: undefined },
      sweep: { strategy: 'grid', space: { epochs: { values: [2, 4] } }, concurrency: 1, objective: { metric: 'loss', goal: 'minimize' } }
    })
    const create = aws.callsTo('CreateHyperParameterTuningJob').at(-1)!.body
    const env = create.TrainingJobDefinition.Environment
    // one definition for both trials: the experiment, no run; the store is seeded with one run folder to name
    expect(env).toMatchObject({ MLFLOW_TRACKING_URI: 'file:/opt/ml/output/data/mlruns', MLFLOW_EXPERIMENT_ID: expect.any(String) })
    expect(env.MLFLOW_RUN_ID).toBeUndefined()
    expect(create.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs).toBe(1)
    let s = sweep
    for (const deadline = Date.now() + 60_000; s.state === 'running' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200))
      s = await core.call('jobs.sweeps.get', { sweepId: sweep.id })
    }
    expect(s.trials.map((x: { state: string }) => x.state)).toEqual(['succeeded', 'succeeded'])
    const trials = await Promise.all(s.trials.map((x: { jobId: string }) => core.call('jobs.get', { jobId: x.jobId })))
    // one slot: the second training job started after the first had ended
    const sm = new SageMakerClient({ region: aws.region, endpoint: aws.endpoint, credentials: { ...FAKE_CREDENTIALS } })
    const [a, b] = await Promise.all(trials.map((t) => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: t.remoteId }))))
    sm.destroy()
    expect(b.TrainingStartTime!.getTime()).toBeGreaterThanOrEqual(a.TrainingEndTime!.getTime())
    for (const t of trials) {
      const epochs = t.hyperparameters.epochs
      await core.jobs.tick()
      const h = await history(core, t.runId)
      // the trial's own points (2 or 4 epochs) in its own run, and the param it logged
      expect(h.steps).toEqual([...Array(epochs).keys()])
      expect(h.values).toEqual(curve(epochs))
      expect((await core.call('tracking.run.get', { runId: t.runId })).params).toMatchObject({ optimizer: 'sgd', epochs: String(epochs) })
    }
    expect(trials.map((t) => t.hyperparameters.epochs).sort()).toEqual([2, 4])
    // read once
    await core.jobs.tick()
    expect((await history(core, trials[1].runId)).total).toBe(trials[1].hyperparameters.epochs)
  }, 90_000)

  it('has the whole curve when the app was closed mid-job, and reads it only once across restarts', async () => {
    const job = await core.call('jobs.submit', { spec: spec('sm-restart', 8, 0.4) })
    await core.waitState(job.id, ['running'], 30_000)
    for (let i = 0; i < 100 && !(await allLogLines(core, job.id)).some((l) => l.startsWith('epoch=')); i++) await new Promise((r) => setTimeout(r, 100))
    const root = core.root
    await core.close()
    await new Promise((r) => setTimeout(r, 1000))
    core = await createJobsTestCore(opts, { root })
    const done = await core.waitState(job.id, ['succeeded'], 60_000)
    const h = await history(core, done.runId)
    expect(h.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(h.values).toEqual(curve(8))
    await core.close()
    core = await createJobsTestCore(opts, { root })
    await core.jobs.tick()
    expect((await history(core, done.runId)).total).toBe(8)
  }, 90_000)

  it('a failing download of output.tar.gz is tried again later, waiting longer each time, and its curve arrives once it succeeds', async () => {
    const real = SageMakerBackend.prototype.outputData
    const attempts: number[] = []
    const spy = vi.spyOn(SageMakerBackend.prototype, 'outputData').mockImplementation(async function (this: SageMakerBackend, remoteId: string) {
      attempts.push(Date.now())
      if (attempts.length <= 3) throw new Error('Downloading s3://atelier-ml/…/output.tar.gz: AccessDenied')
      return real.call(this, remoteId)
    })
    try {
      const job = await core.call('jobs.submit', { spec: spec('sm-retry', 3) })
      await core.waitState(job.id, ['succeeded'], 60_000)
      for (let i = 0; i < 100 && attempts.length < 4; i++) await new Promise((r) => setTimeout(r, 100))
      // refreshes run every 50–250 ms; the download waited 0.4, 0.8 and 1.6 s between its attempts
      expect(attempts).toHaveLength(4)
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i])
      expect(gaps[0]).toBeGreaterThanOrEqual(400)
      expect(gaps[1]).toBeGreaterThanOrEqual(800)
      expect(gaps[2]).toBeGreaterThanOrEqual(1600)
      // the fourth attempt downloads; its points are stored in the same refresh
      let h = await history(core, job.runId)
      for (let i = 0; i < 50 && h.total < 3; i++) h = await new Promise((r) => setTimeout(r, 100)).then(() => history(core, job.runId))
      expect(h.values).toEqual(curve(3))
      await core.jobs.tick()
      expect(attempts).toHaveLength(4)
    } finally {
      spy.mockRestore()
    }
  }, 90_000)

  it('a target with a reachable tracking URI hands its jobs that URI, the token (kept in the secret store) and the run id', async () => {
    writeFileSync(join(core.workspaceDir, 'plain.py'), 'print("hi")\n')
    // prints what the script sees of the token (its digest), never the token
    writeFileSync(join(core.workspaceDir, 'show_token.py'), 'import hashlib, os\nprint("token sha256", hashlib.sha256(os.environ["MLFLOW_TRACKING_TOKEN"].encode()).hexdigest()[:12])\n')
    const t = await core.call('jobs.targets.save', {
      target: {
        name: 'SM team',
        kind: 'sagemaker',
        trackingUri: 'https://mlflow.team.example',
        trackingToken: 'team-token-123',
        sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, ...FAKE_CREDENTIALS }
      }
    })
    expect(t).toMatchObject({ trackingUri: 'https://mlflow.team.example', hasTrackingToken: true, cloudTracking: { mode: 'uri' } })
    expect(JSON.stringify(t)).not.toContain('team-token-123')
    const stored = core.db.prepare('SELECT config FROM job_cloud_targets WHERE id = ?').get(t.id) as { config: string }
    expect(stored.config).not.toContain('team-token-123')
    const job = await core.call('jobs.submit', { spec: { name: 'sm-uri', target: { kind: 'sagemaker', targetId: t.id }, entry: { kind: 'script', path: 'show_token.py' }, sagemaker: { instanceType: 'ml.m5.large' } } })
    // the token is not in the training job (DescribeTrainingJob shows its Environment): a secret holds it
    const create = aws.callsTo('CreateTrainingJob').at(-1)!.body
    expect(create.Environment).toMatchObject({ MLFLOW_TRACKING_URI: 'https://mlflow.team.example', ATELIER_TRACKING_SECRET: `atelier/tracking/${job.id}`, MLFLOW_RUN_ID: job.runId })
    expect(JSON.stringify(create)).not.toContain('team-token-123')
    expect(aws.secrets.get(`atelier/tracking/${job.id}`)?.value).toBe('team-token-123')
    expect((await core.call('jobs.get', { jobId: job.id })).tracking).toMatchObject({ mode: 'uri' })
    await core.waitState(job.id, ['succeeded'], 60_000)
    // the script saw the token (read from the secret by the launcher), and the secret went with the job
    const digest = createHash('sha256').update('team-token-123').digest('hex').slice(0, 12)
    expect(await allLogLines(core, job.id)).toContain(`token sha256 ${digest}`)
    for (let i = 0; i < 50 && aws.secrets.has(`atelier/tracking/${job.id}`); i++) await new Promise((r) => setTimeout(r, 100))
    expect(aws.secrets.has(`atelier/tracking/${job.id}`)).toBe(false)
    // saved again without a token: the kept one stays; without the URI: the token goes too
    expect(await core.call('jobs.targets.save', { target: { id: t.id, name: 'SM team', kind: 'sagemaker', trackingUri: 'https://mlflow.team.example', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml' } } })).toMatchObject({ hasTrackingToken: true })
    expect(await core.call('jobs.targets.save', { target: { id: t.id, name: 'SM team', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml' } } })).toMatchObject({
      trackingUri: null,
      hasTrackingToken: false,
      cloudTracking: { mode: 'file-at-end' }
    })
  }, 90_000)

  it('Kubernetes: log-regex metrics only without a reachable URI (no tracking address in the pod), the URI and token with one', async () => {
    const plain = await core.call('jobs.targets.save', { target: { name: 'K', kind: 'kubernetes', kubernetes: { kubeconfigPath: kubeconfig, namespace: 'ml' } } })
    expect(plain.cloudTracking).toMatchObject({ mode: 'logs' })
    const a = await core.call('jobs.submit', { spec: { name: 'k-logs', target: { kind: 'kubernetes', targetId: plain.id }, entry: { kind: 'script', path: 'plain.py' }, kubernetes: { image: 'python:3.12' } } })
    const envOf = (name: string) => k8s.list('jobs', 'ml').find((j) => j.metadata.name === name)!.spec.template.spec.containers[0].env as { name: string; value: string }[]
    const names = envOf(`atelier-${a.id}`).map((e) => e.name)
    expect(names).not.toContain('MLFLOW_TRACKING_URI')
    expect(names).not.toContain('MLFLOW_RUN_ID')
    expect((await core.call('jobs.get', { jobId: a.id })).tracking).toMatchObject({ mode: 'logs' })
    const withUri = await core.call('jobs.targets.save', { target: { name: 'K team', kind: 'kubernetes', trackingUri: 'http://mlflow.ml.svc:5000', trackingToken: 'k-token', kubernetes: { kubeconfigPath: kubeconfig, namespace: 'ml' } } })
    const b = await core.call('jobs.submit', { spec: { name: 'k-uri', target: { kind: 'kubernetes', targetId: withUri.id }, entry: { kind: 'script', path: 'plain.py' }, kubernetes: { image: 'python:3.12' } } })
    const name = `atelier-${b.id}`
    expect(Object.fromEntries(envOf(name).map((e) => [e.name, e.value]))).toMatchObject({ MLFLOW_TRACKING_URI: 'http://mlflow.ml.svc:5000', MLFLOW_RUN_ID: b.runId })
    // the token is not in the pod spec: a Secret the Job owns holds it, and the container gets it from there
    expect(JSON.stringify(k8s.list('jobs', 'ml').find((j) => j.metadata.name === name))).not.toContain('k-token')
    expect(envOf(name).find((e) => e.name === 'MLFLOW_TRACKING_TOKEN')).toEqual({ name: 'MLFLOW_TRACKING_TOKEN', valueFrom: { secretKeyRef: { name: `${name}-tracking`, key: 'token' } } })
    const secret = k8s.list('secrets', 'ml').find((x) => x.metadata.name === `${name}-tracking`)!
    const job = k8s.list('jobs', 'ml').find((j) => j.metadata.name === name)!
    expect(secret.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid, blockOwnerDeletion: true }])
    expect(Buffer.from(secret.data.token, 'base64').toString()).toBe('k-token')
    await core.waitState(b.id, ['succeeded'], 30_000)
    const pod = k8s.list('pods', 'ml').find((p) => p.metadata.labels?.['job-name'] === name)!
    expect(k8s.containerEnv('ml', pod.metadata.name)).toMatchObject({ MLFLOW_TRACKING_TOKEN: 'k-token', MLFLOW_TRACKING_URI: 'http://mlflow.ml.svc:5000' })
  }, 60_000)
})
