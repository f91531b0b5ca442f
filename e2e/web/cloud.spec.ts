import { test, expect } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../src/main/testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../src/main/testing/cloud/s3Fake'
import { startServe, type ServeHandle } from '../support'
import { detail, jobsGrid, nav, openSubmit } from '../jobs-support'

/**
 * A SageMaker target made in the UI, against the loopback SageMaker / CloudWatch Logs / S3 fakes:
 * `serve` gets AWS credentials from its environment (the SDK's default chain), the endpoints come
 * from the target's endpoint fields. Submit from the job form (with its cost estimate), see the job
 * complete with its log.
 */
test.describe('jobs on SageMaker', () => {
  let aws: AwsFake
  let s3: S3Fake
  let s: ServeHandle
  test.beforeAll(async () => {
    test.setTimeout(60_000)
    aws = await new AwsFake({ stepMs: 300 }).start()
    s3 = await startS3Fake(['atelier-ml'])
    const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-cloud-e2e-')), 'ws')
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'train.py'), 'print("hi")\n')
    s = await startServe({ workspace, env: { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: aws.region } })
  })
  test.afterAll(async () => {
    await s?.stop()
    await aws?.stop()
    await s3?.stop()
  })

  test('create a SageMaker target, test it, submit: InProgress → Completed with its log', async ({ page }) => {
    test.setTimeout(90_000)
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    await page.getByRole('button', { name: 'Job targets' }).click()
    const targets = page.getByRole('dialog', { name: 'Job targets' })
    await targets.getByRole('button', { name: 'Add target' }).click()
    await targets.getByRole('textbox', { name: 'Target name' }).fill('sm-fake')
    await targets.getByRole('combobox', { name: 'Kind' }).selectOption('sagemaker')
    await targets.getByRole('textbox', { name: 'Region' }).fill(aws.region)
    await targets.getByRole('textbox', { name: 'Role ARN' }).fill(FAKE_ROLE)
    await targets.getByRole('textbox', { name: 'S3 bucket' }).fill('atelier-ml')
    await targets.getByRole('textbox', { name: 'SageMaker endpoint' }).fill(aws.endpoint)
    await targets.getByRole('textbox', { name: 'S3 endpoint' }).fill(s3.endpoint)
    await expect(targets.getByRole('textbox', { name: 'Work directory' })).toHaveCount(0)
    await targets.getByRole('button', { name: 'Test connection' }).click()
    await expect(targets.getByRole('status').filter({ hasText: 'Connected' })).toContainText(`Connected to SageMaker in ${aws.region}.`, { timeout: 20_000 })
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-target.png' })
    await targets.getByRole('button', { name: 'Close dialog' }).click()
    await expect(targets).toBeHidden()

    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('sm-train')
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: `sm-fake (SageMaker, ${aws.region})` })
    await dialog.getByRole('textbox', { name: 'Script path' }).fill('train.py')
    const sm = dialog.getByRole('group', { name: 'SageMaker' })
    await sm.getByRole('textbox', { name: 'Instance count' }).fill('2')
    await sm.getByRole('textbox', { name: 'Max runtime (min)' }).fill('120')
    await expect(dialog.getByRole('group', { name: 'Resources' })).toHaveCount(0)
    await expect(sm.getByRole('status', { name: 'Cost estimate' })).toContainText(/At most \d+\.\d\d USD \(2 × ml\.m5\.large at [\d.]+ USD\/h for 2 h/)
    await dialog.getByRole('button', { name: 'Add metric definition' }).click()
    await dialog.getByRole('textbox', { name: 'Metric name 1' }).fill('loss')
    await dialog.getByRole('textbox', { name: 'Metric regex 1' }).fill('loss=([0-9.]+)')
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-form.png' })
    const submit = dialog.getByRole('button', { name: 'Submit', exact: true })
    await expect(submit).toBeEnabled()
    await submit.click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })

    const row = jobsGrid(page).getByRole('row', { name: /sm-train/ })
    await expect(row).toBeVisible()
    const d = detail(page, 'sm-train')
    await expect(d.getByText(/^atelier-[0-9a-f]+$/).first()).toBeVisible()
    await expect(d.locator('.job-detail-head').getByText('running')).toBeVisible({ timeout: 30_000 })
    await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    const log = d.getByRole('log', { name: 'Job log' })
    await expect(log).toContainText('epoch=3 loss=0.2500', { timeout: 20_000 })
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-completed.png' })
  })
})
