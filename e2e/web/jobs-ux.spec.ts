import { test, expect } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServe, type ServeHandle } from '../support'
import { detail, jobsGrid, nav, openSubmit } from '../jobs-support'

/**
 * What a new user hit in the Jobs room: regex metrics charted only once the job ended, placeholders
 * that looked like values, resubmits with the same name, "Open in Experiments" landing on "0 runs",
 * and "Slurm on this machine" failing half-way where Slurm is not configured.
 */

/** Prints a `loss=` line every 1.5 s: the chart must follow while it runs. */
const LIVE_PY = String.raw`
import time
for i in range(10):
    print(f'epoch {i} loss={1 / (i + 1):.4f}', flush=True)
    time.sleep(1.5)
print('done', flush=True)
`

let s: ServeHandle
test.beforeEach(async () => {
  const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-jobs-ux-')), 'ws')
  mkdirSync(workspace, { recursive: true })
  writeFileSync(join(workspace, 'live.py'), LIVE_PY)
  // Slurm is installed here but not configured: a config file that is not there
  s = await startServe({ workspace, env: { SLURM_CONF: join(workspace, 'no-such-slurm.conf') } })
})
test.afterEach(async () => {
  await s?.stop()
})

test('regex metrics are charted while the job runs; defaults are values; resubmit numbers the name; Open in Experiments lands on the run', async ({ page }) => {
  test.setTimeout(120_000)
  await page.goto(s.url)
  await nav(page, 'Jobs').click()
  const dialog = await openSubmit(page)

  // examples read as examples; defaults that apply are values
  const name = dialog.getByRole('textbox', { name: 'Name', exact: true })
  await expect(name).toHaveValue('')
  await expect(name).toHaveAttribute('placeholder', 'e.g. train-resnet')
  await expect(dialog.getByRole('textbox', { name: 'GPUs' })).toHaveValue('0')
  await expect(dialog.getByRole('textbox', { name: 'Nodes' })).toHaveValue('1')
  await expect(dialog.getByRole('textbox', { name: 'Experiment' })).toHaveValue('Jobs')
  for (const field of ['CPUs', 'Memory (MB)', 'Time limit (min)', 'Partition']) {
    const box = dialog.getByRole('textbox', { name: field })
    await expect(box).toHaveValue('')
    expect(await box.getAttribute('placeholder')).toBeNull()
  }
  await page.screenshot({ path: 'out/screenshots/jobs-form-defaults.png' })

  await name.fill('live')
  await dialog.getByRole('textbox', { name: 'Script path' }).fill('live.py')
  await dialog.getByRole('button', { name: 'Add metric definition' }).click()
  await dialog.getByRole('textbox', { name: 'Metric name 1' }).fill('loss')
  await dialog.getByRole('textbox', { name: 'Metric regex 1' }).fill('loss=([0-9.]+)')
  await dialog.getByRole('button', { name: 'Submit', exact: true }).click()
  await expect(dialog).toBeHidden({ timeout: 30_000 })

  const d = detail(page, 'live')
  const head = d.locator('.job-detail-head')
  await expect(head.getByText('running')).toBeVisible({ timeout: 30_000 })
  // points appear as the lines arrive, before the job ends
  const chart = d.getByRole('img', { name: 'loss by step' })
  await expect(chart).toBeVisible({ timeout: 15_000 })
  await expect(d.getByText(/· [1-8] points?$/)).toBeVisible({ timeout: 15_000 })
  await expect(chart.locator('.scatterlayer .trace .points path').first()).toBeVisible()
  await page.screenshot({ path: 'out/screenshots/jobs-live-metrics.png' })
  // the count keeps growing while the job runs (not only when its state changes)
  const seen = new Set<number>()
  for (let i = 0; i < 60 && seen.size < 3 && (await head.getByText('running').count()) === 1; i++) {
    const m = /· (\d+) points?/.exec((await d.locator('figcaption').first().textContent()) ?? '')
    if (m) seen.add(Number(m[1]))
    await page.waitForTimeout(250)
  }
  expect([...seen].length, `point counts seen while running: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(3)
  expect(Math.max(...seen)).toBeLessThan(10)

  await expect(head.getByText('succeeded')).toBeVisible({ timeout: 30_000 })
  await expect(d.getByText('· 10 points')).toBeVisible()
  // the defaults were sent: the job's resources list them
  const resources = d.getByRole('region', { name: 'Resources' })
  await expect(resources).toContainText('GPUs')
  await expect(resources).toContainText('Nodes')

  // Open in Experiments lands on the run, even when a filter there would hide it
  await nav(page, 'Experiments').click()
  await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /^Jobs/ }).click()
  const filter = page.getByRole('searchbox', { name: 'Filter runs' })
  await filter.fill("params.lr = 'nope'")
  await filter.press('Enter')
  await expect(page.getByRole('grid', { name: 'Runs' })).toHaveAttribute('aria-rowcount', '1')
  await nav(page, 'Jobs').click()
  await d.getByRole('button', { name: 'Open in Experiments' }).click()
  await expect(page.getByRole('region', { name: 'Run live' })).toBeVisible()
  await expect(page.getByRole('note')).toHaveText('The filter was cleared to show the run you opened.')
  await expect(page.getByRole('grid', { name: 'Runs' }).getByRole('checkbox', { name: 'Select run live' })).toBeChecked()
  await expect(page.getByRole('img', { name: 'loss by step' })).toBeVisible()
  await page.screenshot({ path: 'out/screenshots/jobs-open-in-experiments.png' })

  // resubmit: a second job, numbered
  await nav(page, 'Jobs').click()
  await d.getByRole('button', { name: 'Resubmit' }).click()
  await expect(detail(page, 'live-2')).toBeVisible()
  await expect(jobsGrid(page).getByRole('row', { name: /live-2/ })).toHaveCount(1)
  await expect(page.getByRole('status').filter({ hasText: 'Submitted live-2 again.' })).toBeVisible()
})

test('"Slurm on this machine" without Slurm: marked in the list, explained verbatim, nothing created', async ({ page }) => {
  await page.goto(s.url)
  await nav(page, 'Jobs').click()
  const dialog = await openSubmit(page)
  const target = dialog.getByRole('combobox', { name: 'Target' })
  await expect(target.getByRole('option', { name: 'Slurm on this machine — not available here' })).toHaveCount(1)
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill('on-slurm')
  await target.selectOption('slurm-local')
  await dialog.getByRole('combobox', { name: 'Entry kind' }).selectOption('command')
  await dialog.getByRole('textbox', { name: 'Command' }).fill('echo hi')
  await target.focus()
  await target.blur()
  await expect(target).toHaveAttribute('aria-invalid', 'true')
  await expect(target).toHaveAccessibleDescription(/Slurm is not usable on this machine: slurm\.conf not found: SLURM_CONF=.*no-such-slurm\.conf/)
  await expect(dialog.getByRole('button', { name: 'Submit', exact: true })).toBeDisabled()
  await page.screenshot({ path: 'out/screenshots/jobs-slurm-unavailable.png' })
  // Enter submits anyway: refused before anything exists, the dialog stays open and says why
  await dialog.getByRole('textbox', { name: 'Command' }).press('Enter')
  await expect(dialog).toBeVisible()
  expect(await s.rpc('jobs.list', {})).toEqual([])
  await expect(jobsGrid(page).getByRole('row', { name: /on-slurm/ })).toHaveCount(0)
  await expect(page.getByRole('status').filter({ hasText: /Submitted/ })).toHaveCount(0)
  // a direct submit (a script, or a click before the check returned) is refused the same way
  await expect(s.rpc('jobs.submit', { spec: { name: 'on-slurm', target: { kind: 'slurm' }, entry: { kind: 'command', command: 'echo hi' } } })).rejects.toThrow(/Slurm is not usable on this machine/)
  expect(await s.rpc('jobs.list', {})).toEqual([])
})
