/**
 * Models and Reviews rooms in Chromium against `serve`: a script logs runs with models through the
 * shipped `atelier.models` module (Debian's /usr/bin/python3, no mlflow); a scientist registers one
 * from the run page, fills its card and asks for review; a reviewer in a second browser approves it
 * in the Reviews room (after a conflict with a concurrent change) and rejects a version a policy
 * blocks; the admin's audit trail lists the steps, verifies, exports, and names an edited event.
 */
import { test, expect, type Browser, type Download, type Locator, type Page } from '@playwright/test'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { ROOT, signIn as signInAt, startServe, type ServeHandle } from '../support'

const PYTHON = '/usr/bin/python3'
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing`
  : spawnSync(PYTHON, ['-c', 'import sklearn, pandas'], { stdio: 'ignore', timeout: 60_000 }).status !== 0
    ? `scikit-learn/pandas are not installed for ${PYTHON}`
    : null

const SHOTS = join(ROOT, 'out/screenshots')

/** Three runs of one experiment, each with a model logged by atelier.models and an evaluation CSV. */
const SCRIPT = String.raw`
import json, os, time
import pandas as pd
from sklearn.linear_model import LogisticRegression
import atelier.models as am

client = am._Client()
def call(path, body):
    return client.api("POST", path, body=body)

X = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "count": [1, 0, 1, 0, 1, 0, 1, 0]})
y = [0, 0, 0, 0, 1, 1, 1, 1]
exp = call("experiments/create", {"name": "credit"})["experiment_id"]
out = {}
for name, acc, c in [("rf-baseline", 0.93, 1.0), ("rf-tuned", 0.95, 0.5), ("rf-weak", 0.80, 0.01)]:
    now = int(time.time() * 1000)
    run = call("runs/create", {"experiment_id": exp, "run_name": name, "start_time": now})["run"]
    rid = run["info"]["run_id"]
    call("runs/log-batch", {"run_id": rid,
        "params": [{"key": "C", "value": str(c)}, {"key": "solver", "value": "lbfgs"}],
        "metrics": [{"key": "accuracy", "value": acc, "timestamp": now, "step": 0},
                    {"key": "log_loss", "value": 1.0 - acc, "timestamp": now, "step": 0}],
        "tags": [{"key": "mlflow.source.git.commit", "value": "3f9c2a1b7d5e4c3a2b1f0e9d8c7b6a5f4e3d2c1b"},
                 {"key": "mlflow.source.name", "value": "notebooks/train_credit.ipynb"}]})
    call("runs/log-inputs", {"run_id": rid, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "train"}],
        "dataset": {"name": "loans-2026", "digest": "9a8b7c6d", "source_type": "local", "source": json.dumps({"uri": "/data/loans.parquet"})}}]})
    model = LogisticRegression(C=c).fit(X, y)
    am.log_model(model, artifact_path="model", input_example=X.head(3), run_id=rid)
    root = run["info"]["artifact_uri"]
    tmp = "/tmp/atelier-e2e-cm-%s.csv" % rid
    with open(tmp, "w") as f:
        f.write("actual,predicted_0,predicted_1\n0,4,0\n1,%d,%d\n" % (0 if acc > 0.9 else 2, 4 if acc > 0.9 else 2))
    client.upload(root, "eval/confusion_matrix.csv", tmp)
    os.remove(tmp)
    call("runs/update", {"run_id": rid, "status": "FINISHED", "end_time": now + 1000})
    out[name] = rid
print(json.dumps(out))
`

let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
})
test.afterEach(async () => {
  await s?.stop()
})

async function runPython(script: string): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-py-'))
  const file = join(dir, 'log_models.py')
  writeFileSync(file, script)
  const { stdout } = await promisify(execFile)(PYTHON, [file], {
    env: {
      ...process.env,
      PYTHONPATH: join(ROOT, 'resources/python'),
      MLFLOW_TRACKING_URI: s.origin,
      MLFLOW_TRACKING_TOKEN: s.token,
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost'
    },
    timeout: 120_000
  })
  return JSON.parse(stdout.trim().split('\n').pop()!)
}

/** `npm run users -- …` against the serve's data dir; the password goes in on standard input. */
function users(args: string[], stdin = '') {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/users.mjs'), ...args, '--data-dir', s.dataDir], { input: stdin, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`users ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** A browser context of its own, signed in with the password form. */
const signIn = (browser: Browser, name: string, password: string) => signInAt(browser, s.origin, name, password)

async function downloadText(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]) as [Download, void]
  return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') }
}

/** The approval badge in a version page's header. */
const status = (region: Locator) => region.locator('.reg-head .reg-status')

const nav = (page: Page, room: string) => page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: room }).click()

/** From the run's page in Experiments: Register model → a new (or existing) model. */
async function registerFromRun(page: Page, runName: string, model: { newName?: string; existing?: string }) {
  await nav(page, 'Experiments')
  await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /credit/ }).click()
  await page.getByRole('grid', { name: 'Runs' }).getByRole('button', { name: `Show details of ${runName}` }).click()
  await page.getByRole('region', { name: `Run ${runName}` }).getByRole('button', { name: 'Register model' }).click()
  const dialog = page.getByRole('dialog', { name: 'Register model' })
  await expect(dialog.getByRole('combobox', { name: 'Model folder' })).toHaveValue('model')
  if (model.newName) await dialog.getByRole('textbox', { name: 'Model name' }).fill(model.newName)
  else {
    await dialog.getByRole('radio', { name: /existing model/ }).check()
    await dialog.getByRole('combobox', { name: 'Existing model' }).selectOption(model.existing!)
  }
  await dialog.getByRole('button', { name: 'Register' }).click()
  const done = page.getByRole('dialog', { name: 'Model registered' })
  await expect(done.getByRole('status')).toContainText('Registered credit-risk version')
  await done.getByRole('button', { name: 'Open in Models' }).click()
}

async function fillCard(page: Page, tier: 'low' | 'medium' | 'high') {
  await page.getByRole('tab', { name: 'Model card' }).click()
  const card = page.getByRole('form', { name: 'Model card' })
  // evaluation comes filled from the run's metrics
  await expect(card.getByRole('textbox', { name: 'Evaluation' })).toHaveValue(/accuracy/)
  await card.getByRole('combobox', { name: 'Risk tier' }).selectOption(tier)
  await card.getByRole('textbox', { name: 'Owner' }).fill('credit-team@example.com')
  await card.getByRole('textbox', { name: 'Intended use' }).fill('Scores **consumer loan** applications for default risk.')
  await card.getByRole('textbox', { name: 'Out-of-scope uses' }).fill('- Business loans\n- Anything outside the EU')
  await card.getByRole('textbox', { name: 'Training data' }).fill('`loans-2026`, 2019–2025 applications.')
  await card.getByRole('textbox', { name: 'Ethical considerations' }).fill('Checked for disparate impact by age band.')
  await card.getByRole('textbox', { name: 'Limitations' }).fill('Trained on eight rows; <script>alert(1)</script> a demo.')
  await card.getByRole('button', { name: 'Save card' }).click()
  await expect(card.getByRole('status')).toHaveText('Saved')
}

test('a scientist registers from a run, fills the card and asks for review; a reviewer approves in the Reviews room; the audit trail verifies', async ({ browser, page: admin }) => {
  test.skip(missing !== null, missing ?? '')
  test.setTimeout(300_000)
  mkdirSync(SHOTS, { recursive: true })
  // a blocking policy over every model
  mkdirSync(join(s.dataDir, 'policies'), { recursive: true })
  writeFileSync(
    join(s.dataDir, 'policies', 'quality.yaml'),
    'rules:\n  - name: min-accuracy\n    expr: metrics.accuracy >= 0.9\n    severity: block\n    message: Accuracy must be at least 0.9\n'
  )
  const runs = await runPython(SCRIPT)
  expect(Object.keys(runs)).toEqual(['rf-baseline', 'rf-tuned', 'rf-weak'])
  users(['add', 'sam', '--role', 'scientist'], 'sam-password-1\n')
  users(['add', 'rita', '--role', 'reviewer'], 'rita-password-1\n')
  const dialogs: string[] = []
  const sam = await signIn(browser, 'sam', 'sam-password-1')
  const page = sam.page
  page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()))

  // ---- version 1: medium risk, registered from the run page ----
  await registerFromRun(page, 'rf-baseline', { newName: 'credit-risk' })
  const v1 = page.getByRole('region', { name: 'credit-risk version 1' })
  await expect(v1.getByRole('heading', { name: 'credit-risk · Version 1' })).toBeVisible()
  await expect(v1.getByRole('region', { name: 'Metrics' })).toContainText('0.93')
  await expect(v1.getByRole('region', { name: 'Parameters' })).toContainText('lbfgs')
  await fillCard(page, 'medium')
  // the preview renders the Markdown, sanitized
  await page.getByRole('button', { name: 'Preview' }).click()
  const intended = page.getByRole('region', { name: 'Intended use' })
  await expect(intended.locator('strong')).toHaveText('consumer loan')
  await expect(page.getByRole('region', { name: 'Out-of-scope uses' }).getByRole('listitem')).toHaveCount(2)
  await expect(page.getByRole('region', { name: 'Limitations' }).locator('script')).toHaveCount(0)
  await expect(page.getByRole('region', { name: 'Risk tier' })).toContainText('medium')

  // lineage: data and code → run → version; OpenLineage export
  await page.getByRole('tab', { name: 'Lineage' }).click()
  await expect(page.getByRole('img', { name: 'Lineage of credit-risk version 1' })).toBeVisible()
  const nodes = page.getByRole('table', { name: 'Lineage nodes' })
  await expect(nodes).toContainText('loans-2026')
  await expect(nodes).toContainText('commit 3f9c2a1b7d')
  await expect(nodes).toContainText('train_credit.ipynb')
  await page.screenshot({ path: join(SHOTS, 'registry-lineage.png') })
  const ol = await downloadText(page, () => page.getByRole('button', { name: 'Export OpenLineage' }).click())
  const events = JSON.parse(ol.text) as { eventType: string; inputs: unknown[] }[]
  expect(events.map((e) => e.eventType)).toContain('COMPLETE')
  expect(events[0].inputs.length).toBeGreaterThan(0)

  // files of the model folder
  await page.getByRole('tab', { name: 'Files' }).click()
  await page.getByRole('button', { name: 'Preview model/MLmodel' }).click()
  await expect(page.getByRole('region', { name: 'File model/MLmodel' })).toContainText('python_function')

  await page.getByRole('tab', { name: 'Overview' }).click()
  await page.screenshot({ path: join(SHOTS, 'registry-version.png') })
  // the source run is one click away, and back
  await v1.getByRole('button', { name: 'Open source run' }).click()
  await expect(page.getByRole('region', { name: 'Run rf-baseline' })).toBeVisible()
  await nav(page, 'Models')
  await v1.getByRole('button', { name: 'Request review' }).click()
  await page.getByRole('dialog', { name: /Request review of credit-risk version 1/ }).getByRole('button', { name: 'Request review' }).click()
  await expect(status(v1)).toHaveText(/Pending/)

  // ---- versions 2 (better) and 3 (weaker): the versions table and compare ----
  await registerFromRun(page, 'rf-tuned', { existing: 'credit-risk' })
  await expect(page.getByRole('heading', { name: 'credit-risk · Version 2' })).toBeVisible()
  await fillCard(page, 'low')
  await page.getByRole('region', { name: 'credit-risk version 2' }).getByRole('button', { name: 'Request review' }).click()
  await page.getByRole('dialog', { name: /Request review of credit-risk version 2/ }).getByRole('button', { name: 'Request review' }).click()
  // low risk and every policy passes: approved by policy, the card frozen with its hash
  await expect(status(page.getByRole('region', { name: 'credit-risk version 2' }))).toHaveText(/Approved/)
  await page.getByRole('tab', { name: 'Model card' }).click()
  await expect(page.getByText('Published', { exact: true })).toBeVisible()
  await expect(page.getByLabel('Content hash')).toHaveText(/^[0-9a-f]{64}$/)
  await expect(page.getByRole('textbox', { name: 'Intended use' })).toHaveCount(0)
  const md = await downloadText(page, () => page.getByRole('button', { name: 'Export Markdown' }).click())
  expect(md.name).toMatch(/\.md$/)
  expect(md.text).toContain('consumer loan')
  const html = await downloadText(page, () => page.getByRole('button', { name: 'Export HTML' }).click())
  expect(html.text).toMatch(/<html/i)
  expect(html.text).not.toContain('<script>alert(1)')
  await page.getByRole('tab', { name: 'Reviews' }).click()
  await expect(page.getByRole('list', { name: 'Earlier reviews' })).toContainText('Approved by policy')
  await expect(page.getByRole('table', { name: 'Policy results' }).getByRole('row', { name: /min-accuracy/ })).toContainText('pass')
  // the approved version becomes the champion
  await page.getByRole('tab', { name: 'Overview' }).click()
  await page.getByRole('combobox', { name: 'New alias' }).fill('champion')
  await page.getByRole('button', { name: 'Set alias' }).click()
  await expect(page.getByRole('region', { name: 'Aliases' })).toContainText('@champion')

  await registerFromRun(page, 'rf-weak', { existing: 'credit-risk' })
  await page.getByRole('button', { name: '← All versions' }).click()
  const table = page.getByRole('table', { name: 'Versions' })
  await expect(table.getByRole('row')).toHaveCount(4)
  await expect(table.getByRole('row', { name: /Version 1/ })).toContainText('Pending')
  await expect(table.getByRole('row', { name: /Version 2/ })).toContainText('Approved')
  await expect(table.getByRole('row', { name: /Version 2/ })).toContainText('@champion')
  await expect(table.getByRole('row', { name: /Version 3/ })).toContainText('Not requested')
  await expect(table.getByRole('columnheader', { name: 'accuracy' })).toBeVisible()
  await page.getByRole('searchbox', { name: 'Search models' }).fill('credit')
  await expect(page.getByRole('listbox', { name: 'Models' }).getByRole('option')).toHaveCount(1)
  await page.getByRole('searchbox', { name: 'Search models' }).fill('nothing-like-this')
  await expect(page.getByRole('listbox', { name: 'Models' })).toHaveCount(0)
  await page.getByRole('searchbox', { name: 'Search models' }).fill('')
  await table.getByRole('checkbox', { name: 'Compare version 1' }).check()
  await table.getByRole('checkbox', { name: 'Compare version 3' }).check()
  await page.screenshot({ path: join(SHOTS, 'registry-models.png') })
  await page.getByRole('button', { name: 'Compare versions' }).click()
  const metrics = page.getByRole('table', { name: 'Metric comparison' })
  const acc = metrics.getByRole('row', { name: /^accuracy/ })
  await expect(acc).toContainText('−0.13')
  await expect(acc.locator('.reg-delta')).toHaveClass(/worse/)
  await expect(metrics.getByRole('row', { name: /^log_loss/ }).locator('.reg-delta')).toHaveClass(/worse/)
  await expect(page.getByRole('table', { name: 'Parameter comparison' }).getByRole('row', { name: /C \(differs\)/ })).toBeVisible()
  await expect(page.getByRole('table', { name: 'Model card comparison' }).getByRole('row', { name: /Risk tier \(differs\)/ })).toBeVisible()
  await page.screenshot({ path: join(SHOTS, 'registry-compare.png') })

  // the weak version: its card is changed elsewhere while open here → a clear conflict, then reload
  await page.getByRole('button', { name: '← All versions' }).click()
  await table.getByRole('button', { name: 'Version 3' }).click()
  await page.getByRole('tab', { name: 'Model card' }).click()
  const card3 = page.getByRole('form', { name: 'Model card' })
  await expect(card3.getByRole('textbox', { name: 'Evaluation' })).toHaveValue(/accuracy/)
  await s.rpc('registry.card.save', { name: 'credit-risk', version: 3, card: { owner: 'someone-else' } })
  await card3.getByRole('combobox', { name: 'Risk tier' }).selectOption('low')
  await card3.getByRole('button', { name: 'Save card' }).click()
  const conflict = card3.getByRole('alert')
  await expect(conflict).toContainText('Someone else changed this version')
  await conflict.getByRole('button', { name: 'Reload' }).click()
  await expect(card3.getByRole('textbox', { name: 'Owner' })).toHaveValue('someone-else')
  await card3.getByRole('combobox', { name: 'Risk tier' }).selectOption('low')
  await card3.getByRole('button', { name: 'Save card' }).click()
  await expect(card3.getByRole('status')).toHaveText('Saved')
  await page.getByRole('region', { name: 'credit-risk version 3' }).getByRole('button', { name: 'Request review' }).click()
  await page.getByRole('dialog', { name: /Request review of credit-risk version 3/ }).getByRole('button', { name: 'Request review' }).click()
  // blocked by the policy: stays pending despite low risk
  await expect(status(page.getByRole('region', { name: 'credit-risk version 3' }))).toHaveText(/Pending/)

  // ---- Reviews room: the queue, oldest first, with risk tier and policy state ----
  await nav(page, 'Reviews')
  const queue = page.getByRole('table', { name: 'Pending versions' })
  await expect(queue.getByRole('row')).toHaveCount(3)
  await expect(queue.getByRole('row').nth(1)).toContainText('credit-risk version 1')
  await expect(queue.getByRole('row').nth(1)).toContainText('medium')
  await expect(queue.getByRole('row').nth(1)).toContainText('Passing')
  await expect(queue.getByRole('row').nth(2)).toContainText('credit-risk version 3')
  await expect(queue.getByRole('row').nth(2)).toContainText('Blocked')

  // the scientist who registered it sees everything but cannot decide
  await queue.getByRole('button', { name: 'credit-risk version 1' }).click()
  const mine = page.getByRole('region', { name: 'Review of credit-risk version 1' })
  await expect(mine.getByRole('list', { name: 'Why approval is not possible' })).toContainText('You registered this version')
  await mine.getByRole('textbox', { name: 'Review comment' }).fill('Metrics and card look right.')
  await expect(mine.getByRole('button', { name: 'Approve' })).toBeDisabled()
  await expect(mine.getByRole('button', { name: 'Reject' })).toBeDisabled()
  await expect(mine.getByRole('list', { name: 'Checklist' }).getByRole('checkbox').first()).toBeDisabled()
  // the card is edited elsewhere while the page is open: a notice, not a silent swap; reload keeps the comment
  await s.rpc('registry.card.save', { name: 'credit-risk', version: 1, card: { limitations: 'Trained on eight rows; a demo only.' } })
  const stale = mine.getByRole('alert').filter({ hasText: 'was changed since you opened it' })
  await expect(stale).toBeVisible()
  await expect(mine.getByRole('region', { name: 'Limitations' })).not.toContainText('a demo only')
  await stale.getByRole('button', { name: 'Reload review' }).click()
  await expect(mine.getByRole('region', { name: 'Limitations' })).toContainText('a demo only')
  await expect(stale).toHaveCount(0)
  await expect(mine.getByRole('textbox', { name: 'Review comment' })).toHaveValue('Metrics and card look right.')
  await page.screenshot({ path: join(SHOTS, 'registry-review-scientist.png') })

  // ---- the reviewer, in another browser ----
  const rita = await signIn(browser, 'rita', 'rita-password-1')
  const rp = rita.page
  rp.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()))
  await nav(rp, 'Reviews')
  const rq = rp.getByRole('table', { name: 'Pending versions' })
  await rq.getByRole('button', { name: 'credit-risk version 1' }).click()
  const review = rp.getByRole('region', { name: 'Review of credit-risk version 1' })
  await expect(review.getByRole('region', { name: 'Model card' }).getByRole('region', { name: 'Intended use' })).toContainText('consumer loan')
  await expect(review.getByRole('heading', { name: 'Metrics vs champion (version 2)' })).toBeVisible()
  const accVsChampion = review.getByRole('table', { name: 'Metrics against the champion' }).getByRole('row', { name: /^accuracy/ })
  await expect(accVsChampion).toContainText('0.95')
  await expect(accVsChampion).toContainText('0.93')
  await expect(accVsChampion).toContainText('−0.02')
  await expect(accVsChampion.locator('.reg-delta')).toHaveClass(/worse/)
  await expect(review.getByRole('table', { name: 'Preview of eval/confusion_matrix.csv' })).toContainText('predicted_1')
  await expect(review.getByRole('list', { name: 'Earlier reviews' })).toContainText('Review requested')
  const approve = review.getByRole('button', { name: 'Approve' })
  const reject = review.getByRole('button', { name: 'Reject' })
  // both need a comment
  await expect(approve).toBeDisabled()
  await expect(reject).toBeDisabled()
  const first = review.getByRole('list', { name: 'Checklist' }).getByRole('checkbox').first()
  await first.check()
  await expect(first).toBeChecked()
  await review.getByRole('textbox', { name: 'Review comment' }).fill('Better than the data it replaces; card complete.')
  await expect(approve).toBeEnabled()
  await expect(reject).toBeEnabled()
  await review.getByRole('combobox', { name: 'Move alias' }).selectOption('champion')
  await rp.screenshot({ path: join(SHOTS, 'registry-review.png') })
  await rp.emulateMedia({ colorScheme: 'dark' })
  await rp.screenshot({ path: join(SHOTS, 'registry-review-dark.png') })
  await rp.emulateMedia({ colorScheme: 'light' })

  // someone else acts on the version meanwhile: Approve answers with a clear conflict, nothing lost
  await s.rpc('registry.tags.set', { name: 'credit-risk', version: 1, key: 'ticket', value: 'RISK-1' })
  await expect(review.getByRole('alert').filter({ hasText: 'was changed since you opened it' })).toBeVisible()
  await approve.click()
  const approveConflict = review.getByRole('alert').filter({ hasText: 'Someone else changed this version' })
  await expect(approveConflict).toBeVisible()
  await approveConflict.getByRole('button', { name: 'Reload' }).click()
  await expect(approveConflict).toHaveCount(0)
  // the reloaded page is the current revision: no stale notice, and Approve is enabled again
  await expect(review.getByRole('alert').filter({ hasText: 'was changed since you opened it' })).toHaveCount(0)
  await expect(review.getByRole('textbox', { name: 'Review comment' })).toHaveValue('Better than the data it replaces; card complete.')
  await approve.click()
  await expect(review.getByRole('status').filter({ hasText: 'is now Approved' })).toBeVisible()
  await expect(review.locator('.reg-head .reg-status')).toHaveText(/Approved/)
  await expect(review.getByRole('list', { name: 'Earlier reviews' })).toContainText('Better than the data it replaces')

  // the weak version: blocked by policy, so only Reject, which the reviewer uses
  await review.getByRole('button', { name: '← Queue' }).click()
  await expect(rq.getByRole('row')).toHaveCount(2)
  await rq.getByRole('button', { name: 'credit-risk version 3' }).click()
  const review3 = rp.getByRole('region', { name: 'Review of credit-risk version 3' })
  await expect(review3.getByRole('list', { name: 'Why approval is not possible' })).toContainText('Accuracy must be at least 0.9')
  await expect(review3.getByRole('table', { name: 'Policy results' }).getByRole('row', { name: /min-accuracy/ })).toContainText('fail')
  await review3.getByRole('textbox', { name: 'Review comment' }).fill('Too weak: accuracy 0.8.')
  await expect(review3.getByRole('button', { name: 'Approve' })).toBeDisabled()
  await review3.getByRole('button', { name: 'Reject' }).click()
  await expect(review3.getByRole('status').filter({ hasText: 'is now Rejected' })).toBeVisible()
  // reviewers read the audit trail but do not export it
  await rp.getByRole('tab', { name: 'Audit trail' }).click()
  await expect(rp.getByRole('table', { name: 'Audit events' })).toContainText('review.approve')
  await expect(rp.getByRole('button', { name: 'Export CSV' })).toHaveCount(0)

  // ---- back with the scientist: the outcome in the Models room, the card frozen ----
  await nav(page, 'Models')
  await page.getByRole('button', { name: '← All versions' }).click()
  const after = page.getByRole('table', { name: 'Versions' })
  await expect(after.getByRole('row', { name: /Version 1/ })).toContainText('Approved')
  await expect(after.getByRole('row', { name: /Version 1/ })).toContainText('@champion')
  await expect(after.getByRole('row', { name: /Version 2/ })).not.toContainText('@champion')
  await expect(after.getByRole('row', { name: /Version 3/ })).toContainText('Rejected')
  await after.getByRole('button', { name: 'Version 1' }).click()
  await page.getByRole('tab', { name: 'Model card' }).click()
  await expect(page.getByText('Published', { exact: true })).toBeVisible()
  await expect(page.getByLabel('Content hash')).toHaveText(/^[0-9a-f]{64}$/)
  await expect(page.getByRole('region', { name: 'Limitations' })).toContainText('a demo only')

  // ---- audit trail (the admin): lists the steps, verifies, exports ----
  admin.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()))
  await admin.goto(s.url)
  await nav(admin, 'Reviews')
  await admin.getByRole('tab', { name: 'Audit trail' }).click()
  const audit = admin.getByRole('table', { name: 'Audit events' })
  for (const [action, who] of [
    ['model.create', 'sam'],
    ['version.create', 'sam'],
    ['card.save', 'sam'],
    ['review.request', 'sam'],
    ['review.approve', 'rita'],
    ['version.approved', 'rita'],
    ['review.reject', 'rita']
  ])
    await expect(audit.getByRole('row', { name: new RegExp(`${who} ${action.replace('.', '\\.')}`) }).first()).toBeVisible()
  await expect(audit.getByRole('row', { name: /review\.approve/ })).toContainText('Better than the data it replaces')
  await admin.getByRole('button', { name: 'Verify audit trail' }).click()
  await expect(admin.getByRole('status', { name: 'Verification result' })).toContainText('OK')
  const jsonl = await downloadText(admin, () => admin.getByRole('button', { name: 'Export JSON Lines' }).click())
  const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l) as { action: string })
  expect(lines.some((l) => l.action === 'review.approve')).toBe(true)
  const csv = await downloadText(admin, () => admin.getByRole('button', { name: 'Export CSV' }).click())
  expect(csv.name).toMatch(/\.csv$/)
  expect(csv.text.split('\n')[0]).toMatch(/seq/)
  await admin.screenshot({ path: join(SHOTS, 'registry-audit.png') })

  // someone edits one event in SQLite (past the append-only trigger): verification names it
  const db = new Database(join(s.dataDir, 'atelier.db'))
  try {
    db.exec("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET comment = 'looks fine' WHERE seq = 5")
  } finally {
    db.close()
  }
  await admin.getByRole('button', { name: 'Verify audit trail' }).click()
  await expect(admin.getByRole('status', { name: 'Verification result' })).toContainText('Broken at event #5')
  await expect(audit.getByRole('row', { name: /^5 / })).toHaveClass(/rev-broken/)
  expect(dialogs).toEqual([])
  await sam.context.close()
  await rita.context.close()
})

test('high risk: the first reviewer’s approval leaves it pending, the same reviewer cannot approve twice, a second reviewer completes it', async ({ browser }) => {
  test.skip(missing !== null, missing ?? '')
  test.setTimeout(180_000)
  const runs = await runPython(SCRIPT)
  users(['add', 'rita', '--role', 'reviewer'], 'rita-password-1\n')
  users(['add', 'rob', '--role', 'reviewer'], 'rob-password-1\n')
  // registered, carded and submitted by the admin (start-up token) over the contract
  await s.rpc('registry.versions.create', { name: 'fraud', runId: runs['rf-tuned'], artifactPath: 'model', createModel: true })
  await s.rpc('registry.card.save', { name: 'fraud', version: 1, card: { riskTier: 'high', intendedUse: 'Flags card fraud.' } })
  await s.rpc('registry.review.request', { name: 'fraud', version: 1 })

  const approveAs = async (name: string, password: string, comment: string) => {
    const who = await signIn(browser, name, password)
    await nav(who.page, 'Reviews')
    await who.page.getByRole('table', { name: 'Pending versions' }).getByRole('button', { name: 'fraud version 1' }).click()
    const review = who.page.getByRole('region', { name: 'Review of fraud version 1' })
    await expect(review.getByRole('region', { name: 'Risk tier' })).toContainText('high')
    await review.getByRole('textbox', { name: 'Review comment' }).fill(comment)
    await review.getByRole('button', { name: 'Approve' }).click()
    return { ...who, review }
  }
  const a = await approveAs('rita', 'rita-password-1', 'First look: fine.')
  await expect(a.review.getByRole('status').filter({ hasText: '1 of 2' })).toContainText('stays Pending')
  await expect(a.review.locator('.reg-head')).toContainText('1 of 2 approvals')
  await expect(a.review.getByRole('list', { name: 'Why approval is not possible' })).toContainText('You already approved')
  await a.review.getByRole('textbox', { name: 'Review comment' }).fill('Again')
  await expect(a.review.getByRole('button', { name: 'Approve' })).toBeDisabled()

  const b = await approveAs('rob', 'rob-password-1', 'Second look: fine.')
  await expect(b.review.getByRole('status').filter({ hasText: 'is now Approved' })).toBeVisible()
  await expect(b.review.getByRole('list', { name: 'Earlier reviews' })).toContainText('First look: fine.')
  await expect(b.review.getByRole('list', { name: 'Earlier reviews' })).toContainText('Second look: fine.')
  await b.review.getByRole('button', { name: '← Queue' }).click()
  await expect(b.page.getByText('Nothing is waiting for review.')).toBeVisible()

  // policies: a file that does not parse and an expression that does not type-check are named with file and line
  mkdirSync(join(s.dataDir, 'policies'), { recursive: true })
  writeFileSync(join(s.dataDir, 'policies', 'broken.yaml'), 'rules:\n  - name: bad\n    expr: [unclosed\n')
  writeFileSync(
    join(s.dataDir, 'policies', 'typed.yaml'),
    'rules:\n  - name: min-auc\n    expr: metrics.auc >= "high"\n    severity: block\n    message: AUC too low\n'
  )
  await b.page.getByRole('tab', { name: 'Policies' }).click()
  const policies = b.page.getByRole('region', { name: 'Policies' })
  await expect(policies.getByRole('alert').filter({ hasText: 'broken.yaml' })).toContainText(/line \d+/)
  const typed = policies.getByRole('table', { name: 'Policy rules' }).getByRole('row', { name: /min-auc/ })
  await expect(typed).toContainText('Broken:')
  await expect(typed).toContainText('typed.yaml:3')
  await b.page.screenshot({ path: join(SHOTS, 'registry-policies.png') })
  await a.context.close()
  await b.context.close()
})
