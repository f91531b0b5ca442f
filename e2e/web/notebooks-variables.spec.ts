import { test, expect } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServe, type ServeHandle } from '../support'

/** The Variables pane as a new user reads it: meaningful sizes, whole type names; Open in Data says how it wrote the frame. */

const PYTHON = '/usr/bin/python3'
const SETUP = `%matplotlib inline
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder
churn = pd.DataFrame({'customer': ['c%05d' % i for i in range(2000)], 'tenure': range(2000), 'city': ['Lima', 'Oslo'] * 1000})
model = LogisticRegression()
encoder = OneHotEncoder()
fig = plt.figure()
scores = [0.5, 0.75, 0.8]
plt.close(fig)`

let s: ServeHandle
test.beforeEach(async () => {
  const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-vars-')), 'ws')
  mkdirSync(workspace, { recursive: true })
  writeFileSync(
    join(workspace, 'vars.ipynb'),
    JSON.stringify({ cells: [{ cell_type: 'code', id: 'setup', metadata: {}, source: SETUP, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 })
  )
  s = await startServe({ workspace })
})
test.afterEach(async () => {
  await s?.stop()
})

test('variables show meaningful sizes and whole type names; Open in Data says which format it wrote', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server, ipykernel, pandas and scikit-learn')
  test.setTimeout(150_000)
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()
  await page.getByRole('combobox', { name: 'Interpreter' }).selectOption(PYTHON)
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: 'vars.ipynb' }).click()
  await page.getByRole('button', { name: 'Start kernel' }).click()
  await expect(page.getByRole('status', { name: 'Kernel status' })).toHaveText('Kernel idle', { timeout: 90_000 })
  await page.getByRole('button', { name: 'Run Cell 1', exact: true }).click()
  const vars = page.getByRole('complementary', { name: 'Variables' })
  const row = (name: string) => vars.getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) })
  await expect(row('model')).toBeVisible({ timeout: 60_000 })
  // opaque objects: no size (not the 56 B of the wrapper); the frame: its deep memory
  for (const name of ['model', 'encoder', 'fig']) await expect(row(name).getByRole('cell').nth(2)).toHaveText('')
  await expect(row('churn').getByRole('cell').nth(2)).toHaveText(/^2000 × 3 · \d+(\.\d)?\sKB$/)
  await expect(row('scores').getByRole('cell').nth(2)).toHaveText(/^len 3 · \d+\sB$/)
  // a type name is one line, never broken mid-word
  const type = row('encoder').getByRole('cell').nth(1)
  await expect(type).toHaveAttribute('title', 'sklearn.preprocessing._encoders.OneHotEncoder')
  const lines = await type.evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight || '16')))
  expect(lines).toBeLessThanOrEqual(1)
  mkdirSync('out/screenshots', { recursive: true })
  await page.screenshot({ path: 'out/screenshots/notebooks-variables.png' })

  await vars.getByRole('button', { name: 'Open churn in Data' }).click()
  await expect(page.getByRole('main', { name: 'Data' })).toBeVisible({ timeout: 15_000 })
  await expect(page.getByRole('grid').getByText('c00001')).toBeVisible({ timeout: 30_000 })
  await page.screenshot({ path: 'out/screenshots/notebooks-open-in-data.png' })
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()
  await expect(page.getByRole('complementary', { name: 'Variables' }).getByRole('status')).toHaveText(/churn: 2,000 rows, .* as (Parquet|CSV)/)
})
