import { test, expect } from '@playwright/test'
import { startServe, type ServeHandle } from '../support'

let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
})
test.afterEach(async () => {
  await s?.stop()
})

/** The MLflow REST API, as a training script would use it. */
async function mlflow<T = any>(path: string, body: unknown): Promise<T> {
  const r = await fetch(`${s.origin}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body)
  })
  expect(r.status, `${path}: ${r.status}`).toBe(200)
  return (await r.json()) as T
}

async function logRuns(experiment: string, n: number) {
  const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: experiment })
  const t0 = Date.now()
  for (let i = 0; i < n; i++) {
    const lr = [0.1, 0.01, 0.001][i % 3]
    const { run } = await mlflow('runs/create', { experiment_id, run_name: `run-${i}`, start_time: t0 + i })
    const metrics = Array.from({ length: 200 }, (_, step) => ({ key: 'loss', value: Math.exp(-lr * step) + 0.01 * i, timestamp: t0 + step, step }))
    await mlflow('runs/log-batch', {
      run_id: run.info.run_id,
      params: [
        { key: 'lr', value: String(lr) },
        { key: 'model', value: i === 2 ? 'mlp' : 'cnn' }
      ],
      metrics
    })
  }
}

test('log three runs over MLflow REST, select two and chart their loss', async ({ page }) => {
  await logRuns('e2e-sweep', 3)
  await page.goto(s.url)
  await page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Experiments' }).click()

  await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /e2e-sweep/ }).click()
  const grid = page.getByRole('grid', { name: 'Runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', '4')
  await expect(grid.getByRole('button', { name: 'Show details of run-0' })).toBeVisible()

  await grid.getByRole('checkbox', { name: 'Select run run-0' }).check()
  await grid.getByRole('checkbox', { name: 'Select run run-2' }).check()
  await expect(page.getByRole('status').filter({ hasText: '3 runs, 2 selected' })).toBeVisible()

  await page.getByRole('combobox', { name: 'Metric' }).selectOption('loss')
  const chart = page.getByRole('img', { name: 'loss by step' })
  await expect(chart).toBeVisible()
  await expect(page.getByRole('status').filter({ hasText: '400 of 400 points' })).toBeVisible()
  await expect(chart).toHaveAccessibleDescription(/loss for (run-0, run-2|run-2, run-0)/)

  // compare: the param diff table marks what differs; parallel coordinates draw in SVG
  await page.getByRole('button', { name: 'Compare' }).click()
  const diff = page.getByRole('table', { name: 'Parameter comparison' })
  await expect(diff.getByRole('row', { name: /model \(differs\)/ })).toBeVisible()
  await expect(diff.getByRole('columnheader', { name: 'run-2' })).toBeVisible()
  await expect(page.getByRole('img', { name: 'Parallel coordinates of the selected runs' })).toBeVisible()
  await page.screenshot({ path: 'out/test-results/screens/experiments-compare.png' })
  await page.getByRole('button', { name: 'Compare' }).click()

  // a bad filter says why; a good one narrows the runs
  const filter = page.getByRole('searchbox', { name: 'Filter runs' })
  await filter.fill('params.lr ~~ 3')
  await filter.press('Enter')
  await expect(page.getByRole('alert')).toContainText('Invalid filter')
  await filter.fill("params.model = 'cnn'")
  await filter.press('Enter')
  await expect(grid).toHaveAttribute('aria-rowcount', '3')
  await expect(page.getByRole('alert')).toBeHidden()

  await page.screenshot({ path: 'out/test-results/screens/experiments-chart.png' })
})
