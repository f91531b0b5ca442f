import { test, expect, type Page } from '@playwright/test'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../src/main/testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../src/main/testing/cloud/s3Fake'
import { ROOT, startServe, type ServeHandle } from '../support'

/**
 * A SageMaker endpoint tried as a user would, against the loopback AWS fake and s3rver: a
 * scikit-learn version trained and registered over MLflow REST, pushed to SageMaker's Model Registry
 * and approved there; deployed to the SageMaker target from the Endpoints room with its cost per hour
 * shown before the click; InService; a prediction from the endpoint page's Test form (the fake serves
 * the pushed model.tar.gz, so the answer is the model's own); the Running panel lists it with its
 * instances and cost per hour; Delete asks first and removes it from SageMaker.
 */

const PYTHON = '/usr/bin/python3'
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing`
  : spawnSync(PYTHON, ['-c', 'import sklearn, pandas, uvicorn, yaml'], { stdio: 'ignore' }).status !== 0
    ? 'scikit-learn/pandas/uvicorn/yaml are not installed for /usr/bin/python3'
    : null

const TRAIN = `
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
from atelier import tracking
from atelier.models import log_model
X = pd.DataFrame({"tenure": [float(i) for i in range(20)], "calls": [i % 4 for i in range(20)]})
y = [int(a > 5) for a in X["tenure"]]
tracking.start_run(run_name="churn-sm")
log_model(DecisionTreeClassifier(max_depth=2).fit(X, y), artifact_path="model", input_example=X.head(2), registered_model_name="churn")
tracking.end_run()
`

const shots = join(ROOT, 'out/screenshots')
const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name, exact: true })

test.describe('SageMaker endpoints', () => {
  test.skip(missing !== null, missing ?? '')
  test.setTimeout(240_000)
  let aws: AwsFake
  let s3: S3Fake
  let s: ServeHandle
  let tmp: string
  test.beforeAll(async () => {
    test.setTimeout(120_000)
    s3 = await startS3Fake(['atelier-ml'])
    aws = await new AwsFake({ stepMs: 200, s3Endpoint: s3.endpoint }).start()
    tmp = mkdtempSync(join(tmpdir(), 'atelier-e2e-smep-'))
    mkdirSync(join(tmp, 'workspace'))
    s = await startServe({
      dataDir: join(tmp, 'data'),
      workspace: join(tmp, 'workspace'),
      env: { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: aws.region, ATELIER_SAGEMAKER_POLL_MS: '200' }
    })
    await s.rpc('jobs.targets.save', {
      target: { name: 'sm-fake', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint, s3Endpoint: s3.endpoint } }
    })
  })
  test.afterAll(async () => {
    await s?.stop()
    await aws?.stop()
    await s3?.stop()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  test('push, approve, deploy to SageMaker from the room, InService, invoke from the endpoint page, Running panel with cost, delete', async ({ page }) => {
    mkdirSync(shots, { recursive: true })
    await promisify(execFile)(PYTHON, ['-c', TRAIN], {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'resources/python'), MLFLOW_TRACKING_URI: s.origin, MLFLOW_TRACKING_TOKEN: s.token, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
      timeout: 120_000
    })
    const [target] = (await s.rpc('jobs.targets.list', {})) as { id: string }[]
    const pushed = await s.rpc('registry.sagemaker.push', { name: 'churn', version: 1, target: target.id })
    // approved in SageMaker by another reviewer (whoever pushes a package cannot approve it)
    const sm = new SageMakerClient({ region: aws.region, endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS })
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: pushed.packageArn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'holdout AUC holds' }))

    await page.goto(s.url)
    await nav(page, 'Endpoints').click()
    await page.getByRole('button', { name: 'Deploy', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Deploy a model' })
    await dialog.getByRole('combobox', { name: 'Version or alias' }).selectOption({ label: 'Version 1 (None)' })
    await dialog.getByRole('textbox', { name: 'Endpoint name' }).fill('churn-sm')
    await dialog.getByRole('combobox', { name: 'Where' }).selectOption({ label: `SageMaker: sm-fake (${aws.region})` })
    await dialog.getByRole('combobox', { name: 'Instance type' }).selectOption('ml.m5.xlarge')
    await dialog.getByRole('spinbutton', { name: 'Instance count' }).fill('2')
    await expect(dialog.getByRole('status', { name: 'Cost per hour' })).toContainText('Costs about $0.460/h while it runs (2 × ml.m5.xlarge at $0.230/h')
    await page.screenshot({ path: join(shots, 'sagemaker-endpoint-deploy.png') })
    await dialog.getByRole('button', { name: 'Deploy' }).click()

    const ep = page.getByRole('region', { name: 'Endpoint churn-sm' })
    await expect(ep.getByLabel('SageMaker status')).toHaveText('InService', { timeout: 90_000 })
    await expect(ep.getByLabel('State')).toHaveText('running')
    await expect(ep.getByLabel('Instances')).toContainText('ml.m5.xlarge × 2 per variant · $0.460/h')
    await expect(ep.getByRole('table', { name: 'Variants table' })).toContainText('SageMaker · 2 × ml.m5.xlarge')
    const created = aws.callsTo('CreateEndpointConfig')[0].body.ProductionVariants
    expect(created.map((v: { VariantName: string; InstanceType: string; InitialInstanceCount: number }) => [v.VariantName, v.InstanceType, v.InitialInstanceCount])).toEqual([['primary', 'ml.m5.xlarge', 2]])

    // the Test form: the pushed model answers (tenure 10 → 1) through SageMaker Runtime
    const test_ = ep.getByRole('region', { name: 'Test' })
    await test_.getByRole('textbox', { name: 'tenure' }).fill('10')
    await test_.getByRole('button', { name: 'Send', exact: true }).click()
    const result = test_.getByRole('status', { name: 'Prediction' })
    await expect(result).toContainText('HTTP 200')
    await expect(result).toContainText('"predictions": [\n    1\n  ]')
    expect(aws.callsTo('InvokeEndpoint')).toHaveLength(1)
    await page.screenshot({ path: join(shots, 'sagemaker-endpoint-page.png'), fullPage: true })

    // the Running panel: instances and cost per hour
    await page.getByRole('button', { name: /^Running \(\d+\)$/ }).click()
    const row = page.getByRole('dialog', { name: 'Running' }).getByRole('table', { name: 'Running resources' }).getByRole('row', { name: 'Endpoint churn-sm' })
    await expect(row).toContainText('SageMaker sm-fake: ml.m5.xlarge × 2', { timeout: 30_000 })
    await expect(row).toContainText('$0.46/h')
    await expect(page.getByRole('dialog', { name: 'Running' }).getByRole('status', { name: 'Cloud cost per hour' })).toHaveText('Cloud: $0.46/h (1 resource)')
    await page.screenshot({ path: join(shots, 'sagemaker-endpoint-running.png') })
    await page.keyboard.press('Escape')

    // canary = a second production variant with its weight: version 2 (tenure > 100) answers 0
    await promisify(execFile)(PYTHON, ['-c', TRAIN.replace('a > 5', 'a > 100')], {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'resources/python'), MLFLOW_TRACKING_URI: s.origin, MLFLOW_TRACKING_TOKEN: s.token, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
      timeout: 120_000
    })
    const pushed2 = await s.rpc('registry.sagemaker.push', { name: 'churn', version: 2, target: target.id })
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: pushed2.packageArn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'canary candidate' }))
    const variants = ep.getByRole('region', { name: 'Variants' })
    await variants.getByRole('combobox', { name: 'Rollout version' }).selectOption('2')
    await variants.getByRole('spinbutton', { name: 'Canary traffic %' }).fill('50')
    await variants.getByRole('button', { name: 'Start canary' }).click()
    const vtable = variants.getByRole('table', { name: 'Variants table' })
    await expect(vtable.getByRole('row')).toHaveCount(3, { timeout: 90_000 })
    await expect(vtable).toContainText('50%')
    await expect(ep.getByLabel('SageMaker status')).toHaveText('InService', { timeout: 90_000 })
    const weights = aws.callsTo('CreateEndpointConfig').at(-1)!.body.ProductionVariants.map((v: { VariantName: string; InitialVariantWeight: number }) => [v.VariantName, v.InitialVariantWeight])
    expect(weights).toEqual([['primary', 50], ['canary', 50]])
    // both variants answer, each with its own model's prediction for tenure 10, split by the weights
    // (the fake spreads every 100 requests exactly by weight, as SageMaker does on average)
    const answers = new Map<string, string>()
    const counts = new Map<string, number>()
    for (let i = 0; i < 100; i++) {
      const r = await s.rpc('endpoints.invoke', { name: 'churn-sm', body: JSON.stringify({ dataframe_records: [{ tenure: 10, calls: 1 }] }) })
      answers.set(r.variant, JSON.stringify(r.body))
      counts.set(r.variant, (counts.get(r.variant) ?? 0) + 1)
    }
    expect(Object.fromEntries(answers)).toEqual({ primary: '{"predictions":[1]}', canary: '{"predictions":[0]}' })
    expect(Object.fromEntries(counts)).toEqual({ primary: 50, canary: 50 })
    await page.screenshot({ path: join(shots, 'sagemaker-endpoint-canary.png'), fullPage: true })

    // Delete asks first, then removes the SageMaker endpoint
    page.once('dialog', (d) => {
      expect(d.message()).toContain('This deletes SageMaker endpoint churn-sm on sm-fake')
      void d.accept()
    })
    await ep.getByRole('button', { name: 'Delete' }).click()
    await expect(page.getByRole('region', { name: 'Endpoint churn-sm' })).toHaveCount(0)
    expect(aws.callsTo('DeleteEndpoint')).toHaveLength(1)
  })
})
