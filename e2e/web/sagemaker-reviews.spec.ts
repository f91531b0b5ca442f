import { test, expect } from '@playwright/test'
import { CreateModelPackageCommand, CreateModelPackageGroupCommand, DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../src/main/testing/cloud/awsFake'
import { startServe, type ServeHandle } from '../support'

/**
 * The Reviews room lists SageMaker Model Registry packages waiting for approval (loopback AWS fake)
 * beside the local queue; approving one needs a comment, which becomes its ApprovalDescription.
 */
test.describe('SageMaker packages in the Reviews room', () => {
  let aws: AwsFake
  let s: ServeHandle
  let sm: SageMakerClient
  test.beforeAll(async () => {
    test.setTimeout(60_000)
    aws = await new AwsFake().start()
    s = await startServe({ env: { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: aws.region } })
    await s.rpc('jobs.targets.save', { target: { name: 'sm-fake', kind: 'sagemaker', sagemaker: { region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', endpoint: aws.endpoint } } })
    sm = new SageMakerClient({ region: aws.region, endpoint: aws.endpoint, credentials: FAKE_CREDENTIALS })
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'churn' }))
    await sm.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: 'churn',
        ModelPackageDescription: 'churn version 3',
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: { Containers: [{ Image: 'img', ModelDataUrl: 's3://atelier-ml/m/model.tar.gz' }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['text/csv'] }
      })
    )
  })
  test.afterAll(async () => {
    await s?.stop()
    await aws?.stop()
  })

  test('approve a pending SageMaker package with a comment', async ({ page }) => {
    await page.goto(s.url)
    await page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Reviews' }).click()
    const table = page.getByRole('table', { name: 'Pending SageMaker packages on sm-fake' })
    await expect(table.getByText('churn package 1')).toBeVisible({ timeout: 20_000 })
    const approve = table.getByRole('button', { name: 'Approve churn package 1' })
    await expect(approve).toBeDisabled()
    await table.getByRole('textbox', { name: 'Comment for churn package 1' }).fill('holdout AUC holds')
    await page.screenshot({ path: 'out/screenshots/reviews-sagemaker.png' })
    await approve.click()
    await expect(page.getByRole('region', { name: 'SageMaker pending packages' }).getByText('No SageMaker package is waiting for approval.')).toBeVisible()
    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: `arn:aws:sagemaker:${aws.region}:123456789012:model-package/churn/1` }))
    expect([d.ModelApprovalStatus, d.ApprovalDescription]).toEqual(['Approved', 'holdout AUC holds'])
    const audit = await s.rpc('audit.list', { entityType: 'model_package' })
    expect(audit.events.map((e: any) => [e.action, e.comment])).toEqual([['sagemaker.approve', 'holdout AUC holds']])
  })
})
