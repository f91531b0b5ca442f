/**
 * SageMaker endpoints against the loopback AWS fake and s3rver: create, InService, invoke, weighted
 * update, delete. The fake serves the model data each variant names (trained here), so answers are
 * real predictions. Skips when python3 with scikit-learn and uvicorn is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { atelierPythonEnv } from '../../pythonPath'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { SageMakerEndpointBackend } from './SageMakerBackend'

const missing =
  !existsSync('/usr/bin/python3') || spawnSync('/usr/bin/python3', ['-c', 'import sklearn, pandas, uvicorn, yaml'], { stdio: 'ignore', timeout: 60_000 }).status !== 0

/** Uploads model.tar.gz of a model predicting `amount > threshold` to `key`. */
async function uploadModel(s3: S3Fake, key: string, threshold: number) {
  const dir = mkdtempSync(join(tmpdir(), 'smep-model-'))
  try {
    execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `import pandas as pd
from sklearn.tree import DecisionTreeClassifier
from atelier.models import save_model
X = pd.DataFrame({"amount": [float(i) for i in range(20)], "count": [i % 3 for i in range(20)]})
save_model(DecisionTreeClassifier(max_depth=2).fit(X, [int(a > ${threshold}) for a in X["amount"]]), ${JSON.stringify(join(dir, 'model'))})`
      ],
      { env: { ...process.env, ...atelierPythonEnv('') }, timeout: 120_000 }
    )
    execFileSync('tar', ['-czf', join(dir, 'model.tar.gz'), '-C', join(dir, 'model'), '.'])
    const c = new S3Client({ region: 'eu-west-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: FAKE_CREDENTIALS })
    await c.send(new PutObjectCommand({ Bucket: 'atelier-ml', Key: key, Body: readFileSync(join(dir, 'model.tar.gz')) }))
    c.destroy()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const rows = (amounts: number[]) => JSON.stringify({ dataframe_split: { columns: ['amount', 'count'], data: amounts.map((a) => [a, 1]) } })

describe.skipIf(missing)('SageMakerEndpointBackend', () => {
  let aws: AwsFake
  let s3: S3Fake
  let b: SageMakerEndpointBackend
  beforeAll(async () => {
    s3 = await startS3Fake(['atelier-ml'])
    aws = await new AwsFake({ stepMs: 80, s3Endpoint: s3.endpoint }).start()
    b = new SageMakerEndpointBackend({ region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS, pollMs: 30, maxAttempts: 1 })
    await uploadModel(s3, 'registry/churn/1/model.tar.gz', 5)
    await uploadModel(s3, 'registry/churn/2/model.tar.gz', 100)
  }, 120_000)
  afterAll(async () => {
    await aws?.stop()
    await s3?.stop()
  })

  it('creates an endpoint that goes Creating → InService, answers through SageMaker Runtime, then shifts weights and is deleted', async () => {
    const started = b.deploy('churn prod', [{ name: 'blue', modelDataUrl: 's3://atelier-ml/registry/churn/1/model.tar.gz', weight: 1 }])
    while (aws.callsTo('CreateEndpoint').length === 0) await new Promise((r) => setTimeout(r, 5))
    expect((await b.describe('churn prod')).status).toBe('Creating')
    const s = await started
    expect(s).toMatchObject({ name: 'churn-prod', status: 'InService', variants: [{ name: 'blue', weight: 1, instances: 1 }] })
    const model = aws.callsTo('CreateModel')[0].body
    expect(model.PrimaryContainer).toEqual({ Image: `141502667606.dkr.ecr.${aws.region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3`, ModelDataUrl: 's3://atelier-ml/registry/churn/1/model.tar.gz' })
    expect(model.ExecutionRoleArn).toBe(FAKE_ROLE)

    // the model data's own predictions: amount > 5
    const first = await b.invoke('churn prod', rows([3, 10]), 'application/json')
    expect([JSON.parse(first.body.toString()), first.variant]).toEqual([{ predictions: [0, 1] }, 'blue'])

    const updated = await b.deploy('churn prod', [
      { name: 'blue', modelDataUrl: 's3://atelier-ml/registry/churn/1/model.tar.gz', weight: 3 },
      { name: 'green', modelDataUrl: 's3://atelier-ml/registry/churn/2/model.tar.gz', weight: 1 }
    ])
    expect(aws.callsTo('UpdateEndpoint')).toHaveLength(1)
    expect(aws.callsTo('CreateEndpoint')).toHaveLength(1)
    expect(updated.variants).toEqual([
      { name: 'blue', weight: 3, instances: 1 },
      { name: 'green', weight: 1, instances: 1 }
    ])
    const served = new Map<string, number>()
    const answers = new Map<string, string>()
    for (let i = 0; i < 100; i++) {
      const r = await b.invoke('churn prod', rows([10]), 'application/json')
      answers.set(r.variant!, r.body.toString())
      served.set(r.variant!, (served.get(r.variant!) ?? 0) + 1)
    }
    expect(Object.fromEntries(served)).toEqual({ blue: 75, green: 25 })
    expect(Object.fromEntries([...answers].map(([k, v]) => [k, JSON.parse(v)]))).toEqual({ blue: { predictions: [1] }, green: { predictions: [0] } })
    expect((await b.invoke('churn prod', rows([10]), 'application/json', 'green')).variant).toBe('green')

    await b.delete('churn prod')
    expect(aws.callsTo('DeleteEndpointConfig').length).toBeGreaterThanOrEqual(2)
    expect(aws.callsTo('DeleteModel').length).toBe(3)
    await expect(b.describe('churn prod')).rejects.toMatchObject({ code: 'CLOUD_ERROR', message: expect.stringContaining('Could not find endpoint') })
    await expect(b.invoke('churn prod', rows([1]), 'application/json')).rejects.toMatchObject({ code: 'CLOUD_ERROR', message: expect.stringContaining('not found') })
  })

  it('answers AWS errors in their words', async () => {
    const bad = new SageMakerEndpointBackend({ region: aws.region, roleArn: 'arn:aws:iam::123456789012:role/Nope', bucket: 'b', endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS, pollMs: 30, maxAttempts: 1 })
    await expect(bad.deploy('x', [{ name: 'a', modelDataUrl: 's3://b/m.tar.gz', weight: 1 }])).rejects.toMatchObject({ code: 'CLOUD_ERROR', message: expect.stringContaining('ValidationException') })
  })
})
