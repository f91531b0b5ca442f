/** SageMakerBackend against the loopback SageMaker / CloudWatch Logs / S3 fakes (which boto3 checks in their own tests). */
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobSpec } from '../../../shared/jobs'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { estimateCost, imageUri, SageMakerBackend, THROTTLED, trainingJobName } from './SageMakerBackend'
import { sourceFiles } from './spec'
import type { JobRef, PreparedJob } from './types'

const until = async <T>(f: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('SageMakerBackend against the fakes', () => {
  let aws: AwsFake
  let s3: S3Fake
  let src: string
  const EXPIRED = { accessKeyId: 'ASIAFAKEEXPIRED00001', secretAccessKey: 'expired/secret', sessionToken: 'expired-session-token' }
  beforeAll(async () => {
    aws = await new AwsFake({ stepMs: 120, credentials: [FAKE_CREDENTIALS, EXPIRED] }).start()
    aws.expiredSessionTokens.add(EXPIRED.sessionToken)
    s3 = await startS3Fake(['atelier-ml'])
    src = mkdtempSync(join(tmpdir(), 'atelier-smsrc-'))
    writeFileSync(join(src, 'train.py'), 'print("hi")\n')
    writeFileSync(join(src, '.gitignore'), 'data/\n')
    mkdirSync(join(src, 'data'))
    writeFileSync(join(src, 'data', 'big.csv'), 'x\n')
    execFileSync('git', ['init', '-q', src])
  })
  afterAll(async () => {
    await aws?.stop()
    await s3?.stop()
    if (src) rmSync(src, { recursive: true, force: true })
  })

  const backend = (over: Partial<ConstructorParameters<typeof SageMakerBackend>[0]> = {}) =>
    new SageMakerBackend({
      region: aws.region,
      roleArn: FAKE_ROLE,
      bucket: 'atelier-ml',
      prefix: 'team/jobs',
      endpoint: aws.endpoint,
      s3Endpoint: s3.endpoint,
      credentials: FAKE_CREDENTIALS,
      minPollIntervalMs: 0,
      minLogIntervalMs: 0,
      ...over
    })

  const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
    name: 'sm job',
    target: { kind: 'local' },
    entry: { kind: 'script', path: 'train.py' },
    hyperparameters: { epochs: 3, lr: 0.1 },
    metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
    sagemaker: { framework: 'sklearn', instanceType: 'ml.m5.large', instanceCount: 2, maxRuntimeSec: 3600 },
    ...over
  })

  const prepared = async (jobId: string, s = spec()): Promise<PreparedJob> => ({
    folderId: jobId,
    name: s.name,
    spec: s,
    sourceDir: src,
    files: await sourceFiles(src),
    generated: {},
    env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' },
    tasks: [{ jobId, env: { MLFLOW_RUN_ID: 'run-' + jobId }, command: 'python train.py', hyperparameters: (s.hyperparameters ?? {}) as Record<string, string | number | boolean> }]
  })
  const ref = (id: string, remoteId: string): JobRef => ({ id, remoteId, workDir: null, logPath: null, extra: {} })

  it('packs the source (honouring .gitignore), submits once, follows InProgress → Completed with per-host logs and metrics', async () => {
    const b = backend()
    const job = await prepared('job-1')
    const sub = await b.submit(job)
    expect(sub.remoteIds).toEqual([trainingJobName('job-1')])
    // the uploaded tarball holds train.py and .gitignore, not the ignored data/
    const obj = await b.s3.send(new GetObjectCommand({ Bucket: 'atelier-ml', Key: 'team/jobs/job-1/sourcedir.tar.gz' }))
    const tgz = join(src, '..', 'sm-check.tgz')
    writeFileSync(tgz, Buffer.from(await obj.Body!.transformToByteArray()))
    expect(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual(['.gitignore', 'train.py'])
    rmSync(tgz)
    const create = aws.callsTo('CreateTrainingJob')[0].body
    expect(create.HyperParameters.sagemaker_program).toBe('"train.py"')
    expect(create.HyperParameters.sagemaker_submit_directory).toBe('"s3://atelier-ml/team/jobs/job-1/sourcedir.tar.gz"')
    expect(create.HyperParameters.epochs).toBe('3')
    expect(create.Environment).toEqual({ ATELIER_JOB_ID: 'job-1', MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', MLFLOW_RUN_ID: 'run-job-1' })
    expect(create.AlgorithmSpecification.TrainingImage).toBe('141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3')
    expect(create.AlgorithmSpecification.MetricDefinitions).toEqual([{ Name: 'loss', Regex: 'loss=([0-9.]+)' }])

    // submitting the same job again (a retry after a lost answer) starts nothing new
    await b.submit(job)
    expect(aws.jobNames().filter((n) => n === trainingJobName('job-1'))).toHaveLength(1)
    // a different job that would get the same name is refused in AWS's words, not mistaken for ours
    await expect(b.submit({ ...job, tasks: [{ ...job.tasks[0], jobId: 'JOB-1' }] })).rejects.toMatchObject({
      message: expect.stringContaining('CreateTrainingJob: ResourceInUse: Training job names must be unique')
    })

    const r = ref('job-1', sub.remoteIds[0])
    const seen: string[] = []
    await until(async () => {
      const u = (await b.poll([r])).get('job-1')!
      const s = `${u.state}/${u.reason}`
      if (seen[seen.length - 1] !== s) seen.push(s)
      return u.state === 'succeeded'
    })
    // the phases come in SageMaker's order (how many are seen depends on how fast the retries above went)
    const order = ['running/Starting', 'running/Downloading', 'running/Training', 'running/Uploading', 'succeeded/Completed']
    expect(seen.every((x) => order.includes(x)), seen.join(' → ')).toBe(true)
    expect(seen.map((x) => order.indexOf(x))).toEqual([...seen.map((x) => order.indexOf(x))].sort((a, b) => a - b))
    expect(seen).toContain('running/Training')
    expect(seen[seen.length - 1]).toBe('succeeded/Completed')
    const log = (await b.readLog(r, 0, 1 << 20)).toString()
    expect(log).toContain('[algo-1] [host algo-1] epoch=3 loss=0.2500 accuracy=0.8000')
    expect(log).toContain('[algo-2] [host algo-2] epoch=1 loss=0.5000')
    expect(await b.modelArtifact(sub.remoteIds[0])).toBe('s3://atelier-ml/team/jobs/output/atelier-job-1/output/model.tar.gz')
    await b.dispose()
  })

  it('shows a failure reason verbatim, and stops a running job', async () => {
    const b = backend()
    const failing = await prepared('job-fail', spec({ hyperparameters: { epochs: 1, fake_fail_with: 'AlgorithmError: ExecuteUserScriptError: Command "/usr/bin/python3 train.py" exited 1' } }))
    const f = await b.submit(failing)
    const u = await until(async () => {
      const x = (await b.poll([ref('job-fail', f.remoteIds[0])])).get('job-fail')!
      return x.state === 'failed' ? x : null
    })
    expect(u.reason).toBe('AlgorithmError: ExecuteUserScriptError: Command "/usr/bin/python3 train.py" exited 1')
    const s = await b.submit(await prepared('job-stop', spec({ hyperparameters: { epochs: 20 } })))
    await b.cancel([ref('job-stop', s.remoteIds[0])])
    const st = await until(async () => {
      const x = (await b.poll([ref('job-stop', s.remoteIds[0])])).get('job-stop')!
      return x.state === 'cancelled' ? x : null
    })
    expect(st.reason).toBe('Stopped')
    await b.dispose()
  })

  it('reads a job\'s last log lines once it ended, even inside the log rate limit', async () => {
    // one log read a minute: the read while it runs is the only one the limit allows before it ends
    const b = backend({ minLogIntervalMs: 60_000 })
    const s = await b.submit(await prepared('job-lastlines', spec({ hyperparameters: { epochs: 4 }, sagemaker: { framework: 'sklearn', instanceType: 'ml.m5.large', instanceCount: 1, maxRuntimeSec: 3600 } })))
    const r = ref('job-lastlines', s.remoteIds[0])
    await until(async () => ((await b.poll([r])).get('job-lastlines')!.reason === 'Training' ? true : null))
    const early = (await b.readLog(r, 0, 1 << 20)).toString()
    expect(early).not.toContain('epoch=4')
    await until(async () => ((await b.poll([r])).get('job-lastlines')!.state === 'succeeded' ? true : null))
    const from = Buffer.byteLength(early)
    // inside the limit a plain read gets nothing new; the read after the end gets the rest
    expect((await b.readLog(r, from, 1 << 20)).length).toBe(0)
    expect((await b.readLog(r, from, 1 << 20, { final: true })).toString()).toContain('epoch=4')
    await b.dispose()
  })

  it('absorbs a ThrottlingException storm as a delay', async () => {
    const b = backend()
    aws.throttle(4)
    const t0 = Date.now()
    const m = await b.poll([ref('job-1', trainingJobName('job-1'))])
    expect(m.get('job-1')!.state).toBe('succeeded')
    expect(Date.now() - t0).toBeGreaterThan(100)
    await b.dispose()
  })

  it('says a running job is delayed by throttling while its status calls are throttled, then goes back to its status', async () => {
    // one client per phase: the adaptive retry mode slows a client's later calls after throttling
    const b = backend({ maxAttempts: 2 })
    const s = await b.submit(await prepared('job-slow', spec({ hyperparameters: { epochs: 50 } })))
    const r = ref('job-slow', s.remoteIds[0])
    await until(async () => ((await b.poll([r])).get('job-slow')!.state === 'running' ? true : null))
    // more throttling than the retries absorb: the last known state, not an error
    aws.throttle(2, 'ListTrainingJobs')
    expect((await b.poll([r])).get('job-slow')).toMatchObject({ state: 'running', reason: THROTTLED })
    // absorbed by one retry: still late, still said
    const b2 = backend({ maxAttempts: 2 })
    aws.throttle(1, 'ListTrainingJobs')
    expect((await b2.poll([r])).get('job-slow')).toMatchObject({ state: 'running', reason: THROTTLED })
    const b3 = backend()
    const back = (await b3.poll([r])).get('job-slow')!
    expect(['running', 'succeeded']).toContain(back.state)
    expect(back.reason).not.toBe(THROTTLED)
    await b3.cancel([r])
    for (const x of [b, b2, b3]) await x.dispose()
  })

  it("shows ResourceLimitExceeded, expired credentials and a role SageMaker cannot assume in AWS's words; nothing is created", async () => {
    const b = backend()
    const before = aws.jobNames().length
    aws.failNextCreateWithResourceLimit('ml.p3.2xlarge')
    const quota = await prepared('job-quota', spec({ sagemaker: { instanceType: 'ml.p3.2xlarge' } }))
    quota.env = { ...quota.env, MLFLOW_TRACKING_TOKEN: 'quota-token' }
    await expect(b.submit(quota)).rejects.toMatchObject({
      code: 'CLOUD_ERROR',
      message: expect.stringContaining("CreateTrainingJob: ResourceLimitExceeded: The account-level service limit 'ml.p3.2xlarge for training job usage' is 0 Instances"),
      details: expect.objectContaining({ code: 'ResourceLimitExceeded', hint: expect.stringContaining('Service Quotas') })
    })
    // the token's secret, made before CreateTrainingJob, does not outlive the refusal
    expect(aws.secrets.has('atelier/tracking/job-quota')).toBe(false)
    expect(aws.callsTo('CreateSecret').some((c) => c.body.Name === 'atelier/tracking/job-quota')).toBe(true)
    const noRole = backend({ roleArn: 'arn:aws:iam::123456789012:role/Missing' })
    await expect(noRole.submit(await prepared('job-role'))).rejects.toMatchObject({
      message: expect.stringContaining('ValidationException: Could not assume role arn:aws:iam::123456789012:role/Missing')
    })
    const expired = backend({ credentials: EXPIRED })
    await expect(expired.poll([ref('x', 'atelier-x')])).rejects.toMatchObject({
      message: 'ListTrainingJobs: ExpiredTokenException: The security token included in the request is expired',
      details: expect.objectContaining({ hint: expect.stringContaining('Refresh the credentials') })
    })
    expect(aws.jobNames().length).toBe(before)
    const t = await expired.test()
    expect(t.ok).toBe(false)
    expect(t.problems[0]).toContain('ExpiredTokenException: The security token included in the request is expired')
    expect((await b.test()).ok).toBe(true)
    const noBucket = await backend({ bucket: 'nope-bucket' }).test()
    expect(noBucket.problems).toEqual(['bucket s3://nope-bucket: NotFound: the bucket does not exist'])
    for (const x of [b, noRole, expired]) await x.dispose()
  })

  it('refreshes 500 tracked jobs with a few paged ListTrainingJobs calls, well under 2 s', async () => {
    const b = backend()
    const refs: JobRef[] = []
    const job = await prepared('bulk')
    const lists = aws.callsTo('ListTrainingJobs').length
    // created straight through the SDK: the point is the refresh, not 500 uploads
    for (let i = 0; i < 500; i++) {
      const req = b.request({ ...job, tasks: [{ ...job.tasks[0], jobId: `bulk-${i}` }] }, 0, 's3://atelier-ml/x.tar.gz', 'train.py')
      await b.sm.send(new (await import('@aws-sdk/client-sagemaker')).CreateTrainingJobCommand(req))
      refs.push(ref(`bulk-${i}`, req.TrainingJobName!))
    }
    const t0 = Date.now()
    b.pollCalls = 0
    const m = await b.poll(refs)
    const ms = Date.now() - t0
    expect(m.size).toBe(500)
    expect(b.pollCalls).toBeLessThanOrEqual(Math.ceil(aws.jobNames().length / 100))
    expect(aws.callsTo('ListTrainingJobs').length - lists).toBe(b.pollCalls)
    expect(ms).toBeLessThan(2000)
    await b.dispose()
  })

  it('runs a sweep as a tuning job whose 4 training jobs are its trials, each with its log', async () => {
    const b = backend()
    const job = await prepared('sweep-1', spec({ hyperparameters: { epochs: 2 } }))
    job.env = { ...job.env, MLFLOW_TRACKING_TOKEN: 'sweep-token' }
    const { tuningJobName } = await b.submitSweep(job, 'sweep-1', {
      strategy: 'random',
      space: { lr: { min: 0.01, max: 1, log: true }, batch: { values: [16, 32] } },
      maxTrials: 4,
      concurrency: 2,
      objective: { metric: 'loss', goal: 'minimize' }
    })
    const create = aws.callsTo('CreateHyperParameterTuningJob')[0].body
    expect(create.HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges).toEqual([{ Name: 'lr', MinValue: '0.01', MaxValue: '1', ScalingType: 'Logarithmic' }])
    expect(create.HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges).toEqual([{ Name: 'batch', Values: ['16', '32'] }])
    // one secret for the sweep's token; its trials' launcher reads it, the definition only names it
    expect(create.TrainingJobDefinition.StaticHyperParameters.sagemaker_program).toBe('"_atelier_seed.py"')
    expect(create.TrainingJobDefinition.Environment.ATELIER_TRACKING_SECRET).toBe('atelier/tracking/sweep-1')
    expect(JSON.stringify(create)).not.toContain('sweep-token')
    expect(aws.secrets.get('atelier/tracking/sweep-1')?.value).toBe('sweep-token')
    const st = await until(async () => {
      const x = await b.sweepStatus(tuningJobName)
      return x.status === 'Completed' ? x : null
    })
    expect(st.trials).toHaveLength(4)
    // the status that saw the tuning job end deleted the secret
    expect(aws.secrets.has('atelier/tracking/sweep-1')).toBe(false)
    expect(st.trials.every((t) => t.state === 'succeeded' && t.objective !== null && t.hyperparameters.lr !== undefined)).toBe(true)
    const best = [...st.trials].sort((a, b2) => a.objective! - b2.objective!)[0]
    expect(st.best).toBe(best.trainingJobName)
    const log = (await b.readLog(ref('trial-0', st.trials[0].trainingJobName), 0, 1 << 20)).toString()
    expect(log).toContain('epoch=2 loss=')
    await expect(b.submitSweep(job, 'sweep-2', { strategy: 'random', space: { lr: { min: 0, max: 1 } }, objective: { metric: 'accuracy', goal: 'maximize' } })).rejects.toMatchObject({
      code: 'INVALID_SPEC',
      message: expect.stringContaining("add a metric definition (regex) for it")
    })
    await b.dispose()
  })

  it('estimates cost from the shipped price table and resolves framework images by region', () => {
    const c = estimateCost(spec({ sagemaker: { instanceType: 'ml.g5.xlarge', instanceCount: 2, maxRuntimeSec: 7200 } }))
    expect(c).toEqual({ instanceType: 'ml.g5.xlarge', instanceCount: 2, hours: 2, pricePerHour: 1.408, maxCost: 5.63, currency: 'USD' })
    expect(estimateCost(spec({ sagemaker: { instanceType: 'ml.zz.huge' } })).maxCost).toBeNull()
    expect(imageUri(spec({ sagemaker: { framework: 'pytorch', instanceType: 'ml.g5.xlarge' } }), 'us-east-1')).toBe('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-gpu-py310')
    expect(() => imageUri(spec(), 'ap-south-2')).toThrow(/No sklearn image for ap-south-2/)
  })

  it('a custom image with a tracking token: the secret is made first, and the command line reads it (real boto3) before the job runs', async () => {
    const b = backend()
    const job = await prepared('tok-custom', spec({ sagemaker: { imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1', instanceType: 'ml.m5.large' } }))
    job.env = { ...job.env, MLFLOW_TRACKING_TOKEN: 'custom-token' }
    const sub = await b.submit(job)
    expect(sub.extra).toMatchObject({ trackingSecret: true })
    const req = aws.callsTo('CreateTrainingJob').at(-1)!.body
    expect(JSON.stringify(req)).not.toContain('custom-token')
    expect(req.Environment.ATELIER_TRACKING_SECRET).toBe('atelier/tracking/tok-custom')
    const line = req.AlgorithmSpecification.ContainerArguments[0] as string
    expect(line.endsWith('; python train.py')).toBe(true)
    // the same line, run by bash here with the role's keys and the fake as Secrets Manager
    const env = { PATH: process.env.PATH!, AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: aws.region, AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint, ATELIER_TRACKING_SECRET: req.Environment.ATELIER_TRACKING_SECRET }
    const head = line.slice(0, -'python train.py'.length)
    // (asynchronously: the fake answering boto3 runs in this process)
    const bash = promisify(execFile)
    expect((await bash('bash', ['-c', `${head} printf %s "$MLFLOW_TRACKING_TOKEN"`], { env })).stdout).toBe('custom-token')
    // a secret it cannot read stops the job there (the command does not run without its token)
    const missing = await bash('bash', ['-c', `${head} echo ran`], { env: { ...env, ATELIER_TRACKING_SECRET: 'atelier/tracking/none' } }).catch((e) => e)
    expect(missing.code).toBe(1)
    expect(missing.stdout).not.toContain('ran')
    expect(missing.stderr).toContain('ResourceNotFoundException')
    // the secret goes with the job: the poll that sees it ended deletes it
    const ref: JobRef = { id: 'tok-custom', remoteId: sub.remoteIds[0], workDir: null, logPath: null, extra: sub.extra ?? {} }
    expect(aws.secrets.has('atelier/tracking/tok-custom')).toBe(true)
    await until(async () => ((await b.poll([ref])).get('tok-custom')?.state === 'succeeded' ? true : null), 30_000)
    expect(aws.secrets.has('atelier/tracking/tok-custom')).toBe(false)
    await b.dispose()
  })
})
