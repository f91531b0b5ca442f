import { test, expect, type Page } from '@playwright/test'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT, startServe, type ServeHandle } from '../support'

/**
 * Endpoints, tried as a user would against `serve` in Chromium: two scikit-learn versions trained
 * and registered over MLflow REST with the shipped `atelier` package; version 1 deployed from the
 * Endpoints room on /usr/bin/python3, a prediction from the Test form; version 2 rolled out as a
 * 50 % canary with both variants in the metrics, then rolled back; `serve` restarted on the same
 * data dir and the endpoint still answers at its URL with its token, re-attached to the same server.
 */

const PYTHON = '/usr/bin/python3'
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing`
  : spawnSync(PYTHON, ['-c', 'import sklearn, pandas, uvicorn, yaml'], { stdio: 'ignore' }).status !== 0
    ? 'scikit-learn/pandas/uvicorn/yaml are not installed for /usr/bin/python3'
    : null

const TRAIN = (threshold: number) => `
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
from atelier import tracking
from atelier.models import log_model
X = pd.DataFrame({"tenure": [float(i) for i in range(20)], "calls": [i % 4 for i in range(20)]})
y = [int(a > ${threshold}) for a in X["tenure"]]
tracking.start_run(run_name="churn-${threshold}")
log_model(DecisionTreeClassifier(max_depth=2).fit(X, y), artifact_path="model", input_example=X.head(2), registered_model_name="churn")
tracking.end_run()
`

const shots = join(ROOT, 'out/screenshots')

async function train(s: ServeHandle, threshold: number) {
  await promisify(execFile)(PYTHON, ['-c', TRAIN(threshold)], {
    env: { ...process.env, PYTHONPATH: join(ROOT, 'resources/python'), MLFLOW_TRACKING_URI: s.origin, MLFLOW_TRACKING_TOKEN: s.token, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
    timeout: 120_000
  })
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name, exact: true })

test.describe('endpoints', () => {
  test.skip(missing !== null, missing ?? '')
  test.setTimeout(240_000)

  test('deploy from the room, Send from the Test form, canary 50 % with both variants, rollback, restart serve', async ({ page }) => {
    mkdirSync(shots, { recursive: true })
    const tmp = mkdtempSync(join(tmpdir(), 'atelier-e2e-endpoints-'))
    const dirs = { dataDir: join(tmp, 'data'), workspace: join(tmp, 'workspace') }
    mkdirSync(dirs.workspace)
    let s = await startServe(dirs)
    try {
      await train(s, 5) // version 1: tenure 10 → 1
      await train(s, 15) // version 2: tenure 10 → 0
      await page.goto(s.url)
      await nav(page, 'Endpoints').click()
      await page.getByRole('button', { name: 'Deploy', exact: true }).click()
      const dialog = page.getByRole('dialog', { name: 'Deploy a model' })
      await expect(dialog.getByRole('combobox', { name: 'Version or alias' })).toContainText('Version 2')
      await dialog.getByRole('combobox', { name: 'Version or alias' }).selectOption({ label: 'Version 1 (None)' })
      await dialog.getByRole('textbox', { name: 'Endpoint name' }).fill('churn')
      await dialog.getByRole('textbox', { name: 'Python interpreter' }).fill(PYTHON)
      await dialog.getByRole('button', { name: 'Deploy' }).click()
      const ep = page.getByRole('region', { name: 'Endpoint churn' })
      await expect(ep.getByLabel('State')).toHaveText('running', { timeout: 90_000 })

      // the Test form comes from the signature, filled with the input example's first row
      const test_ = ep.getByRole('region', { name: 'Test' })
      await expect(test_.getByRole('textbox', { name: 'tenure' })).toHaveValue('0')
      await test_.getByRole('textbox', { name: 'tenure' }).fill('10')
      await test_.getByRole('button', { name: 'Send', exact: true }).click()
      const result = test_.getByRole('status', { name: 'Prediction' })
      await expect(result).toContainText('HTTP 200')
      await expect(result).toContainText('"predictions": [\n    1\n  ]')
      await expect(result).toContainText(/\d+(\.\d)? ms/)
      await page.screenshot({ path: join(shots, 'endpoints-test.png') })

      // canary: version 2 at 50 %
      const variants = ep.getByRole('region', { name: 'Variants' })
      await variants.getByRole('combobox', { name: 'Rollout version' }).selectOption('2')
      await variants.getByRole('spinbutton', { name: 'Canary traffic %' }).fill('50')
      await variants.getByRole('button', { name: 'Start canary' }).click()
      const vtable = variants.getByRole('table', { name: 'Variants table' })
      await expect(vtable.getByRole('row')).toHaveCount(3, { timeout: 90_000 })
      await expect(vtable).toContainText('50%')
      const seen = new Set<string>()
      for (let i = 0; i < 40; i++) {
        const r = await s.rpc('endpoints.invoke', { name: 'churn', body: JSON.stringify({ dataframe_records: [{ tenure: 10, calls: 1 }] }) })
        expect(r.status).toBe(200)
        seen.add(`${r.variant}:${r.body.predictions[0]}`)
      }
      expect(seen).toEqual(new Set(['primary:1', 'canary:0']))
      const mtable = ep.getByRole('table', { name: 'Variant metrics' })
      await expect(mtable.getByRole('row', { name: /^primary/ })).toBeVisible({ timeout: 10_000 })
      await expect(mtable.getByRole('row', { name: /^canary/ })).toBeVisible()
      await expect(ep.getByRole('img', { name: 'Latency per variant' })).toBeVisible()
      await page.screenshot({ path: join(shots, 'endpoints-canary.png'), fullPage: true })

      // rollback: the primary alone again
      await variants.getByRole('button', { name: 'Rollback' }).click()
      await expect(vtable.getByRole('row')).toHaveCount(2, { timeout: 30_000 })
      await expect(vtable).toContainText('100%')

      // batch prediction of a Data room table into a new one
      writeFileSync(join(dirs.workspace, 'customers.csv'), 'tenure,calls\n' + Array.from({ length: 700 }, (_, i) => `${i % 20},${i % 4}`).join('\n') + '\n')
      await s.rpc('lake.sources.add', { kind: 'file', location: join(dirs.workspace, 'customers.csv'), name: 'customers' })
      const batch = ep.getByRole('region', { name: 'Batch prediction' })
      await batch.getByRole('textbox', { name: 'Batch table' }).fill('customers')
      await batch.getByRole('button', { name: 'Run batch' }).click()
      await expect(batch.getByRole('status', { name: 'Batch status' })).toContainText('700 / 700 rows · succeeded · result in the Data room as customers_churn_predictions', { timeout: 60_000 })
      const sources = await s.rpc('lake.sources.list', {})
      expect(sources.map((x: { name: string }) => x.name)).toContain('customers_churn_predictions')
      await page.screenshot({ path: join(shots, 'endpoints-batch.png'), fullPage: true })

      // drift: baseline from a Data room table, shifted traffic fires the alarm once after 2 windows
      writeFileSync(join(dirs.workspace, 'train.csv'), 'tenure,calls\n' + Array.from({ length: 2000 }, (_, i) => `${(i % 200) / 10},${i % 4}`).join('\n') + '\n')
      await s.rpc('lake.sources.add', { kind: 'file', location: join(dirs.workspace, 'train.csv'), name: 'train' })
      await s.rpc('endpoints.capture', { name: 'churn', enabled: true, samplingPercent: 100 })
      const drift = ep.getByRole('region', { name: 'Drift' })
      await drift.getByRole('textbox', { name: 'Baseline table' }).fill('train')
      await drift.getByRole('button', { name: 'Compute baseline' }).click()
      await expect(drift).toContainText('2,000 rows')
      await drift.getByRole('spinbutton', { name: 'Alarm after N windows' }).fill('2')
      await drift.getByRole('button', { name: 'Save alarm' }).click()
      const windows = drift.getByRole('table', { name: 'Drift windows' })
      for (const [i, shift] of [0, 0, 12, 12, 12].entries()) {
        // a clean window covers the training range evenly (tenure 0–19.9); a shifted one moves it by 12
        for (let r = 0; r < 20; r++) {
          const data = Array.from({ length: 10 }, (_, k) => [((r * 10 + k) % 200) / 10 + shift, k % 4])
          await s.rpc('endpoints.invoke', { name: 'churn', body: JSON.stringify({ dataframe_split: { columns: ['tenure', 'calls'], data } }) })
        }
        await drift.getByRole('button', { name: 'Check now' }).click()
        await expect(windows.getByRole('row')).toHaveCount(i + 2)
        await expect(drift.getByRole('alert', { name: 'Drift alarm' })).toHaveCount(i >= 3 ? 1 : 0)
      }
      await expect(windows.getByRole('cell', { name: 'fired', exact: true })).toHaveCount(1)
      await page.screenshot({ path: join(shots, 'endpoints-drift.png'), fullPage: true })

      // restart serve on the same data dir: re-attached, same URL, same token
      const before = (await s.rpc('endpoints.get', { name: 'churn' })).endpoint
      await s.stop()
      s = await startServe({ ...dirs, token: s.token })
      const after = await expect
        .poll(async () => (await s.rpc('endpoints.get', { name: 'churn' })).endpoint.state, { timeout: 60_000 })
        .toBe('running')
        .then(async () => (await s.rpc('endpoints.get', { name: 'churn' })).endpoint)
      expect(after.url).toBe(before.url)
      expect(after.variants[0].pid).toBe(before.variants[0].pid)
      const r = await fetch(after.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${before.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns: ['tenure', 'calls'], data: [[10, 1]] } })
      })
      expect(await r.json()).toEqual({ predictions: [1] })
      await page.goto(s.url)
      await nav(page, 'Endpoints').click()
      await page.getByRole('button', { name: 'Open endpoint churn' }).click()
      await expect(page.getByRole('region', { name: 'Endpoint churn' }).getByLabel('State')).toHaveText('running')
      await page.screenshot({ path: join(shots, 'endpoints-after-restart.png') })
    } finally {
      await s.rpc('endpoints.delete', { name: 'churn' }).catch(() => undefined)
      await s.stop()
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  test('deploy a version and an alias from the Models room, then open it in Endpoints', async ({ page }) => {
    mkdirSync(shots, { recursive: true })
    const tmp = mkdtempSync(join(tmpdir(), 'atelier-e2e-endpoints-models-'))
    const dirs = { dataDir: join(tmp, 'data'), workspace: join(tmp, 'workspace') }
    mkdirSync(dirs.workspace)
    const s = await startServe(dirs)
    try {
      await train(s, 5)
      await s.rpc('registry.alias.set', { name: 'churn', version: 1, alias: 'champion' })
      await page.goto(s.url)
      await nav(page, 'Models').click()
      await page.getByRole('listbox', { name: 'Models' }).getByRole('option', { name: /churn/ }).click()
      await page.getByRole('table', { name: 'Versions' }).getByRole('button', { name: 'Version 1' }).click()
      const v1 = page.getByRole('region', { name: 'churn version 1' })

      // from an alias: the dialog follows @champion
      await v1.getByRole('button', { name: 'Deploy alias champion' }).click()
      const dialog = page.getByRole('dialog', { name: 'Deploy a model' })
      await expect(dialog.getByRole('combobox', { name: 'Version or alias' })).toHaveValue('a:champion')
      await expect(dialog.getByRole('textbox', { name: 'Endpoint name' })).toHaveValue('churn-champion')
      await dialog.getByRole('button', { name: 'Cancel' }).click()

      // from the version page: version 1, deployed, then opened in the Endpoints room
      await v1.getByRole('button', { name: 'Deploy', exact: true }).click()
      await expect(dialog.getByRole('combobox', { name: 'Version or alias' })).toHaveValue('v:1')
      await dialog.getByRole('textbox', { name: 'Endpoint name' }).fill('churn-models')
      await dialog.getByRole('textbox', { name: 'Python interpreter' }).fill(PYTHON)
      await dialog.getByRole('button', { name: 'Deploy', exact: true }).click()
      await expect(dialog.getByRole('status', { name: 'Deployed' })).toContainText('churn-models')
      await page.screenshot({ path: join(shots, 'endpoints-deploy-from-models.png') })
      await dialog.getByRole('button', { name: 'Open in Endpoints' }).click()
      const ep = page.getByRole('region', { name: 'Endpoint churn-models' })
      await expect(ep.getByLabel('State')).toHaveText('running', { timeout: 90_000 })
      const got = (await s.rpc('endpoints.get', { name: 'churn-models' })).endpoint
      expect(got.variants.map((v: { version: number }) => v.version)).toEqual([1])

      // the Running panel lists it with its scoring server's memory
      await page.getByRole('button', { name: /^Running \(\d+\)$/ }).click()
      const runningRow = page.getByRole('dialog', { name: 'Running' }).getByRole('table', { name: 'Running resources' }).getByRole('row', { name: 'Endpoint churn-models' })
      await expect(runningRow).toContainText('running', { timeout: 30_000 })
      await expect(runningRow).toContainText(/\d+ MiB/)
      await page.screenshot({ path: join(shots, 'endpoints-running-panel.png') })
      await page.keyboard.press('Escape')
      await expect(page.getByRole('dialog', { name: 'Running' })).toHaveCount(0)

      // backtest the alarm rule on six months of history: months 3–5 shifted, N = 2
      writeFileSync(join(dirs.workspace, 'train.csv'), 'tenure,calls\n' + Array.from({ length: 2000 }, (_, i) => `${(i % 200) / 10},${i % 4}`).join('\n') + '\n')
      const months = [0, 0, 12, 12, 12, 0]
      const hist = months.flatMap((shift, m) => Array.from({ length: 400 }, (_, i) => `2026-0${m + 1}-${String(1 + (i % 28)).padStart(2, '0')},${((i * 7) % 200) / 10 + shift},${i % 4}`))
      writeFileSync(join(dirs.workspace, 'history.csv'), 'ts,tenure,calls\n' + hist.join('\n') + '\n')
      await s.rpc('lake.sources.add', { kind: 'file', location: join(dirs.workspace, 'train.csv'), name: 'train' })
      await s.rpc('lake.sources.add', { kind: 'file', location: join(dirs.workspace, 'history.csv'), name: 'history' })
      const drift = ep.getByRole('region', { name: 'Drift' })
      await drift.getByRole('textbox', { name: 'Baseline table' }).fill('train')
      await drift.getByRole('button', { name: 'Compute baseline' }).click()
      await expect(drift).toContainText('2,000 rows')
      const bt = drift.getByRole('region', { name: 'Backtest' })
      await bt.getByRole('textbox', { name: 'History table' }).fill('history')
      await bt.getByRole('textbox', { name: 'Time column' }).fill('ts')
      await bt.getByRole('combobox', { name: 'Split by' }).selectOption('month')
      await bt.getByRole('spinbutton', { name: 'Backtest N' }).fill('2')
      await bt.getByRole('button', { name: 'Run backtest' }).click()
      const btRows = bt.getByRole('table', { name: 'Backtest windows' }).getByRole('row')
      await expect(btRows).toHaveCount(7)
      await expect(btRows.nth(4)).toContainText('fired')
      await expect(bt.getByRole('table', { name: 'Backtest windows' }).getByRole('cell', { name: 'fired', exact: true })).toHaveCount(1)
      await expect(bt.getByRole('status', { name: 'Backtest summary' })).toContainText('would have fired 1 time(s), first in 2026-04-01')
      await expect(bt.getByRole('img', { name: 'Backtest PSI per period and alarm' })).toBeVisible()
      await bt.scrollIntoViewIfNeeded()
      await bt.screenshot({ path: join(shots, 'endpoints-backtest.png') })

      // shadow evaluation: captured labelled traffic replayed against both approved versions
      await train(s, 15) // version 2: tenure > 15
      for (const version of [1, 2]) {
        await s.rpc('registry.card.save', { name: 'churn', version, card: { riskTier: 'low', intendedUse: 'Churn demo.' } })
        await s.rpc('registry.review.request', { name: 'churn', version })
      }
      await s.rpc('endpoints.capture', { name: 'churn-models', enabled: true, samplingPercent: 100 })
      for (const t of [2, 8, 12, 18]) {
        const r = await s.rpc('endpoints.invoke', { name: 'churn-models', body: JSON.stringify({ dataframe_records: [{ tenure: t, calls: 1, churned: t > 15 ? 1 : 0 }] }) })
        expect(r.status).toBe(200)
      }
      const replay = ep.getByRole('region', { name: 'Shadow evaluation' })
      await replay.getByRole('spinbutton', { name: 'Replay last N requests' }).fill('50')
      await replay.getByRole('textbox', { name: 'Label column' }).fill('churned')
      await replay.getByRole('button', { name: 'Replay', exact: true }).click()
      const rt = replay.getByRole('table', { name: 'Replay results' })
      await expect(rt.getByRole('row')).toHaveCount(3, { timeout: 60_000 })
      await expect(replay.getByRole('status', { name: 'Replay summary' })).toContainText('4 requests (4 rows) replayed; labels from column churned, served accuracy 50.0%')
      await expect(rt.getByRole('row', { name: /Version 1/ })).toContainText('100.0%')
      await expect(rt.getByRole('row', { name: /Version 2/ })).toContainText('50.0%')
      await expect(rt.getByRole('row', { name: /Version 2/ })).toContainText('(+50.0 pt)')
      await expect(replay.getByRole('img', { name: 'Replay agreement and latency per version' })).toBeVisible()
      await replay.scrollIntoViewIfNeeded()
      await replay.screenshot({ path: join(shots, 'endpoints-replay.png') })
    } finally {
      await s.rpc('endpoints.delete', { name: 'churn-models' }).catch(() => undefined)
      await s.stop()
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
