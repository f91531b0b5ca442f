import { test, expect, type Browser } from '@playwright/test'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../src/main/testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../src/main/testing/cloud/s3Fake'
import { ROOT, signIn as signInAt, startServe, type ServeHandle } from '../support'

/**
 * A registered version is pushed to SageMaker Model Registry (loopback AWS fake, s3rver) from its
 * page in the Models room; the version page keeps showing where it went after a reload. A reviewer
 * approves the package in the Reviews room, where SageMaker's pending packages are listed beside the
 * local queue; the comment becomes its ApprovalDescription.
 */
test.describe('SageMaker Model Registry from the Models and Reviews rooms', () => {
  let aws: AwsFake
  let s3: S3Fake
  let s: ServeHandle
  let sm: SageMakerClient
  test.beforeAll(async () => {
    test.setTimeout(60_000)
    aws = await new AwsFake().start()
    s3 = await startS3Fake(['atelier-ml'])
    s = await startServe({ env: { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: aws.region } })
    await s.rpc('jobs.targets.save', {
      target: { name: 'sm-fake', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint, s3Endpoint: s3.endpoint } }
    })
    sm = new SageMakerClient({ region: aws.region, endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS })

    // a run with a model folder, through the MLflow REST API a training script uses, registered as churn version 1
    const conn = await s.rpc('tracking.connection', {})
    const auth = { Authorization: `Bearer ${conn.env.MLFLOW_TRACKING_TOKEN}` }
    const created = await fetch(`${conn.uri}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ experiment_id: '0', run_name: 'train', start_time: Date.now() })
    }).then((r) => r.json())
    const runId = created.run.info.run_id
    for (const [file, body] of [
      ['MLmodel', 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n'],
      ['model.pkl', 'not really a pickle']
    ]) {
      const r = await fetch(`${conn.uri}/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/model/${file}`, { method: 'PUT', headers: auth, body })
      expect(r.status).toBe(200)
    }
    await s.rpc('registry.versions.create', { name: 'churn', runId, artifactPath: 'model', createModel: true })
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/users.mjs'), 'add', 'rita', '--role', 'reviewer', '--data-dir', s.dataDir], { input: 'rita-password-1\n', encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
  })
  test.afterAll(async () => {
    await s?.stop()
    await s3?.stop()
    await aws?.stop()
  })

  const signIn = (browser: Browser, name: string, password: string) => signInAt(browser, s.origin, name, password)

  test('push a version from its page, approve the package in Reviews with a comment', async ({ page, browser }) => {
    test.setTimeout(90_000)
    const arn = `arn:aws:sagemaker:${aws.region}:123456789012:model-package/churn/1`
    const openVersion = async () => {
      await page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Models' }).click()
      await page.getByRole('listbox', { name: 'Models' }).getByRole('option', { name: 'churn' }).click()
      await page.getByRole('table', { name: 'Versions' }).getByRole('button', { name: 'Version 1' }).click()
      return page.getByRole('region', { name: 'churn version 1' })
    }
    await page.goto(s.url)
    const v1 = await openVersion()
    await v1.getByRole('button', { name: 'Push to SageMaker…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Push churn version 1 to SageMaker' })
    await expect(dialog.getByRole('combobox', { name: 'SageMaker target' })).toHaveValue(/.+/)
    await expect(dialog.getByRole('combobox', { name: 'SageMaker target' }).locator('option:checked')).toHaveText('sm-fake')
    await expect(dialog.getByRole('textbox', { name: 'Model package group' })).toHaveValue('churn')
    await dialog.getByRole('button', { name: 'Push' }).click()
    const done = dialog.getByRole('status', { name: 'Pushed model package' })
    await expect(done).toContainText(arn, { timeout: 20_000 })
    await expect(done).toContainText('Approval status: Pending manual approval')
    await page.screenshot({ path: 'out/screenshots/sagemaker-push-dialog.png' })
    const create = aws.callsTo('CreateModelPackage')
    expect(create.map((c) => [c.body.ModelPackageGroupName, c.body.ModelApprovalStatus])).toEqual([['churn', 'PendingManualApproval']])
    await dialog.getByRole('button', { name: 'Close', exact: true }).click()

    // after a reload the version page still says where it went
    await page.reload()
    const again = await openVersion()
    const packages = again.getByRole('table', { name: 'SageMaker model packages' })
    await expect(packages.getByRole('row', { name: new RegExp(arn) })).toContainText('Pending manual approval')
    await expect(packages).toContainText('sm-fake')

    // a reviewer approves it in the Reviews room; the pusher cannot
    const rita = await signIn(browser, 'rita', 'rita-password-1')
    try {
      await rita.page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Reviews' }).click()
      const table = rita.page.getByRole('table', { name: 'Pending SageMaker packages on sm-fake' })
      await expect(table.getByText('churn package 1')).toBeVisible({ timeout: 20_000 })
      const approve = table.getByRole('button', { name: 'Approve churn package 1' })
      await expect(approve).toBeDisabled()
      await table.getByRole('textbox', { name: 'Comment for churn package 1' }).fill('holdout AUC holds')
      await rita.page.screenshot({ path: 'out/screenshots/reviews-sagemaker.png' })
      await approve.click()
      await expect(rita.page.getByRole('region', { name: 'SageMaker pending packages' }).getByText('No SageMaker package is waiting for approval.')).toBeVisible()
    } finally {
      await rita.context.close()
    }
    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }))
    expect([d.ModelApprovalStatus, d.ApprovalDescription]).toEqual(['Approved', 'holdout AUC holds'])
    expect(aws.callsTo('UpdateModelPackage').map((c) => c.body)).toEqual([{ ModelPackageArn: arn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'holdout AUC holds' }])
    const audit = await s.rpc('audit.list', { entityType: 'model_package' })
    expect(audit.events.map((e: any) => [e.action, e.comment])).toEqual([['sagemaker.approve', 'holdout AUC holds']])

    // and the version page shows the decision
    await page.reload()
    const after = await openVersion()
    await expect(after.getByRole('table', { name: 'SageMaker model packages' }).getByRole('row', { name: new RegExp(arn) })).toContainText('Approved')
    await expect(after.getByRole('table', { name: 'SageMaker model packages' })).toContainText('holdout AUC holds')
    await page.screenshot({ path: 'out/screenshots/sagemaker-version-packages.png' })
  })
})
