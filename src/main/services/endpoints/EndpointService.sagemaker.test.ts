/**
 * Endpoints on a SageMaker target against the loopback AWS fake and s3rver: real scikit-learn
 * versions are pushed to the Model Registry (model.tar.gz in S3), approved, deployed; the fake
 * unpacks each variant's model data and serves it with the shipped scoring server, so every answer
 * here is the model's own prediction. Skips with a message when python3, scikit-learn or uvicorn is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { DuckDBInstance } from '@duckdb/node-api'
import { join } from 'node:path'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { atelierPythonEnv } from '../../pythonPath'
import { silentLogger } from '../../log'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { SageMakerBackend } from '../jobs/SageMakerBackend'
import { SageMakerRegistry } from '../registry/sagemaker'
import { alice, bob, createRegistryHarness, type RegistryHarness } from '../registry/testing'
import { ProcSnapshot } from '../running/procMem'
import { SecretStore } from '../secrets/SecretStore'
import { EndpointService } from './EndpointService'
import { LocalBackend } from './LocalBackend'
import { endpointProvider } from './running'
import { hostingPrices, SageMakerEndpointBackend } from './SageMakerBackend'

const PYTHON = '/usr/bin/python3'
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing`
  : spawnSync(PYTHON, ['-c', 'import sklearn, pandas, uvicorn, yaml'], { stdio: 'ignore', timeout: 60_000 }).status !== 0
    ? `scikit-learn/pandas/uvicorn/yaml are not installed for ${PYTHON}`
    : null

/** A model whose prediction is `amount > threshold`, saved in MLflow's format. */
function train(dir: string, threshold: number) {
  execFileSync(
    PYTHON,
    [
      '-c',
      `
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
from atelier.models import save_model
X = pd.DataFrame({"amount": [float(i) for i in range(20)], "count": [i % 3 for i in range(20)]})
y = [int(a > ${threshold}) for a in X["amount"]]
save_model(DecisionTreeClassifier(max_depth=2).fit(X, y), ${JSON.stringify(dir)}, input_example=X.head(2))
`
    ],
    { env: { ...process.env, ...atelierPythonEnv('') }, timeout: 120_000 }
  )
}

const request = (amounts: number[]) => JSON.stringify({ dataframe_split: { columns: ['amount', 'count'], data: amounts.map((a) => [a, 1]) } })

describe.skipIf(missing !== null)('endpoints on SageMaker', () => {
  let aws: AwsFake
  let s3: S3Fake
  let h: RegistryHarness
  let jobsBackend: SageMakerBackend
  let sync: SageMakerRegistry
  let secrets: SecretStore
  const services: EndpointService[] = []

  function makeService(): EndpointService {
    const s = new EndpointService({
      dataDir: h.dataDir,
      registry: h.registry,
      domain: h.domain,
      secrets,
      backend: new LocalBackend({ runDir: join(h.dataDir, 'endpoints', 'run'), preferShipped: true }),
      emit: () => undefined,
      log: silentLogger,
      defaultInterpreter: async () => PYTHON,
      managed: async (id) => {
        if (id !== 'sm1') throw new Error(`no target ${id}`)
        return { backend: new SageMakerEndpointBackend({ ...jobsBackend.cfg, pollMs: 40 }), targetName: 'sm-fake', region: aws.region }
      },
      hostingPrices: () => hostingPrices(),
      managedPollMs: { busy: 40, idle: 200 },
      captureFlushMs: 100
    })
    services.push(s)
    return s
  }

  /** Registers a trained version, pushes it to SageMaker's Model Registry and approves the package there. */
  async function pushed(name: string, threshold: number, o: { approve?: boolean } = {}): Promise<{ version: number; modelDataUrl: string }> {
    const runId = h.makeRun()
    train(join(h.dataDir, 'artifacts', h.tracking.runArtifactDir(h.tracking.runs.require(runId))!, 'real'), threshold)
    const { version } = await h.registry.createVersionFromRun({ name, runId, artifactPath: 'real', createModel: true }, alice)
    const p = await sync.push({ name, version, target: 'sm1' }, alice)
    if (o.approve !== false) await sync.decide({ target: 'sm1', packageArn: p.packageArn, decision: 'approve', comment: 'holdout checked' }, bob)
    return { version, modelDataUrl: p.modelDataUrl }
  }

  async function until<T>(f: () => T, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
    const end = Date.now() + ms
    for (;;) {
      const v = f()
      if (ok(v)) return v
      if (Date.now() > end) throw new Error(`timed out; last: ${JSON.stringify(v)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  beforeAll(async () => {
    s3 = await startS3Fake(['atelier-ml'])
    aws = await new AwsFake({ stepMs: 40, s3Endpoint: s3.endpoint }).start()
    h = await createRegistryHarness()
    secrets = new SecretStore(join(h.dataDir, 'secrets.json'))
    jobsBackend = new SageMakerBackend({ region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', prefix: 'team', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1 })
    sync = new SageMakerRegistry({ registry: h.registry, artifactsRoot: join(h.dataDir, 'artifacts'), backend: async () => jobsBackend })
  }, 120_000)
  afterAll(async () => {
    for (const s of services) await s.dispose()
    await aws?.stop()
    await s3?.stop()
    await h?.cleanup()
  })

  it('deploys an approved version, answers its real predictions through the proxy, splits traffic by canary weight, re-attaches after a restart and deletes', async () => {
    const svc = makeService()
    await svc.init()
    const v1 = await pushed('churn', 5, { approve: false })
    // the package waits for approval: no deploy
    await expect(svc.deploy({ name: 'churn-sm', model: 'churn', version: v1.version, sagemaker: { target: 'sm1', instanceType: 'ml.m5.large', instanceCount: 1 } })).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining('PendingManualApproval')
    })
    const pending = (await sync.pending('sm1'))[0]
    await sync.decide({ target: 'sm1', packageArn: pending.packageArn, decision: 'approve', comment: 'ok' }, bob)

    const { endpoint } = await svc.deploy({ name: 'churn-sm', model: 'churn', version: v1.version, sagemaker: { target: 'sm1', instanceType: 'ml.m5.large', instanceCount: 1 } })
    expect(endpoint.state).toBe('starting')
    const up = await until(() => svc.get('churn-sm').endpoint, (e) => e.state !== 'starting')
    expect(up).toMatchObject({ state: 'running', sagemaker: { status: 'InService', instanceType: 'ml.m5.large', pricePerHour: 0.115, costPerHour: 0.115, targetName: 'sm-fake' } })
    // the target cannot go while the endpoint lives on it
    expect(svc.onTarget('sm1')).toEqual(['churn-sm'])
    expect(svc.onTarget('other')).toEqual([])
    expect(aws.callsTo('CreateModel')[0].body.PrimaryContainer.ModelDataUrl).toBe(v1.modelDataUrl)

    // the fake serves the registered model: amount > 5 → 1; captured like a local endpoint's traffic
    svc.setCapture('churn-sm', true, 100)
    const r = await svc.invoke('churn-sm', request([3, 10]))
    expect(r).toMatchObject({ status: 200, body: { predictions: [0, 1] }, variant: 'primary' })
    expect(svc.metrics('churn-sm').variants.find((v) => v.variant === 'primary')!.requests).toBe(1)
    const captureDir = svc.captureDir('churn-sm')
    await until(() => existsSync(captureDir) && readdirSync(captureDir).some((f) => f.endsWith('.parquet')), (ok) => ok, 10_000)
    const duck = await (await DuckDBInstance.create(':memory:')).connect()
    const captured = (await duck.runAndReadAll(`SELECT variant, response FROM read_parquet('${captureDir}/*.parquet')`)).getRows()
    expect(captured.map(([v, resp]) => [v, JSON.parse(String(resp))])).toEqual([['primary', { predictions: [0, 1] }]])
    duck.closeSync()
    svc.setCapture('churn-sm', false, 0)

    // Running panel: instances and cost per hour
    const [item] = await endpointProvider(svc).list(new ProcSnapshot())
    expect(item).toMatchObject({ id: 'churn-sm', state: 'InService', detail: expect.stringContaining('SageMaker sm-fake: ml.m5.large × 1 · endpoint churn-sm'), costPerHour: 0.115 })
    expect(item.costSoFar).toBeGreaterThan(0)
    expect(item.costSoFar).toBeLessThan(0.115 / 60)
    // stopping it there deletes it on SageMaker (nothing billed); start creates it again
    await endpointProvider(svc).stop('churn-sm')
    expect(svc.get('churn-sm').endpoint).toMatchObject({ state: 'stopped', sagemaker: { status: null, costPerHour: null } })
    expect(aws.callsTo('DeleteEndpoint')).toHaveLength(1)
    expect(await endpointProvider(svc).list(new ProcSnapshot())).toEqual([])
    expect((await svc.invoke('churn-sm', request([10]))).status).toBe(503)
    await svc.start('churn-sm')
    expect(svc.get('churn-sm').endpoint).toMatchObject({ state: 'running', sagemaker: { status: 'InService' } })
    expect(aws.callsTo('CreateEndpoint')).toHaveLength(2)

    // canary: version 2 predicts 0 everywhere below 100
    const v2 = await pushed('churn', 100)
    const updated = await svc.update({ name: 'churn-sm', variants: [{ name: 'primary', weight: 75 }, { name: 'canary', version: v2.version, weight: 25 }] })
    expect(updated.endpoint.variants.map((v) => [v.name, v.version, v.weight, v.instances])).toEqual([
      ['primary', v1.version, 75, 1],
      ['canary', v2.version, 25, 1]
    ])
    expect(aws.callsTo('UpdateEndpoint')).toHaveLength(1)
    const answers = new Map<string, string>()
    const counts = new Map<string, number>()
    for (let i = 0; i < 100; i++) {
      const a = await svc.invoke('churn-sm', request([10]))
      answers.set(a.variant!, JSON.stringify(a.body))
      counts.set(a.variant!, (counts.get(a.variant!) ?? 0) + 1)
    }
    expect(Object.fromEntries(counts)).toEqual({ primary: 75, canary: 25 })
    expect(Object.fromEntries(answers)).toEqual({ primary: '{"predictions":[1]}', canary: '{"predictions":[0]}' })
    // the configuration it replaced was deleted once the update was in service (the first went with the stop)
    expect(aws.callsTo('DeleteEndpointConfig')).toHaveLength(2)

    // promote = a new configuration with the canary alone; in the background, as the room asks for it
    // (SageMaker takes minutes): the answer comes before SageMaker moved, the definition changes once it serves
    const promoting = await svc.update({ name: 'churn-sm', promote: 'canary', background: true })
    expect(promoting.endpoint.variants.map((v) => v.name)).toEqual(['primary', 'canary'])
    const promoted = await until(() => svc.get('churn-sm').endpoint, (e) => e.variants.length === 1)
    expect(promoted).toMatchObject({ state: 'running', sagemaker: { status: 'InService' }, variants: [{ name: 'canary', version: v2.version, weight: 100 }] })
    expect((await svc.invoke('churn-sm', request([10]))).body).toEqual({ predictions: [0] })

    // restart: re-attached by DescribeEndpoint, nothing created again
    await svc.dispose()
    const creates = aws.callsTo('CreateEndpoint').length + aws.callsTo('UpdateEndpoint').length
    const again = makeService()
    await again.init()
    const back = await until(() => again.get('churn-sm').endpoint, (e) => e.state !== 'starting')
    expect(back).toMatchObject({ state: 'running', sagemaker: { status: 'InService' }, variants: [{ name: 'canary', version: v2.version, weight: 100 }] })
    expect(aws.callsTo('CreateEndpoint').length + aws.callsTo('UpdateEndpoint').length).toBe(creates)
    expect((await again.invoke('churn-sm', request([10]))).body).toEqual({ predictions: [0] })

    await again.delete('churn-sm')
    expect(aws.callsTo('DeleteEndpoint')).toHaveLength(2)
    expect(aws.servingVariants('churn-sm')).toEqual([])
    await expect(jobsBackend.sm.send(new (await import('@aws-sdk/client-sagemaker')).DescribeEndpointCommand({ EndpointName: 'churn-sm' }))).rejects.toThrow(/Could not find endpoint/)
    expect(again.list().map((e) => e.name)).not.toContain('churn-sm')
    expect(again.onTarget('sm1')).toEqual([])
  }, 240_000)

  it('shows a Failed endpoint with SageMaker’s FailureReason, keeps serving after an update SageMaker rolled back, and shows ResourceLimitExceeded in AWS’s words', async () => {
    const svc = makeService()
    await svc.init()
    const v = await pushed('fraud', 5)
    // the model data is gone from S3: SageMaker cannot download it
    await jobsBackend.s3.send(new DeleteObjectCommand({ Bucket: 'atelier-ml', Key: v.modelDataUrl.replace('s3://atelier-ml/', '') }))
    await svc.deploy({ name: 'fraud-sm', model: 'fraud', version: v.version, sagemaker: { target: 'sm1', instanceType: 'ml.m5.large', instanceCount: 1 } })
    const failed = await until(() => svc.get('fraud-sm').endpoint, (e) => e.state !== 'starting')
    const reason = `Failed to download model data for container "container_1" of production variant "primary". Please ensure that there is an object located at the URL "${v.modelDataUrl}", and the role ${FAKE_ROLE} has permissions to access the object.`
    expect(failed).toMatchObject({ state: 'failed', error: reason, sagemaker: { status: 'Failed', failureReason: reason } })
    const refused = await svc.invoke('fraud-sm', request([1]))
    expect(refused.status).toBe(503)
    await svc.delete('fraud-sm')

    // an update SageMaker cannot roll out is rolled back: the old variants keep serving, the reason is shown
    const good = await pushed('fraud', 5)
    const broken = await pushed('fraud', 5)
    await jobsBackend.s3.send(new DeleteObjectCommand({ Bucket: 'atelier-ml', Key: broken.modelDataUrl.replace('s3://atelier-ml/', '') }))
    await svc.deploy({ name: 'fraud-ok', model: 'fraud', version: good.version, sagemaker: { target: 'sm1', instanceType: 'ml.m5.large', instanceCount: 1 } })
    await until(() => svc.get('fraud-ok').endpoint, (e) => e.state !== 'starting')
    await expect(svc.update({ name: 'fraud-ok', variants: [{ name: 'primary', weight: 90 }, { name: 'canary', version: broken.version, weight: 10 }] })).rejects.toMatchObject({
      code: 'CLOUD_ERROR',
      message: expect.stringContaining('rolled it back: Failed to download model data for container "container_1" of production variant "canary"')
    })
    const kept = svc.get('fraud-ok').endpoint
    expect(kept).toMatchObject({ state: 'running', sagemaker: { status: 'InService' }, variants: [{ name: 'primary', version: good.version, weight: 100 }] })
    expect(kept.error).toContain('rolled it back')
    expect((await svc.invoke('fraud-ok', request([10]))).body).toEqual({ predictions: [1] })
    await svc.delete('fraud-ok')

    const w = await pushed('quota', 5)
    aws.failNextEndpointWithResourceLimit('ml.g5.xlarge')
    await svc.deploy({ name: 'quota-sm', model: 'quota', version: w.version, sagemaker: { target: 'sm1', instanceType: 'ml.g5.xlarge', instanceCount: 1 } })
    const limited = await until(() => svc.get('quota-sm').endpoint, (e) => e.state !== 'starting')
    expect(limited.state).toBe('failed')
    expect(limited.error).toContain(
      "ResourceLimitExceeded: The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances."
    )
    await svc.delete('quota-sm')
  }, 240_000)
})
