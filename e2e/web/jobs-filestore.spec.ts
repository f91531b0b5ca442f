import { test, expect } from '@playwright/test'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../../src/main/testing/slurm'
import { startServe, type ServeHandle } from '../support'
import { detail, nav, openSubmit } from '../jobs-support'

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

const sh = promisify(execFile)

test.describe('file-store tracking: a job with no route to the app', () => {
  const why = slurmUnavailable()
  test.skip(why !== null, `needs a local Slurm: ${why}`)

  let cluster: SlurmCluster | undefined
  const serves: ServeHandle[] = []
  test.afterEach(async () => {
    for (const s of serves) await s.stop()
    await cluster?.stop()
  })

  test('set a Slurm target to file tracking, submit, restart serve mid-run, see the whole loss curve in Experiments', async ({ page }) => {
    test.setTimeout(120_000)
    cluster = await startSlurm()
    const root = mkdtempSync(join(tmpdir(), 'atelier-filestore-e2e-'))
    const workspace = join(root, 'ws')
    const dataDir = join(root, 'data')
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'train.py'), TRAIN_PY)
    const first = await startServe({ workspace, dataDir, env: cluster.env })
    serves.push(first)

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
    const runId = await runIdOf(first, 'no-route')
    await expect.poll(async () => (await lossSteps(first, runId)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3)
    const liveCount = (await lossSteps(first, runId)).length
    expect(liveCount).toBeLessThan(STEPS)

    // ---- stop the app mid-run; the job goes on writing its file store ----
    expect(await first.stop()).toBe(0)
    const { stdout } = await sh('squeue', ['--noheader', '-o', '%T'], { env: { ...process.env, ...cluster.env } })
    expect(stdout.trim()).toBe('RUNNING')
    const second = await startServe({ workspace, dataDir, token: first.token, env: cluster.env })
    serves.push(second)
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

async function mlflow<T = any>(s: ServeHandle, path: string, query: Record<string, string>): Promise<T> {
  const r = await fetch(`${s.origin}/api/2.0/mlflow/${path}?${new URLSearchParams(query)}`, { headers: { Authorization: `Bearer ${s.token}` } })
  expect(r.status, `${path}: ${r.status}`).toBe(200)
  return (await r.json()) as T
}

async function runIdOf(s: ServeHandle, name: string): Promise<string> {
  const { experiment } = await mlflow(s, 'experiments/get-by-name', { experiment_name: 'Jobs' })
  const r = await fetch(`${s.origin}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [experiment.experiment_id], max_results: 100 })
  })
  const { runs = [] } = (await r.json()) as { runs?: any[] }
  const run = runs.find((x) => x.info.run_name === name)
  expect(run, `run ${name}`).toBeTruthy()
  return run.info.run_id
}

async function lossSteps(s: ServeHandle, runId: string): Promise<number[]> {
  const { metrics = [] } = await mlflow<{ metrics?: { step: number }[] }>(s, 'metrics/get-history', { run_id: runId, metric_key: 'loss' })
  return metrics.map((m) => m.step).sort((a, b) => a - b)
}
