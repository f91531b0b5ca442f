import { test, expect } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeChurnCsv } from '../../src/main/services/builder/churn'
import { startServe, type ServeHandle } from '../support'

/**
 * The Builder room as an analyst uses it, no code typed: a churn CSV becomes a model that is
 * explained, checked for bias, tried, used on a table, registered with its card, deployed as an
 * endpoint, and reproduced by its notebook run on a kernel in the Notebooks room.
 */

let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
  mkdirSync(s.workspace, { recursive: true })
  writeChurnCsv(join(s.workspace, 'churn.csv'), 10_000)
})
test.afterEach(async () => {
  await s?.stop()
})

test('churn: quick build, results, column impact, bias, prediction, batch, register, deploy, notebook on a kernel', async ({ page }) => {
  test.setTimeout(300_000)
  await page.goto(s.url)
  await page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Builder' }).click()
  await page.getByRole('button', { name: 'New model' }).click()
  const dialog = page.getByRole('dialog', { name: 'New model' })
  await dialog.getByRole('textbox', { name: 'Model name' }).fill('Churn')
  await dialog.getByRole('textbox', { name: 'Or a CSV/Parquet file' }).fill(join(s.workspace, 'churn.csv'))
  await dialog.getByRole('button', { name: 'Create' }).click()
  await expect(dialog).toBeHidden()

  await page.getByRole('combobox', { name: 'Target column' }).selectOption('Exited')
  await expect(page.getByRole('combobox', { name: 'Problem type' })).toContainText('Inferred: binary')
  const columns = page.getByRole('table', { name: 'Columns' })
  // ID-like columns are flagged (and left unticked when the target is chosen); untick Surname too
  await expect(columns.getByRole('row', { name: /RowNumber/ })).toContainText('like an ID')
  for (const c of ['Surname', 'RowNumber', 'CustomerId']) {
    const box = columns.getByRole('checkbox', { name: c, exact: true })
    if (await box.isChecked()) await box.uncheck()
    await expect(box).not.toBeChecked()
  }
  await expect(columns.getByRole('checkbox', { name: 'Age', exact: true })).toBeChecked()
  mkdirSync(join(__dirname, '../../out/screenshots'), { recursive: true })
  await page.screenshot({ path: 'out/screenshots/builder-columns.png', fullPage: true })

  await page.getByRole('button', { name: 'Quick build' }).click()
  const results = page.getByRole('region', { name: 'Build results' })
  const metric = (name: string) => results.getByRole('group', { name, exact: true }).getByRole('definition')
  await expect(results).toBeVisible({ timeout: 180_000 })
  for (const m of ['Accuracy', 'Precision', 'Recall', 'AUC']) await expect(metric(m)).toHaveText(/^0\.\d{3}$/)
  const auc = Number(await metric('AUC').textContent())
  expect(auc).toBeGreaterThan(0.75)
  const cm = results.getByRole('table', { name: 'Confusion matrix' })
  await expect(cm).toBeVisible()
  // the threshold slider moves recall live
  const recallAt = async () => Number(await metric('Recall').textContent())
  const before = await recallAt()
  await results.getByRole('slider', { name: 'Threshold' }).fill('0.2')
  await expect.poll(recallAt).toBeGreaterThan(before)
  await page.screenshot({ path: 'out/screenshots/builder-results.png', fullPage: true })

  await results.getByRole('tab', { name: 'Column impact' }).click()
  const impact = results.getByRole('list', { name: 'Columns by impact' })
  await expect(impact).toContainText('Age')
  for (const c of ['Surname', 'RowNumber', 'CustomerId']) await expect(impact).not.toContainText(c)
  await results.screenshot({ path: 'out/screenshots/builder-impact.png' })

  await results.getByRole('tab', { name: 'Bias report' }).click()
  await results.getByRole('combobox', { name: 'Sensitive column' }).selectOption('Gender')
  await results.getByRole('button', { name: 'Run bias report' }).click()
  const bias = results.getByRole('table', { name: 'Bias report on Gender' })
  await expect(bias.getByRole('row', { name: /Female/ })).toBeVisible({ timeout: 60_000 })
  await expect(bias).toContainText('DPPL')
  await results.screenshot({ path: 'out/screenshots/builder-bias.png' })

  await results.getByRole('tab', { name: 'Predict' }).click()
  const prob = results.getByLabel('Probability', { exact: true })
  await expect(prob).toHaveText(/^0\.\d{3}$/, { timeout: 30_000 })
  const age = results.getByRole('spinbutton', { name: 'Age' })
  await age.fill('25')
  await expect(prob).toHaveText(/^0\.\d{3}$/)
  await expect.poll(async () => Number(await prob.textContent()), { timeout: 30_000 }).toBeLessThan(0.2)
  const young = Number(await prob.textContent())
  await age.fill('68')
  await expect.poll(async () => Number(await prob.textContent()), { timeout: 30_000 }).toBeGreaterThan(young + 0.05)
  await results.screenshot({ path: 'out/screenshots/builder-predict.png' })

  await results.getByRole('tab', { name: 'Use the model' }).click()
  await results.getByRole('textbox', { name: 'New table name' }).fill('churn_scored')
  await results.getByRole('button', { name: 'Batch predict' }).click()
  await expect(results.getByRole('status')).toContainText('Scored 10,000 rows into the Data room table churn_scored', { timeout: 60_000 })
  const cat = await s.rpc('lake.catalog')
  expect(cat.map((c: any) => c.name)).toContain('churn_scored')

  await results.getByRole('textbox', { name: 'Registered model name' }).fill('churn-model')
  await results.getByRole('button', { name: 'Register model' }).click()
  await expect(results.getByRole('status')).toContainText('Registered churn-model version 1 with a model card draft')
  const card = await s.rpc('registry.card.get', { name: 'churn-model', version: 1 })
  expect(card.fields.trainingData).toContain('Exited')
  expect(card.fields.ethicalConsiderations).toContain('Gender')
  const review = await s.rpc('registry.review.request', { name: 'churn-model', version: 1 })
  expect(JSON.stringify(review)).toMatch(/pending|review/i)

  // deploy the registered version: the endpoint answers, and the Endpoints room opens on it
  await results.getByRole('button', { name: 'Deploy churn-model v1' }).click()
  const endpoint = results.getByRole('group', { name: 'Endpoint' })
  await expect(endpoint).toContainText('churn-model')
  await expect(endpoint.getByLabel('Endpoint URL')).toHaveText(/^http:\/\/127\.0\.0\.1:\d+\/endpoints\/churn-model\/invocations$/)
  await expect(endpoint.getByLabel('Endpoint state')).toHaveText('running', { timeout: 120_000 })
  await results.screenshot({ path: 'out/screenshots/builder-deploy.png' })
  const row = { CreditScore: 650, Geography: 'Germany', Gender: 'Female', Age: 62, Tenure: 3, Balance: 120000.5, NumOfProducts: 1, HasCrCard: 1, IsActiveMember: 0, EstimatedSalary: 90000.5 }
  const answer = await s.rpc('endpoints.invoke', { name: 'churn-model', body: JSON.stringify({ dataframe_records: [row, { ...row, Age: 25, IsActiveMember: 1, NumOfProducts: 2 }] }) })
  expect(answer.status).toBe(200)
  const predictions = (answer.body as { predictions: unknown[] }).predictions
  expect(predictions).toHaveLength(2)
  for (const p of predictions) expect([0, 1]).toContain(p)
  await endpoint.getByRole('button', { name: 'Open in Endpoints' }).click()
  const page2 = page.getByRole('region', { name: 'Endpoint churn-model' })
  await expect(page2).toBeVisible()
  await expect(page2.getByLabel('State')).toHaveText('running')
  await page.screenshot({ path: 'out/screenshots/builder-open-in-endpoints.png' })

  // the generated notebook opens in the Notebooks room and reproduces the test AUC on a kernel
  await page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Builder' }).click()
  await results.getByRole('tab', { name: 'Use the model' }).click()
  await results.getByRole('button', { name: 'Open as notebook' }).click()
  const room = page.getByRole('main', { name: 'Notebooks' })
  await expect(room).toBeVisible()
  await expect(room.getByRole('tab', { name: /^Churn-.+\.ipynb$/ })).toBeVisible()
  await room.getByRole('combobox', { name: 'Interpreter' }).selectOption('/usr/bin/python3')
  await room.getByRole('button', { name: 'Start kernel' }).click()
  await expect(room.getByRole('status').filter({ hasText: /^Kernel idle$/ })).toBeVisible({ timeout: 90_000 })
  await room.getByRole('button', { name: 'Run all' }).click()
  // cells are rendered near the viewport only: scroll to the end, where the metrics cell prints
  const printed = room.getByText(/roc_auc 0\.\d+/)
  await expect
    .poll(
      async () => {
        await room.getByRole('button', { name: 'Add code cell' }).scrollIntoViewIfNeeded()
        return (await printed.count()) ? await printed.innerText() : ''
      },
      { timeout: 120_000, intervals: [1000] }
    )
    .toMatch(/roc_auc 0\.\d+/)
  const nbAuc = Number(/roc_auc (0\.\d+)/.exec(await printed.innerText())![1])
  expect(Math.abs(nbAuc - auc)).toBeLessThan(0.005)
  await page.screenshot({ path: 'out/screenshots/builder-notebook.png', fullPage: true })
})
