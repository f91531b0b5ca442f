import { test, expect } from '@playwright/test'
import { detail, jobRuns, lossSteps, nav, openSubmit, useSlurmServes } from '../jobs-support'

/**
 * Metrics from anywhere: a Slurm target whose jobs have no route to the app ("file" tracking) is
 * set up in the UI and a job is sent to it. The job logs its loss with the shipped atelier.tracking
 * into MLflow's file store in its folder (its MLFLOW_TRACKING_URI is `file:`, no server address at
 * all). The app reads the points into the job's run while it runs; serve is stopped mid-run and
 * started again on the same data dir; at the end the run has the whole curve, charted in Experiments.
 */

const STEPS = 30

const TRAIN_PY = String.raw`
import math, os, time
from atelier import tracking
print('tracking uri scheme:', os.environ['MLFLOW_TRACKING_URI'].split(':')[0], flush=True)
tracking.log_param('optimizer', 'sgd')
for step in range(${STEPS}):
    loss = 2.0 * math.exp(-0.1 * (step + 1)) + 0.05
    tracking.log_metric('loss', loss, step)
    print('step=%d loss=%.5f' % (step, loss), flush=True)
    time.sleep(0.3)
print('done', flush=True)
`

test.describe('file-store tracking: a job with no route to the app', () => {
  const slurm = useSlurmServes('atelier-filestore-e2e-')

  test('set a Slurm target to file tracking, submit, restart serve mid-run, see the whole loss curve in Experiments', async ({ page }) => {
    test.setTimeout(120_000)
    const first = await slurm.start(TRAIN_PY)

    // ---- a target for "compute nodes without a route back" ----
    await page.goto(first.url)
    await nav(page, 'Jobs').click()
    await page.getByRole('button', { name: 'Job targets' }).click()
    const targets = page.getByRole('dialog', { name: 'Job targets' })
    await targets.getByRole('button', { name: 'Add target' }).click()
    await targets.getByRole('textbox', { name: 'Target name' }).fill('compute nodes')
    await targets.getByRole('combobox', { name: 'Kind' }).selectOption('slurm')
    await targets.getByRole('combobox', { name: 'Connection' }).selectOption('local')
    await targets.getByRole('combobox', { name: 'Metrics from jobs' }).selectOption('file')
    await expect(targets.getByRole('combobox', { name: 'Metrics from jobs' })).toHaveAccessibleDescription(/file store in their folder/)
    await page.screenshot({ path: 'out/screenshots/jobs-filestore-target.png' })
    await targets.getByRole('button', { name: 'Save target' }).click()
    await expect(targets.getByRole('listbox', { name: 'Saved targets' }).getByRole('option', { name: /compute nodes/ })).toBeVisible()
    await targets.getByRole('button', { name: 'Close dialog' }).click()
    await expect(targets).toBeHidden()

    // ---- submit to it ----
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('no-route')
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: 'compute nodes (Slurm)' })
    await dialog.getByRole('textbox', { name: 'Script path' }).fill('train.py')
    await dialog.getByRole('textbox', { name: 'Python' }).fill('/usr/bin/python3')
    await dialog.getByRole('button', { name: 'Submit', exact: true }).click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })
    const d = detail(page, 'no-route')
    await expect(d.getByRole('log', { name: 'Job log' })).toContainText('tracking uri scheme: file', { timeout: 30_000 })

    // ---- live: points reach the run while the job runs ----
    const runId = (await jobRuns(first)).find((r) => r.name === 'no-route')!.id
    expect(runId).toBeTruthy()
    await expect.poll(async () => (await lossSteps(first, runId)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3)
    const liveCount = (await lossSteps(first, runId)).length
    expect(liveCount).toBeLessThan(STEPS)

    // ---- stop the app mid-run; the job goes on writing its file store ----
    expect(await first.stop()).toBe(0)
    expect((await slurm.squeue(['-o', '%T'])).trim()).toBe('RUNNING')
    const second = await slurm.restart(first)
    await page.goto(second.url)
    await nav(page, 'Jobs').click()
    await page.getByRole('grid', { name: 'Jobs' }).getByRole('row', { name: /no-route/ }).click()
    await expect(detail(page, 'no-route').locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    // every step once: nothing lost while the app was down, nothing read twice after it came back
    expect(await lossSteps(second, runId)).toEqual(Array.from({ length: STEPS }, (_, i) => i))

    // ---- Experiments: the whole curve ----
    await nav(page, 'Experiments').click()
    await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /Jobs/ }).click()
    await page.getByRole('grid', { name: 'Runs' }).getByRole('checkbox', { name: 'Select run no-route' }).check()
    await page.getByRole('combobox', { name: 'Metric' }).selectOption('loss')
    const chart = page.getByRole('img', { name: 'loss by step' })
    await expect(chart).toBeVisible()
    await expect(page.getByRole('region', { name: 'Metric chart' }).getByRole('status')).toHaveText(`${STEPS} of ${STEPS} points (raw)`)
    await page.screenshot({ path: 'out/screenshots/jobs-filestore-experiments.png' })
  })
})
