/**
 * The AWS fakes are checked by an independent client, boto3 (botocore signs with its own SigV4
 * implementation and speaks JSON 1.1 / S3 REST-XML), so they cannot drift into a protocol only
 * Atelier's code understands.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from './awsFake'
import { startS3Fake, type S3Fake } from './s3Fake'
import { atelierPythonEnv } from '../../pythonPath'

const run = promisify(execFile)
const PROBE = join(__dirname, 'boto3_probe.py')

function boto3Missing(): string | null {
  if (!existsSync('/usr/bin/python3')) return '/usr/bin/python3 is missing'
  try {
    require('node:child_process').execFileSync('/usr/bin/python3', ['-c', 'import boto3'], { stdio: 'ignore' })
    return null
  } catch {
    return 'boto3 is missing (apt install python3-boto3)'
  }
}

const missing = boto3Missing()

describe.skipIf(missing)('AWS fakes driven by boto3', () => {
  let aws: AwsFake
  let s3: S3Fake
  beforeAll(async () => {
    aws = await new AwsFake({ stepMs: 150 }).start()
    s3 = await startS3Fake(['atelier-ml'])
  })
  afterAll(async () => {
    await aws?.stop()
    await s3?.stop()
  })

  const probe = async (mode: string, extraEnv: Record<string, string> = {}) => {
    const { stdout } = await run('/usr/bin/python3', [PROBE, mode], {
      env: {
        ...process.env,
        FAKE_AWS: aws.endpoint,
        FAKE_S3: s3.endpoint,
        FAKE_REGION: aws.region,
        FAKE_ROLE: FAKE_ROLE,
        FAKE_KEY: FAKE_CREDENTIALS.accessKeyId,
        FAKE_SECRET: FAKE_CREDENTIALS.secretAccessKey,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        ...extraEnv
      },
      timeout: 60_000
    })
    return JSON.parse(stdout.trim().split('\n').pop()!)
  }

  it('creates, follows and lists a training job, reads its per-host logs, and stores objects in S3', async () => {
    const out = await probe('main')
    expect(out.s3_get).toBe('hello tar')
    expect(out.s3_list).toEqual(['code/sourcedir.tar.gz'])
    expect(out.arn).toBe(`arn:aws:sagemaker:${aws.region}:123456789012:training-job/probe-1`)
    expect(out.duplicate[0]).toBe('ResourceInUse')
    expect(out.bad_role[0]).toBe('ValidationException')
    expect(out.bad_role[1]).toContain('Could not assume role arn:aws:iam::123456789012:role/Nope')
    const statuses = out.statuses.map((s: string[]) => s.join('/'))
    expect(statuses[0]).toBe('InProgress/Starting')
    expect(statuses).toContain('InProgress/Training')
    expect(statuses[statuses.length - 1]).toBe('Completed/Completed')
    expect(out.metrics).toEqual([['loss', Number((1 / 4).toFixed(4))]])
    expect(out.model).toBe('s3://atelier-ml/out/probe-1/output/model.tar.gz')
    expect(out.end_is_datetime).toBe('datetime')
    expect(out.listed).toEqual(['probe-1'])
    expect(out.streams).toHaveLength(2)
    expect(out.streams[0]).toMatch(/^probe-1\/algo-1-\d+$/)
    expect(out.events.slice(1)).toEqual([
      '[host algo-1] epoch=1 loss=0.5000 accuracy=0.6667',
      '[host algo-1] epoch=2 loss=0.3333 accuracy=0.7500',
      '[host algo-1] epoch=3 loss=0.2500 accuracy=0.8000'
    ])
  })

  it('rejects a bad signature with AWS error shape, for SageMaker and Logs', async () => {
    const out = await probe('badsig')
    expect(out.sagemaker[0]).toBe('InvalidSignatureException')
    expect(out.sagemaker[1]).toMatch(/^The request signature we calculated does not match/)
    expect(out.sagemaker[2]).toBe(403)
    expect(out.logs[0]).toBe('InvalidSignatureException')
  })

  it('throttles: a storm is retried away by botocore, and without retries it is ThrottlingException', async () => {
    aws.throttle(3)
    const before = aws.callsTo('ListTrainingJobs').length
    const out = await probe('throttled')
    expect(out.listed).toBeGreaterThan(0)
    expect(aws.callsTo('ListTrainingJobs').length - before).toBe(4)
    aws.throttle(1)
    const once = await probe('throttled-noretry')
    expect(once.error.slice(0, 2)).toEqual(['ThrottlingException', 'Rate exceeded'])
  })

  it('answers ResourceLimitExceeded in AWS words when told to', async () => {
    aws.failNextCreateWithResourceLimit('ml.p3.2xlarge')
    const out = await probe('limit')
    expect(out.limit[0]).toBe('ResourceLimitExceeded')
    expect(out.limit[1]).toContain("The account-level service limit 'ml.p3.2xlarge for training job usage' is 0 Instances")
  })

  it('serves Model Registry packages: boto3 lists, approves and describes them in AWS shapes', async () => {
    const out = await probe('packages')
    expect(out.no_group[0]).toBe('ValidationException')
    expect(out.group_arn).toBe(`arn:aws:sagemaker:${aws.region}:123456789012:model-package-group/probe-model`)
    expect(out.group_again[0]).toBe('ValidationException')
    expect(out.package_arn).toBe(`arn:aws:sagemaker:${aws.region}:123456789012:model-package/probe-model/1`)
    expect(out.pending).toEqual([[out.package_arn, 'PendingManualApproval']])
    expect(out.described).toEqual(['probe-model', 1, 'Approved', 'looks good', 's3://atelier-ml/m/model.tar.gz', 'datetime'])
    expect(out.pending_after).toBe(0)
    expect(out.approved).toEqual([out.package_arn])
    expect(out.bad_status[0]).toBe('ValidationException')
  })

  it('serves endpoints: boto3 waits for InService and invokes through sagemaker-runtime, which answers the model data’s own predictions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-model-'))
    // amount > 5 → 1
    execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `import pandas as pd
from sklearn.tree import DecisionTreeClassifier
from atelier.models import save_model
X = pd.DataFrame({"amount": [float(i) for i in range(20)], "count": [i % 3 for i in range(20)]})
save_model(DecisionTreeClassifier(max_depth=2).fit(X, [int(a > 5) for a in X["amount"]]), ${JSON.stringify(join(dir, 'model'))})`
      ],
      { env: { ...process.env, ...atelierPythonEnv('') }, timeout: 120_000 }
    )
    execFileSync('tar', ['-czf', join(dir, 'model.tar.gz'), '-C', join(dir, 'model'), '.'])
    aws.s3Endpoint = s3.endpoint
    const out = await probe('endpoints', { FAKE_MODEL_TGZ: join(dir, 'model.tar.gz') })
    rmSync(dir, { recursive: true, force: true })
    expect(out.first).toBe('Creating')
    expect(out.then).toBe('InService')
    expect([JSON.parse(out.invoke[0]), out.invoke[1]]).toEqual([{ predictions: [0, 1] }, 'a'])
    expect(out.gone[0]).toBe('ValidationException')
    expect(out.gone[1]).toContain('Could not find endpoint')
  })

  it('runs a training job for real in local container mode: boto3 sees its log, metrics, model.tar.gz, output.tar.gz, failure reason and stop', async () => {
    const real = await new AwsFake({ localContainer: { s3Endpoint: s3.endpoint, stopGraceSec: 1 } }).start()
    const saved = aws
    aws = real
    try {
      const out = await probe('container')
      expect(out.ok[0]).toBe('Completed')
      expect(out.ok[1]).toEqual(['Starting', 'Downloading', 'Training', 'Uploading', 'Completed'])
      expect(out.ok[2]).toEqual([['loss', 0.25]])
      expect(out.model).toEqual(['s3://atelier-ml/out/run-ok/output/model.tar.gz', { 'model.txt': 'lr=0.5' }])
      expect(out.output).toEqual(['report.txt'])
      expect(out.log).toEqual([
        "host algo-1 ['algo-1'] {'epochs': 3, 'lr': 0.5}",
        'channel 1,2,3',
        "config ['epochs', 'lr', 'sagemaker_program', 'sagemaker_submit_directory']",
        'epoch=1 loss=0.5000',
        'epoch=2 loss=0.3333',
        'epoch=3 loss=0.2500'
      ])
      expect(out.fail[0]).toBe('Failed')
      expect(out.fail[1]).toBe('AlgorithmError: ExecuteUserScriptError: ExitCode 1, ErrorMessage "ValueError: lr 9.0 is too high"')
      expect(out.stop).toBe('Stopped')
    } finally {
      aws = saved
      await real.stop()
    }
  }, 90_000)
})
