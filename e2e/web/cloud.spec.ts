import { test, expect, type Locator, type Page } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../src/main/testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../src/main/testing/cloud/s3Fake'
import { K8sFake } from '../../src/main/testing/cloud/k8sFake'
import { startServe, type ServeHandle } from '../support'
import { detail, jobsGrid, nav, openSubmit } from '../jobs-support'

/**
 * The job script: prints one `epoch=N loss=X` line per epoch (the metric definition's regex reads
 * them from the CloudWatch log) and logs val_loss with the shipped atelier.tracking, which, with no
 * tracking URI reachable from SageMaker, goes to MLflow's file store in the job's output data.
 */
const TRAIN = `import argparse, os, time
from atelier import tracking
p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=3)
p.add_argument('--lr', type=float, default=0.1)
p.add_argument('--nap', type=float, default=0.2)
a = p.parse_args()
for i in range(a.epochs):
    loss = 1 / (i + 1 + a.lr * 10)
    print('epoch=%d loss=%.4f' % (i + 1, loss), flush=True)
    tracking.log_metric('val_loss', round(loss * 2, 4), i)
    time.sleep(a.nap)
open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('weights')
`

/**
 * A SageMaker target made in the UI, against the loopback SageMaker / CloudWatch Logs / S3 fakes:
 * `serve` gets AWS credentials from its environment (the SDK's default chain), the endpoints come
 * from the target's endpoint fields. Submit from the job form (with its cost estimate), see the job
 * complete with its log.
 */
test.describe('jobs on SageMaker and Kubernetes', () => {
  let aws: AwsFake
  let s3: S3Fake
  let k8s: K8sFake
  let kubeconfig: string
  let s: ServeHandle
  test.beforeAll(async () => {
    test.setTimeout(60_000)
    s3 = await startS3Fake(['atelier-ml'])
    // SageMaker jobs run their script for real (the fake's local container mode)
    aws = await new AwsFake({ stepMs: 300, localContainer: { s3Endpoint: s3.endpoint, stopGraceSec: 1 } }).start()
    k8s = await new K8sFake({ stepMs: 300, nodes: 3, gpusPerNode: 1, s3Credentials: [FAKE_CREDENTIALS] }).start()
    const root = mkdtempSync(join(tmpdir(), 'atelier-cloud-e2e-'))
    kubeconfig = k8s.writeKubeconfig(join(root, 'kubeconfig'))
    const workspace = join(root, 'ws')
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'train.py'), TRAIN)
    s = await startServe({ workspace, env: { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_REGION: aws.region } })
  })
  test.afterAll(async () => {
    await s?.stop()
    await aws?.stop()
    await s3?.stop()
    await k8s?.stop()
  })

  /** Adds a Kubernetes target over the fake's kubeconfig in the targets dialog and tests it. */
  async function addK8sTarget(page: Page, name: string): Promise<void> {
    await page.getByRole('button', { name: 'Job targets' }).click()
    const targets = page.getByRole('dialog', { name: 'Job targets' })
    await targets.getByRole('button', { name: 'Add target' }).click()
    await targets.getByRole('textbox', { name: 'Target name' }).fill(name)
    await targets.getByRole('combobox', { name: 'Kind' }).selectOption('kubernetes')
    await targets.getByRole('textbox', { name: 'Kubeconfig path' }).fill(kubeconfig)
    await targets.getByRole('button', { name: 'Test connection' }).click()
    await expect(targets.getByRole('status').filter({ hasText: 'Connected' })).toContainText('Connected to', { timeout: 20_000 })
    await page.screenshot({ path: `out/screenshots/cloud-k8s-target-${name}.png` })
    await targets.getByRole('button', { name: 'Close dialog' }).click()
    await expect(targets).toBeHidden()
  }

  /** Fills the job form for a script on a Kubernetes target; the caller adds the rest and submits. */
  async function k8sForm(page: Page, name: string, target: string): Promise<Locator> {
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(name)
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: `${target} (Kubernetes)` })
    await dialog.getByRole('textbox', { name: 'Script path' }).fill('train.py')
    await dialog.getByRole('group', { name: 'Kubernetes' }).getByRole('textbox', { name: 'Container image' }).fill('pytorch/pytorch')
    return dialog
  }

  /** Opens the job form for train.py on the SageMaker target the first test made; the caller adds the rest and submits. */
  async function smForm(page: Page, name: string): Promise<Locator> {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(name)
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: `sm-fake (SageMaker, ${aws.region})` })
    await dialog.getByRole('textbox', { name: 'Script path' }).fill('train.py')
    return dialog
  }

  async function submit(dialog: Locator): Promise<void> {
    const b = dialog.getByRole('button', { name: 'Submit', exact: true })
    await expect(b).toBeEnabled()
    await b.click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })
  }

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
    // no tracking URI reachable from SageMaker: the dialog says what that means
    await expect(targets.getByRole('textbox', { name: 'Tracking URI reachable from the job' })).toHaveValue('')
    await expect(targets.getByRole('note', { name: 'Metrics from jobs' })).toContainText('No tracking URI reachable from SageMaker')
    await expect(targets.getByRole('note', { name: 'Metrics from jobs' })).toContainText('arrive when the job ends')
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
    // the metric definition's loss values, parsed from the log, on the job's chart
    const metrics = d.getByRole('region', { name: 'Metrics' })
    await expect(metrics.getByRole('img', { name: 'loss by step', exact: true })).toHaveAccessibleDescription(/^loss of sm-train: [1-9]\d* points, last 0\.25/, { timeout: 20_000 })
    // the values the script logged with atelier.tracking, read from its output when the job ended
    await expect(d.getByRole('note', { name: 'How metrics arrive' })).toContainText('arrive when the job ends')
    await expect(metrics.getByRole('img', { name: 'val_loss by step' })).toHaveAccessibleDescription('val_loss of sm-train: 3 points, last 0.5', { timeout: 20_000 })
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-completed.png' })
    await metrics.getByRole('img', { name: 'val_loss by step' }).scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-logged-metrics.png' })
  })

  test('a sweep on SageMaker runs as one 4-trial hyperparameter tuning job whose training jobs are its trials', async ({ page }) => {
    test.setTimeout(120_000)
    const dialog = await smForm(page, 'sm-tune')
    await dialog.getByRole('button', { name: 'Add metric definition' }).click()
    await dialog.getByRole('textbox', { name: 'Metric name 1' }).fill('loss')
    await dialog.getByRole('textbox', { name: 'Metric regex 1' }).fill('loss=([0-9.]+)')
    await dialog.getByRole('checkbox', { name: 'Run as sweep' }).check()
    await dialog.getByRole('combobox', { name: 'Strategy' }).selectOption('grid')
    await dialog.getByRole('textbox', { name: 'Sweep parameter 1' }).fill('lr')
    await dialog.getByRole('textbox', { name: 'Sweep values 1' }).fill('0.1, 0.03, 0.01, 0.003')
    await dialog.getByRole('combobox', { name: 'Objective metric' }).fill('loss')
    await expect(dialog.getByRole('status').filter({ hasText: 'trials' })).toHaveText('4 trials')
    await submit(dialog)

    // one tuning job on SageMaker, with the objective and the four values as a categorical range
    await expect.poll(() => aws.callsTo('CreateHyperParameterTuningJob').length, { timeout: 30_000 }).toBe(1)
    const create = aws.callsTo('CreateHyperParameterTuningJob')[0].body
    expect(create.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective).toEqual({ Type: 'Minimize', MetricName: 'loss' })
    expect(create.HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges).toEqual([{ Name: 'lr', Values: ['0.1', '0.03', '0.01', '0.003'] }])
    expect(create.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs).toBe(4)

    await page.getByRole('tab', { name: 'Sweeps' }).click()
    await page.getByRole('listbox', { name: 'Sweeps' }).getByRole('option', { name: /sm-tune/ }).click()
    const trials = page.getByRole('region', { name: 'Sweep sm-tune' }).getByRole('table', { name: 'Trials' })
    await expect(trials.getByRole('row')).toHaveCount(5, { timeout: 60_000 })
    await expect(trials.getByRole('cell', { name: 'succeeded' })).toHaveCount(4, { timeout: 90_000 })
    for (const v of ['0.1', '0.03', '0.01', '0.003']) await expect(trials).toContainText(v)
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-tuning.png' })
    // each trial ran train.py for real; what it logged with atelier.tracking came home in its own output data
    await trials.getByRole('button', { name: 'Open job of trial 3' }).click()
    const metrics = detail(page, 'sm-tune #3').getByRole('region', { name: 'Metrics' })
    await expect(metrics.getByRole('img', { name: 'val_loss by step' })).toHaveAccessibleDescription(/^val_loss of sm-tune #3: 3 points, last 0\.\d+$/, { timeout: 30_000 })
    await metrics.getByRole('img', { name: 'val_loss by step' }).scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-trial-metrics.png' })
  })

  test('a ThrottlingException storm while a SageMaker job runs: a delay notice, not a failure, then Completed', async ({ page }) => {
    test.setTimeout(90_000)
    const dialog = await smForm(page, 'sm-throttled')
    await dialog.getByRole('button', { name: 'Add hyperparameter' }).click()
    await dialog.getByRole('textbox', { name: 'Hyperparameter name 1' }).fill('epochs')
    await dialog.getByRole('textbox', { name: 'Hyperparameter value 1' }).fill('50')
    // long enough (25 s) for the storm to hit while it runs
    await dialog.getByRole('button', { name: 'Add hyperparameter' }).click()
    await dialog.getByRole('textbox', { name: 'Hyperparameter name 2' }).fill('nap')
    await dialog.getByRole('textbox', { name: 'Hyperparameter value 2' }).fill('0.5')
    await submit(dialog)
    const d = detail(page, 'sm-throttled')
    const head = d.locator('.job-detail-head')
    await expect(head.getByText('running')).toBeVisible({ timeout: 30_000 })
    // throttled status calls: the SDK's backoff (0.5 s base for throttling) turns them into a delay
    aws.throttle(3, 'ListTrainingJobs')
    await expect(d.locator('.job-reason')).toHaveText('Reason: SageMaker is throttling requests; retrying', { timeout: 30_000 })
    await expect(head.getByText('running')).toBeVisible()
    await page.screenshot({ path: 'out/screenshots/cloud-sagemaker-throttled.png' })
    await expect(head.getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    await expect(d.locator('.job-reason')).not.toContainText('throttling')
    await expect(d.getByRole('log', { name: 'Job log' })).toContainText('epoch=50 loss=', { timeout: 20_000 })
  })

  test('the Running panel lists a SageMaker job with its instances and cost, totals the cloud cost per hour, and stops it', async ({ page }) => {
    test.setTimeout(60_000)
    await page.goto(s.url)
    // the target made by the first test
    const target = (await s.rpc('jobs.targets.list', {})).find((t: { name: string }) => t.name === 'sm-fake')
    const job = await s.rpc('jobs.submit', {
      spec: { name: 'sm-costly', target: { kind: 'sagemaker', targetId: target.id }, entry: { kind: 'script', path: 'train.py' }, hyperparameters: { epochs: 50 }, sagemaker: { instanceType: 'ml.m5.xlarge', instanceCount: 2 } }
    })
    await expect.poll(async () => (await s.rpc('jobs.get', { jobId: job.id })).state, { timeout: 30_000 }).toBe('running')
    await page.getByRole('button', { name: /^Running \(\d+\)$/ }).click()
    const panel = page.getByRole('dialog', { name: 'Running' })
    const row = panel.getByRole('row', { name: 'Job sm-costly' })
    await expect(row).toContainText('ml.m5.xlarge × 2')
    await expect(row).toContainText(/\$0\.46\/h · \$\d+\.\d+ so far/)
    await expect(panel.getByRole('status', { name: 'Cloud cost per hour' })).toHaveText('Cloud: $0.46/h (1 resource)')
    await page.screenshot({ path: 'out/screenshots/cloud-running-cost.png' })
    await row.getByRole('button', { name: 'Stop job sm-costly' }).click()
    await expect(panel.getByRole('status').filter({ hasText: 'Stopped job sm-costly' })).toBeVisible()
    await expect(row).toHaveCount(0)
    expect(aws.callsTo('StopTrainingJob').map((c) => c.body.TrainingJobName)).toContain(`atelier-${job.id}`)
  })

  test('Kubernetes target from a kubeconfig: a PyTorchJob with 2 workers succeeds with each pod in the log', async ({ page }) => {
    test.setTimeout(90_000)
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    await addK8sTarget(page, 'k8s-fake')
    const dialog = await k8sForm(page, 'pt-train', 'k8s-fake')
    await dialog.getByRole('group', { name: 'Kubernetes' }).getByRole('textbox', { name: 'Workers' }).fill('2')
    await page.screenshot({ path: 'out/screenshots/cloud-k8s-form.png' })
    await submit(dialog)
    const d = detail(page, 'pt-train')
    await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    const log = d.getByRole('log', { name: 'Job log' })
    for (const pod of ['master-0', 'worker-0', 'worker-1']) await expect(log).toContainText(new RegExp(`${pod}\\] rank=\\d epoch=3 loss=`), { timeout: 20_000 })
    // each line names its pod once (the container's output does not carry it)
    await expect(log).not.toContainText('] [')
    expect(k8s.list('pytorchjobs', 'default')).toHaveLength(1)
    await page.screenshot({ path: 'out/screenshots/cloud-k8s-completed.png' })
  })

  test('Kubernetes target with code from S3: the pod\'s init container downloads sourcedir.tar.gz through a presigned URL', async ({ page }) => {
    test.setTimeout(90_000)
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    await page.getByRole('button', { name: 'Job targets' }).click()
    const targets = page.getByRole('dialog', { name: 'Job targets' })
    await targets.getByRole('button', { name: 'Add target' }).click()
    await targets.getByRole('textbox', { name: 'Target name' }).fill('k8s-s3')
    await targets.getByRole('combobox', { name: 'Kind' }).selectOption('kubernetes')
    await targets.getByRole('textbox', { name: 'Kubeconfig path' }).fill(kubeconfig)
    await targets.getByRole('combobox', { name: 'Code delivery' }).selectOption('s3')
    await targets.getByRole('textbox', { name: 'S3 bucket for code' }).fill('atelier-ml')
    await targets.getByRole('textbox', { name: 'S3 region' }).fill(aws.region)
    await targets.getByRole('textbox', { name: 'S3 prefix' }).fill('k8s-code')
    await targets.getByRole('textbox', { name: 'Access key id' }).fill(FAKE_CREDENTIALS.accessKeyId)
    await targets.getByLabel('Secret access key').fill(FAKE_CREDENTIALS.secretAccessKey)
    await targets.getByRole('textbox', { name: 'S3 endpoint' }).fill(s3.endpoint)
    await targets.getByRole('button', { name: 'Test connection' }).click()
    await expect(targets.getByRole('status').filter({ hasText: 'Connected' })).toContainText('Connected to', { timeout: 20_000 })
    await page.screenshot({ path: 'out/screenshots/cloud-k8s-target-s3.png' })
    await targets.getByRole('button', { name: 'Close dialog' }).click()
    await expect(targets).toBeHidden()
    const dialog = await k8sForm(page, 'k8s-from-s3', 'k8s-s3')
    await submit(dialog)
    const d = detail(page, 'k8s-from-s3')
    await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    const fetched = k8s.initFetches.filter((f) => new URL(f.url).pathname.startsWith('/atelier-ml/k8s-code/'))
    expect(fetched.map((f) => [f.container, f.status, f.error])).toEqual([['fetch-code', 200, null]])
  })

  test('Kubernetes: a pod asking for more GPUs than a node has shows the scheduler\'s message as its reason', async ({ page }) => {
    test.setTimeout(60_000)
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    await addK8sTarget(page, 'k8s-gpu')
    const dialog = await k8sForm(page, 'gpu-hungry', 'k8s-gpu')
    await dialog.getByRole('textbox', { name: 'GPUs' }).fill('4')
    await submit(dialog)
    const d = detail(page, 'gpu-hungry')
    await expect(d.locator('.job-reason')).toContainText(
      'FailedScheduling: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
      { timeout: 30_000 }
    )
    await expect(d.locator('.job-detail-head').getByText('failed')).toHaveCount(0)
    await page.screenshot({ path: 'out/screenshots/cloud-k8s-unschedulable.png' })
  })
})
