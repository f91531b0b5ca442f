import { test, expect } from '@playwright/test'
import { detail, jobRuns, lossSteps, nav, openSubmit, useSlurmServes } from '../jobs-support'

/**
 * Tried as a new user would: a training script that logs with MLflow is sent
 * to a real Slurm from the UI as a 2-setting grid sweep; the app (serve) is stopped while both trials
 * run and started again on the same data dir, workspace and token but a new port; the sweep is
 * re-attached, both trials succeed with their full logs, and their runs hold every loss point the
 * script logged (through the jobs' tracking relay, whose address outlives the app), charted in
 * Experiments.
 */

const STEPS = 30

/**
 * MLflow over REST with urllib only (no mlflow package). Points that cannot be sent (the app is
 * down) are kept and sent with the next step, and for up to a minute at the end, as the mlflow
 * client's own retries would.
 */
const TRAIN_PY = String.raw`
import argparse, json, math, os, sys, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument('--lr', type=float, default=float(os.environ.get('HP_LR', '0.05')))
lr = ap.parse_known_args()[0].lr
URI = os.environ['MLFLOW_TRACKING_URI'].rstrip('/')
RUN = os.environ['MLFLOW_RUN_ID']
H = {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + os.environ['MLFLOW_TRACKING_TOKEN']}
pending = []

def flush():
    global pending
    if not pending:
        return True
    body = json.dumps({'run_id': RUN, 'metrics': pending}).encode()
    req = urllib.request.Request(URI + '/api/2.0/mlflow/runs/log-batch', data=body, method='POST', headers=H)
    try:
        urllib.request.urlopen(req, timeout=5).read()
        pending = []
        return True
    except Exception as e:
        print('mlflow unreachable, %d point(s) kept: %s' % (len(pending), e), file=sys.stderr, flush=True)
        return False

print('training with lr', lr, flush=True)
for step in range(${STEPS}):
    loss = 2.0 * math.exp(-lr * 3 * (step + 1)) + 0.05
    print('step=%d loss=%.5f' % (step, loss), flush=True)
    pending.append({'key': 'loss', 'value': loss, 'timestamp': int(time.time() * 1000), 'step': step})
    flush()
    time.sleep(0.3)
deadline = time.time() + 60
while not flush() and time.time() < deadline:
    time.sleep(1)
print('done', flush=True)
sys.exit(0 if not pending else 3)
`

test.describe('a Slurm sweep survives an app restart', () => {
  const slurm = useSlurmServes('atelier-accept-')

  test('sweep train.py (lr = 0.1, 0.01) to Slurm from the UI, restart serve mid-run, re-attach, see both loss curves', async ({ page }) => {
    test.setTimeout(120_000)
    const t0 = Date.now()
    const first = await slurm.start(TRAIN_PY)

    // ---- submit the sweep through the UI ----
    await page.goto(first.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('accept-lr')
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: 'Slurm on this machine' })
    await dialog.getByRole('textbox', { name: 'Script path' }).fill('train.py')
    await dialog.getByRole('textbox', { name: 'Python' }).fill('/usr/bin/python3')
    await dialog.getByRole('checkbox', { name: 'Run as sweep' }).check()
    await dialog.getByRole('combobox', { name: 'Strategy' }).selectOption('grid')
    await dialog.getByRole('textbox', { name: 'Sweep parameter 1' }).fill('lr')
    await dialog.getByRole('textbox', { name: 'Sweep values 1' }).fill('0.1, 0.01')
    await expect(dialog.getByRole('status').filter({ hasText: 'trials' })).toHaveText('2 trials')
    await dialog.getByRole('button', { name: 'Submit', exact: true }).click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })

    const sweep = page.getByRole('region', { name: 'Sweep accept-lr' })
    const trials = sweep.getByRole('table', { name: 'Trials' })
    await expect(trials.getByRole('row')).toHaveCount(3)
    await expect(trials.getByRole('cell', { name: 'running' })).toHaveCount(2, { timeout: 30_000 })

    // ---- stop the app while both trials run; Slurm still has them ----
    expect(await first.stop()).toBe(0)
    const queue = await slurm.squeue(['--array', '-o', '%i %T'])
    const queued = queue.trim().split('\n').filter(Boolean)
    expect(queued, `squeue after the app stopped:\n${queue}`).toHaveLength(2)
    for (const line of queued) expect(line).toMatch(/^\d+_[01] (RUNNING|PENDING|CONFIGURING)$/)

    // ---- start it again: same data dir, workspace and token, a new port ----
    const second = await slurm.restart(first)
    expect(second.origin).not.toBe(first.origin)
    await page.goto(second.url)
    await nav(page, 'Jobs').click()
    await page.getByRole('tab', { name: 'Sweeps' }).click()
    await page.getByRole('listbox', { name: 'Sweeps' }).getByRole('option', { name: /accept-lr/ }).click()
    await expect(trials.getByRole('row')).toHaveCount(3)
    await expect(trials.getByRole('cell', { name: 'succeeded' })).toHaveCount(2, { timeout: 60_000 })
    await expect(trials).toContainText('0.1')
    await expect(trials).toContainText('0.01')
    await page.screenshot({ path: '/tmp/accept-1-sweep-after-restart.png' })

    // each trial's log is whole across the restart: every step, then the end
    for (const i of [0, 1]) {
      await page.getByRole('tab', { name: 'Sweeps' }).click()
      await trials.getByRole('button', { name: `Open job of trial ${i}` }).click()
      const d = detail(page, `accept-lr #${i}`)
      await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible()
      const log = d.getByRole('log', { name: 'Job log' })
      await expect(log).toContainText('done')
      // the script did run on while the app was down (its points waited for the restart)
      await expect(log).toContainText('mlflow unreachable')
      await d.getByRole('searchbox', { name: 'Search log' }).fill('loss=')
      await expect(d.getByRole('status').filter({ hasText: /matches/ })).toHaveText(`1 of ${STEPS} matches`)
    }

    // the runs ended FINISHED, each with every loss point the script logged over MLflow
    const runs = await jobRuns(second)
    expect(runs.map((r) => r.name).sort()).toEqual(['accept-lr #0', 'accept-lr #1'])
    for (const r of runs) {
      expect(r.status, r.name).toBe('FINISHED')
      expect(r.params.lr, r.name).toMatch(/^0\.0?1$/)
      const steps = await lossSteps(second, r.id)
      expect(steps, r.name).toEqual(Array.from({ length: STEPS }, (_, i) => i))
    }

    // ---- Experiments: both runs, both loss curves ----
    await nav(page, 'Experiments').click()
    await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /Jobs/ }).click()
    const grid = page.getByRole('grid', { name: 'Runs' })
    for (const i of [0, 1]) await grid.getByRole('checkbox', { name: `Select run accept-lr #${i}` }).check()
    await expect(page.getByRole('status').filter({ hasText: '2 runs, 2 selected' })).toBeVisible()
    await page.getByRole('combobox', { name: 'Metric' }).selectOption('loss')
    const chart = page.getByRole('img', { name: 'loss by step' })
    await expect(chart).toBeVisible()
    await expect(chart).toHaveAccessibleDescription(/loss for accept-lr #[01], accept-lr #[01]/)
    await expect(page.getByRole('region', { name: 'Metric chart' }).getByRole('status')).toHaveText(`${2 * STEPS} of ${2 * STEPS} points (raw)`)
    await expect(chart.locator('.scatterlayer .trace')).toHaveCount(2)
    await page.screenshot({ path: '/tmp/accept-2-experiments-loss.png' })
    console.log(`slurm sweep across a restart: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  })
})
