import { test, expect, type Locator } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../../src/main/testing/slurm'
import { sshdUnavailable, startSshd, type TestSshd } from '../../src/main/testing/sshd'
import { startServe, type ServeHandle } from '../support'
import { detail, jobsGrid, nav, openSubmit } from '../jobs-support'

/**
 * The Jobs room end to end: a script sent to a real single-node Slurm from the UI, watched until it
 * finishes with its log and loss curve; a 2-trial grid sweep; cancelling a running job. Plus, on the
 * local backend (no Slurm needed): field-level validation and a 100k-line log.
 */

/** A training script: prints `epoch=i loss=…` (parsed by a metric definition) and logs `acc` over MLflow REST when it can. */
const TRAIN_PY = String.raw`
import json, math, os, sys, time, urllib.request

lr = float(os.environ.get('HP_LR', '0.05'))
uri = os.environ.get('MLFLOW_TRACKING_URI')
run_id = os.environ.get('MLFLOW_RUN_ID')
token = os.environ.get('MLFLOW_TRACKING_TOKEN')

def log_acc(step, value):
    if not (uri and run_id):
        return
    body = json.dumps({'run_id': run_id, 'metrics': [{'key': 'acc', 'value': value, 'timestamp': int(time.time() * 1000), 'step': step}]}).encode()
    req = urllib.request.Request(uri.rstrip('/') + '/api/2.0/mlflow/runs/log-batch', data=body, method='POST', headers={'Content-Type': 'application/json'})
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except Exception as e:
        print('mlflow logging failed:', e, file=sys.stderr)

print('training with lr', lr, flush=True)
for epoch in range(8):
    loss = 2.0 * math.exp(-lr * 10 * (epoch + 1)) + 0.01
    print(f'epoch={epoch} loss={loss:.5f}', flush=True)
    log_acc(epoch, 1 - loss / 2)
    time.sleep(0.4)
print('done', flush=True)
`

async function fillTraining(dialog: Locator, name: string, target: string) {
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(name)
  await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: target })
  await dialog.getByRole('textbox', { name: 'Script path' }).fill('train.py')
  await dialog.getByRole('textbox', { name: 'Time limit (min)' }).fill('5')
  await dialog.getByRole('button', { name: 'Add metric definition' }).click()
  await dialog.getByRole('textbox', { name: 'Metric name 1' }).fill('loss')
  await dialog.getByRole('textbox', { name: 'Metric regex 1' }).fill('loss=([0-9.]+)')
}

test.describe('jobs on Slurm', () => {
  const why = slurmUnavailable()
  test.skip(why !== null, `needs a local Slurm: ${why}`)

  let cluster: SlurmCluster
  let s: ServeHandle
  test.beforeAll(async () => {
    test.setTimeout(90_000)
    cluster = await startSlurm()
    const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-jobs-')), 'ws')
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'train.py'), TRAIN_PY)
    s = await startServe({ workspace, env: cluster.env })
  })
  test.afterAll(async () => {
    await s?.stop()
    await cluster?.stop()
  })

  test('submit train.py to Slurm from the UI: queued/running → succeeded, with its log and loss chart', async ({ page }) => {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await fillTraining(dialog, 'train-slurm', 'Slurm on this machine')
    const submit = dialog.getByRole('button', { name: 'Submit', exact: true })
    await expect(submit).toBeEnabled()
    await page.screenshot({ path: '/tmp/jobs-submit-form.png' })
    await submit.click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })

    const row = jobsGrid(page).getByRole('row', { name: /train-slurm/ })
    await expect(row).toBeVisible()
    await expect(row).toHaveAttribute('aria-selected', 'true')
    const d = detail(page, 'train-slurm')
    // the remote id (Slurm job id) is known as soon as submit returns
    await expect(d.getByText(/^\d+$/).first()).toBeVisible()
    await expect(d.getByRole('heading', { name: 'train-slurm' })).toBeVisible()
    await expect(d.locator('.job-detail-head').getByText(/queued|starting|running|succeeded/)).toBeVisible()
    await expect(d.locator('.job-detail-head').getByText('running')).toBeVisible({ timeout: 30_000 })
    await page.screenshot({ path: '/tmp/jobs-slurm-running.png' })
    await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    await expect(row.getByRole('gridcell').filter({ hasText: 'succeeded' })).toBeVisible()
    await expect(row.getByRole('gridcell', { name: '0', exact: true })).toBeVisible()

    const log = d.getByRole('log', { name: 'Job log' })
    await expect(log).toContainText('epoch=7 loss=')
    await expect(log).toContainText('done')

    const chart = d.getByRole('img', { name: 'loss by step' })
    await expect(chart).toBeVisible()
    await expect(chart).toHaveAccessibleDescription(/loss of train-slurm: 8 points/)
    await expect(chart.locator('path.js-line')).toHaveCount(1)

    // search the log: count, next/previous
    const search = d.getByRole('searchbox', { name: 'Search log' })
    await search.fill('loss=')
    await expect(d.getByRole('status').filter({ hasText: /of 8 matches/ })).toHaveText('1 of 8 matches')
    await d.getByRole('button', { name: 'Next match' }).click()
    await expect(d.getByRole('status').filter({ hasText: /of 8 matches/ })).toHaveText('2 of 8 matches')
    await d.getByRole('button', { name: 'Previous match' }).click()
    await d.getByRole('button', { name: 'Previous match' }).click()
    await expect(d.getByRole('status').filter({ hasText: /of 8 matches/ })).toHaveText('8 of 8 matches')
    await expect(d.getByRole('checkbox', { name: 'Follow log' })).not.toBeChecked()
    await expect(log.locator('mark').first()).toHaveText('loss=')
    await page.screenshot({ path: '/tmp/jobs-slurm-succeeded.png' })

    // the generated sbatch script is there to read
    await d.getByText('Generated script').click()
    await expect(d.getByLabel('Generated script')).toContainText('#SBATCH')

    // clone and edit opens the form prefilled
    await d.getByRole('button', { name: 'Clone and edit' }).click()
    const clone = page.getByRole('dialog', { name: 'Submit job' })
    await expect(clone.getByRole('textbox', { name: 'Name', exact: true })).toHaveValue('train-slurm-copy')
    await expect(clone.getByRole('textbox', { name: 'Script path' })).toHaveValue('train.py')
    await expect(clone.getByRole('combobox', { name: 'Target' })).toHaveValue('slurm-local')
    await expect(clone.getByRole('textbox', { name: 'Metric regex 1' })).toHaveValue('loss=([0-9.]+)')
    await page.keyboard.press('Escape')
    await expect(clone).toBeHidden()

    // the job's tracking run, in the Experiments room
    await d.getByRole('button', { name: 'Open in Experiments' }).click()
    await expect(page.getByRole('main', { name: 'Experiments' })).toBeVisible()
    await expect(page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /Jobs/, selected: true })).toBeVisible()
    await expect(page.getByRole('region', { name: /^Run train-slurm/ })).toBeVisible()
  })

  test('a 2-trial grid sweep on Slurm: both trials succeed and the best one is shown', async ({ page }) => {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await fillTraining(dialog, 'sweep-lr', 'Slurm on this machine')
    await dialog.getByRole('checkbox', { name: 'Run as sweep' }).check()
    await dialog.getByRole('textbox', { name: 'Sweep parameter 1' }).fill('lr')
    await dialog.getByRole('textbox', { name: 'Sweep values 1' }).fill('0.1, 0.01')
    await dialog.getByRole('combobox', { name: 'Objective metric' }).fill('loss')
    await dialog.getByRole('combobox', { name: 'Goal' }).selectOption('minimize')
    await expect(dialog.getByRole('status').filter({ hasText: 'trials' })).toHaveText('2 trials')
    await page.screenshot({ path: '/tmp/jobs-sweep-form.png' })
    await dialog.getByRole('button', { name: 'Submit', exact: true }).click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })

    await expect(page.getByRole('tab', { name: 'Sweeps' })).toHaveAttribute('aria-selected', 'true')
    const sweep = page.getByRole('region', { name: 'Sweep sweep-lr' })
    const trials = sweep.getByRole('table', { name: 'Trials' })
    await expect(trials.getByRole('row')).toHaveCount(3)
    await expect(trials.getByRole('cell', { name: 'succeeded' })).toHaveCount(2, { timeout: 90_000 })
    await expect(sweep.getByRole('status').filter({ hasText: 'Best trial' })).toContainText(/Best trial: #\d \(lr=0\.1\) with loss 0\.\d+ \(minimize\)/, { timeout: 20_000 })
    const best = trials.getByRole('row').filter({ hasText: '★ best' })
    await expect(best).toHaveCount(1)
    await expect(best).toContainText('0.1')
    await expect(sweep.getByRole('img', { name: 'Parallel coordinates of the trials' })).toBeVisible()
    await expect(sweep.getByRole('button', { name: 'Stop sweep' })).toBeDisabled()
    await page.screenshot({ path: '/tmp/jobs-sweep.png' })

    // each trial is a job of its own, in the jobs list
    await page.getByRole('tab', { name: 'Jobs' }).click()
    await expect(jobsGrid(page).getByRole('row', { name: /sweep-lr/ })).toHaveCount(2)
  })

  test('stop a sweep early: the running trial and the waiting ones are cancelled', async ({ page }) => {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('stop-me')
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: 'Slurm on this machine' })
    await dialog.getByRole('combobox', { name: 'Entry kind' }).selectOption('command')
    await dialog.getByRole('textbox', { name: 'Command' }).fill('echo trial x=$HP_X; sleep 300')
    await dialog.getByRole('checkbox', { name: 'Run as sweep' }).check()
    await dialog.getByRole('textbox', { name: 'Sweep parameter 1' }).fill('x')
    await dialog.getByRole('textbox', { name: 'Sweep values 1' }).fill('1, 2, 3')
    await dialog.getByRole('textbox', { name: 'Concurrency' }).fill('1')
    await expect(dialog.getByRole('status').filter({ hasText: 'trials' })).toHaveText('3 trials')
    await dialog.getByRole('button', { name: 'Submit', exact: true }).click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })

    const sweep = page.getByRole('region', { name: 'Sweep stop-me' })
    const trials = sweep.getByRole('table', { name: 'Trials' })
    await expect(trials.getByRole('cell', { name: 'running' })).toHaveCount(1, { timeout: 30_000 })
    await sweep.getByRole('button', { name: 'Stop sweep' }).click()
    await expect(sweep.locator('.job-detail-head').getByText('stopped')).toBeVisible({ timeout: 30_000 })
    await expect(trials.getByRole('cell', { name: /running|queued|pending|starting/ })).toHaveCount(0, { timeout: 30_000 })
    await expect(trials.getByRole('cell', { name: 'succeeded' })).toHaveCount(0)
    await expect(page.getByRole('listbox', { name: 'Sweeps' }).getByRole('option', { name: /stop-me/ })).toContainText('stopped')
    await page.screenshot({ path: '/tmp/jobs-sweep-stopped.png' })
  })

  test('cancel a running job on Slurm', async ({ page }) => {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('long-sleep')
    await dialog.getByRole('combobox', { name: 'Target' }).selectOption({ label: 'Slurm on this machine' })
    await dialog.getByRole('combobox', { name: 'Entry kind' }).selectOption('command')
    await dialog.getByRole('textbox', { name: 'Command' }).fill('echo sleeping; sleep 300')
    await dialog.getByRole('textbox', { name: 'Command' }).press('Enter')
    await expect(dialog).toBeHidden({ timeout: 30_000 })

    const d = detail(page, 'long-sleep')
    await expect(d.locator('.job-detail-head').getByText('running')).toBeVisible({ timeout: 30_000 })
    await expect(d.getByRole('log', { name: 'Job log' })).toContainText('sleeping')
    await d.getByRole('button', { name: 'Cancel job' }).click()
    const confirm = page.getByRole('dialog', { name: 'Cancel this job?' })
    await confirm.getByRole('button', { name: 'Yes, cancel it' }).click()
    await expect(d.locator('.job-detail-head').getByText('cancelled')).toBeVisible({ timeout: 30_000 })
    await expect(d.getByRole('button', { name: 'Cancel job' })).toBeDisabled()
    await page.getByRole('combobox', { name: 'Filter by state' }).selectOption('cancelled')
    await expect(jobsGrid(page).getByRole('row', { name: /long-sleep/ })).toBeVisible()
    await expect(jobsGrid(page).getByRole('row', { name: /train-slurm|sweep-lr/ })).toHaveCount(0)
    await page.screenshot({ path: '/tmp/jobs-cancelled.png' })
  })
})

test.describe('jobs on this computer', () => {
  let s: ServeHandle
  test.beforeEach(async () => {
    const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-jobs-')), 'ws')
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'train.py'), TRAIN_PY)
    s = await startServe({ workspace })
  })
  test.afterEach(async () => {
    await s?.stop()
  })

  test('bad input gets field-level errors and Submit stays disabled; nothing is lost', async ({ page }) => {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    const submit = dialog.getByRole('button', { name: 'Submit', exact: true })
    await expect(submit).toBeDisabled()
    const name = dialog.getByRole('textbox', { name: 'Name', exact: true })
    await name.fill('bad/name')
    const cpus = dialog.getByRole('textbox', { name: 'CPUs' })
    await cpus.fill('two')
    await cpus.blur()
    await name.focus()
    await name.blur()
    await expect(cpus).toHaveAttribute('aria-invalid', 'true')
    await expect(cpus).toHaveAccessibleDescription('CPUs must be a whole number')
    await expect(name).toHaveAttribute('aria-invalid', 'true')
    await expect(name).toHaveAccessibleDescription(/letters, digits/)
    // the service checks meaning: a script that is not there
    await name.fill('good-name')
    await cpus.fill('1')
    const script = dialog.getByRole('textbox', { name: 'Script path' })
    await script.fill('missing.py')
    await script.blur()
    await expect(script).toHaveAttribute('aria-invalid', 'true')
    await expect(script).toHaveAccessibleDescription(/missing\.py/)
    await expect(submit).toBeDisabled()
    await page.screenshot({ path: '/tmp/jobs-validation.png' })
    await script.fill('train.py')
    await expect(script).not.toHaveAttribute('aria-invalid', 'true')
    await expect(submit).toBeEnabled()
    await expect(name).toHaveValue('good-name')
    await expect(cpus).toHaveValue('1')
  })

  test('a 100k-line log stays virtualized, follows the end and searches fast', async ({ page }) => {
    await page.goto(s.url)
    await nav(page, 'Jobs').click()
    const dialog = await openSubmit(page)
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('chatty')
    await dialog.getByRole('combobox', { name: 'Entry kind' }).selectOption('command')
    await dialog.getByRole('textbox', { name: 'Command' }).fill(`python3 -c "import sys; [sys.stdout.write('line %d of the log %s\\n' % (i, 'NEEDLE' if i % 10000 == 1234 else '')) for i in range(100000)]"`)
    await dialog.getByRole('button', { name: 'Submit', exact: true }).click()
    await expect(dialog).toBeHidden({ timeout: 30_000 })
    const d = detail(page, 'chatty')
    await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    const log = d.getByRole('log', { name: 'Job log' })
    await expect(d.getByText('100,000 lines')).toBeVisible({ timeout: 30_000 })
    await expect(log).toContainText('line 99999 of the log')
    const rendered = await log.locator('.job-line').count()
    expect(rendered).toBeLessThan(150)

    // scroll through the middle: frames stay short (only the visible lines are rendered)
    const frames = await log.evaluate(async (el) => {
      const times: number[] = []
      let last = performance.now()
      for (let k = 0; k < 60; k++) {
        el.scrollTop = (el.scrollHeight * k) / 60
        await new Promise((r) => requestAnimationFrame(r))
        const now = performance.now()
        times.push(now - last)
        last = now
      }
      times.sort((a, b) => a - b)
      return { median: times[30], p95: times[57] }
    })
    console.log(`100k-line log: ${rendered} lines in the DOM; scroll frame median ${frames.median.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms`)
    expect(frames.p95).toBeLessThan(100)

    const t0 = Date.now()
    await d.getByRole('searchbox', { name: 'Search log' }).fill('needle')
    await expect(d.getByRole('status').filter({ hasText: /matches/ })).toHaveText('1 of 10 matches')
    console.log(`100k-line log: search to count ${Date.now() - t0} ms`)
    await d.getByRole('searchbox', { name: 'Search log' }).press('Enter')
    await expect(d.getByRole('status').filter({ hasText: /matches/ })).toHaveText('2 of 10 matches')
    await expect(log).toContainText('line 11234 of the log NEEDLE')
    await page.screenshot({ path: '/tmp/jobs-100k-log.png' })
  })

  test('"Run as job…" from the command palette prefills the open notebook, which runs as a script', async ({ page }) => {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: 'markdown', id: 'a1', metadata: {}, source: ['# A notebook'] },
        { cell_type: 'code', id: 'c1', metadata: {}, execution_count: null, outputs: [], source: ['total = sum(range(10))\n', "print('hello from the notebook', total)"] }
      ]
    }
    writeFileSync(join(s.workspace, 'analysis.ipynb'), JSON.stringify(nb, null, 1))
    await page.goto(s.url)
    await nav(page, 'Notebooks').click()
    await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: 'analysis.ipynb' }).click()
    await expect(page.getByRole('article', { name: 'Cell 2', exact: true })).toBeVisible()

    await page.keyboard.press('Control+k')
    await page.keyboard.type('Run as job')
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Submit job' })
    await expect(dialog).toBeVisible()
    await expect(page.getByRole('main', { name: 'Jobs' })).toBeVisible()
    await expect(dialog.getByRole('combobox', { name: 'Entry kind' })).toHaveValue('notebook')
    await expect(dialog.getByRole('textbox', { name: 'Notebook path' })).toHaveValue('analysis.ipynb')
    await expect(dialog.getByRole('textbox', { name: 'Name', exact: true })).toHaveValue('analysis')
    // Enter in a field submits
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).press('Enter')
    await expect(dialog).toBeHidden({ timeout: 30_000 })
    const d = detail(page, 'analysis')
    await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
    await expect(d.getByRole('log', { name: 'Job log' })).toContainText('hello from the notebook 45')

    // resubmit: a second job from the same spec; the list is navigable with the arrow keys
    await d.getByRole('button', { name: 'Resubmit' }).click()
    const rows = jobsGrid(page).getByRole('row', { name: /analysis/ })
    await expect(rows).toHaveCount(2)
    await expect(rows.nth(0)).toHaveAttribute('aria-selected', 'true')
    await rows.nth(0).focus()
    await page.keyboard.press('ArrowDown')
    await expect(rows.nth(1)).toHaveAttribute('aria-selected', 'true')
    await expect(rows.nth(1)).toBeFocused()
    await page.keyboard.press('ArrowUp')
    await expect(rows.nth(0)).toHaveAttribute('aria-selected', 'true')
  })

  test('an SSH target: the unknown host key is shown, accepted, tested, and a job runs there', async ({ page }) => {
    const why = sshdUnavailable()
    test.skip(why !== null, `needs sshd: ${why}`)
    const sshd: TestSshd = await startSshd()
    try {
      await page.goto(s.url)
      await nav(page, 'Jobs').click()
      await page.getByRole('button', { name: 'Job targets' }).click()
      const dialog = page.getByRole('dialog', { name: 'Job targets' })
      await dialog.getByRole('textbox', { name: 'Target name' }).fill('loopback')
      await dialog.getByRole('combobox', { name: 'Kind' }).selectOption('ssh')
      await dialog.getByRole('textbox', { name: 'Host' }).fill('127.0.0.1')
      await dialog.getByRole('textbox', { name: 'Port' }).fill(String(sshd.port))
      await dialog.getByRole('textbox', { name: 'User' }).fill('root')
      await dialog.getByRole('textbox', { name: 'Private key path' }).fill(sshd.key)
      await expect(dialog.getByLabel('Key passphrase')).toHaveAttribute('type', 'password')
      await dialog.getByRole('button', { name: 'Test connection' }).click()
      const alert = dialog.getByRole('alert')
      await expect(alert).toContainText('not a known host')
      await expect(alert).toContainText(sshd.hostFingerprint)
      await page.screenshot({ path: '/tmp/jobs-targets-hostkey.png' })
      await alert.getByRole('button', { name: 'Accept host key' }).click()
      await expect(dialog.getByRole('status').filter({ hasText: 'Connected' })).toContainText('Connected to')
      await expect(dialog.getByRole('listbox', { name: 'Saved targets' }).getByRole('option', { name: /loopback/ })).toBeVisible()
      await page.screenshot({ path: '/tmp/jobs-targets-ok.png' })
      await page.keyboard.press('Escape')
      await expect(dialog).toBeHidden()

      const form = await openSubmit(page)
      await form.getByRole('textbox', { name: 'Name', exact: true }).fill('over-ssh')
      await form.getByRole('combobox', { name: 'Target' }).selectOption({ label: 'loopback (SSH host)' })
      await form.getByRole('combobox', { name: 'Entry kind' }).selectOption('command')
      await form.getByRole('textbox', { name: 'Command' }).fill('echo hello over ssh from $(hostname)')
      await form.getByRole('button', { name: 'Submit', exact: true }).click()
      await expect(form).toBeHidden({ timeout: 30_000 })
      const d = detail(page, 'over-ssh')
      await expect(d.locator('.job-detail-head').getByText('succeeded')).toBeVisible({ timeout: 60_000 })
      await expect(d.getByRole('log', { name: 'Job log' })).toContainText('hello over ssh from')
      await expect(jobsGrid(page).getByRole('row', { name: /over-ssh/ })).toContainText('loopback')
    } finally {
      await sshd.stop()
    }
  })

})
