/** SageMaker endpoints against the loopback AWS fake: create, InService, invoke, weighted update, delete. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { SageMakerEndpointBackend } from './SageMakerBackend'

describe('SageMakerEndpointBackend', () => {
  let aws: AwsFake
  let b: SageMakerEndpointBackend
  beforeAll(async () => {
    aws = await new AwsFake({ stepMs: 80 }).start()
    b = new SageMakerEndpointBackend({ region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS, pollMs: 30, maxAttempts: 1 })
  })
  afterAll(async () => {
    await aws?.stop()
  })

  it('creates an endpoint that goes Creating → InService, answers through SageMaker Runtime, then shifts weights and is deleted', async () => {
    const started = b.deploy('churn prod', [{ name: 'blue', modelDataUrl: 's3://atelier-ml/registry/churn/1/model.tar.gz', weight: 1 }])
    await new Promise((r) => setTimeout(r, 40))
    expect((await b.describe('churn prod')).status).toBe('Creating')
    const s = await started
    expect(s).toMatchObject({ name: 'churn-prod', status: 'InService', variants: [{ name: 'blue', weight: 1, instances: 1 }] })
    const model = aws.callsTo('CreateModel')[0].body
    expect(model.PrimaryContainer).toEqual({ Image: `141502667606.dkr.ecr.${aws.region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3`, ModelDataUrl: 's3://atelier-ml/registry/churn/1/model.tar.gz' })
    expect(model.ExecutionRoleArn).toBe(FAKE_ROLE)

    // the fake's model answers the number of rows it was sent
    expect(await b.invoke('churn prod', '1,2\n3,4\n5,6\n')).toMatchObject({ body: '{"rows":3}', variant: 'blue' })

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
    for (let i = 0; i < 100; i++) {
      const r = await b.invoke('churn prod', JSON.stringify({ instances: [[1], [2]] }), 'application/json')
      expect(r.body).toBe('{"rows":2}')
      served.set(r.variant!, (served.get(r.variant!) ?? 0) + 1)
    }
    expect(Object.fromEntries(served)).toEqual({ blue: 75, green: 25 })
    expect((await b.invoke('churn prod', '1\n', 'text/csv', 'green')).variant).toBe('green')

    await b.delete('churn prod')
    await expect(b.describe('churn prod')).rejects.toMatchObject({ code: 'CLOUD_ERROR', message: expect.stringContaining('Could not find endpoint') })
    await expect(b.invoke('churn prod', '1\n')).rejects.toMatchObject({ code: 'CLOUD_ERROR', message: expect.stringContaining('not found') })
  })

  it('answers AWS errors in their words', async () => {
    const bad = new SageMakerEndpointBackend({ region: aws.region, roleArn: 'arn:aws:iam::123456789012:role/Nope', bucket: 'b', endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS, pollMs: 30, maxAttempts: 1 })
    await expect(bad.deploy('x', [{ name: 'a', modelDataUrl: 's3://b/m.tar.gz', weight: 1 }])).rejects.toMatchObject({ code: 'CLOUD_ERROR', message: expect.stringContaining('ValidationException') })
  })
})
