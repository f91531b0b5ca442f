import { test, expect } from '@playwright/test'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { trackingServe } from '../tracking-support'

const { serve, mlflow, openExperiment } = trackingServe()

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
  return experiment_id
}

test('log three runs over MLflow REST, select two and chart their loss', async ({ page }) => {
  await logRuns('e2e-sweep', 3)
  await openExperiment(page, /e2e-sweep/)
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


/**
 * The acceptance script: only MLflow REST calls through urllib, as a training script without
 * the mlflow package would make them. 20 runs, params, a 1,000-step loss and an accuracy, and two
 * artifacts per run (a PNG plot of the loss and a CSV of it).
 */
const ACCEPTANCE_SCRIPT = String.raw`
import json, math, os, struct, time, urllib.error, urllib.parse, urllib.request, zlib
URI = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]
H = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}

def call(endpoint, body):
    req = urllib.request.Request(URI + "/api/2.0/mlflow/" + endpoint, data=json.dumps(body).encode(), method="POST", headers=H)
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit("%s -> %d %s" % (endpoint, e.code, e.read().decode()))

def put(path, payload):
    req = urllib.request.Request(URI + "/api/2.0/mlflow-artifacts/artifacts/" + urllib.parse.quote(path), data=payload, method="PUT", headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200

def png(w, h, ys):
    # white canvas, light grid, the curve in blue: a real plot a user would log
    px = [[(255, 255, 255)] * w for _ in range(h)]
    for y in range(0, h, 20):
        px[y] = [(225, 228, 235)] * w
    lo, hi = min(ys), max(ys)
    for x in range(w):
        v = ys[int(x * (len(ys) - 1) / (w - 1))]
        y = int((h - 6) - (v - lo) / ((hi - lo) or 1) * (h - 12))
        for dy in (-1, 0, 1):
            px[max(0, min(h - 1, y + dy))][x] = (40, 90, 220)
    raw = b"".join(b"\x00" + bytes(c for p in row for c in p) for row in px)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

exp = call("experiments/create", {"name": "acceptance-sweep"})["experiment_id"]
now = int(time.time() * 1000)
for i in range(20):
    lr = [0.1, 0.03, 0.01, 0.003][i % 4]
    run = call("runs/create", {"experiment_id": exp, "run_name": "trial-%d" % i, "start_time": now + i * 1000})["run"]
    rid = run["info"]["run_id"]
    params = [{"key": "lr", "value": str(lr)}, {"key": "batch_size", "value": str([32, 64][i % 2])}, {"key": "optimizer", "value": "adam" if i % 3 else "sgd"}]
    loss = [math.exp(-lr * s / 10) * (1 + 0.1 * math.sin(s / 25)) + 0.02 + 0.002 * i for s in range(1000)]
    metrics = [{"key": "loss", "value": v, "timestamp": now + i * 1000 + s * 10, "step": s} for s, v in enumerate(loss)]
    # MLflow's limit: 1,000 entities per batch, so the params and tags go first, then the 1,000 points
    call("runs/log-batch", {"run_id": rid, "params": params, "tags": [{"key": "team", "value": "vision"}]})
    call("runs/log-batch", {"run_id": rid, "metrics": metrics})
    call("runs/log-metric", {"run_id": rid, "key": "accuracy", "value": 0.7 + lr + i / 200, "timestamp": now, "step": 999})
    root = run["info"]["artifact_uri"][len("mlflow-artifacts:/"):]
    put(root + "/plots/loss.png", png(240, 120, loss))
    put(root + "/summary.txt", ("trial %d: lr=%s, final loss %.4f\n" % (i, lr, loss[-1])).encode())
    put(root + "/loss.csv", ("step,loss\n" + "".join("%d,%.5f\n" % (s, v) for s, v in enumerate(loss[:50]))).encode())
    call("runs/update", {"run_id": rid, "status": "FINISHED", "end_time": now + i * 1000 + 10000})
print(json.dumps({"experiment_id": exp}))
`

async function runPython(script: string): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-py-'))
  const file = join(dir, 'client.py')
  writeFileSync(file, script)
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [file], {
    env: { ...process.env, MLFLOW_TRACKING_URI: serve().origin, MLFLOW_TRACKING_TOKEN: serve().token, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
    timeout: 90_000
  })
  return JSON.parse(stdout.trim().split('\n').pop()!)
}

test('acceptance: a urllib MLflow client logs 20 runs; compare three, overlay their loss, preview artifacts', async ({ page }) => {
  test.setTimeout(180_000)
  await runPython(ACCEPTANCE_SCRIPT)
  await openExperiment(page, /acceptance-sweep/)

  const grid = page.getByRole('grid', { name: 'Runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', '21')
  await expect(page.getByRole('status').filter({ hasText: '20 runs' })).toBeVisible()
  await expect(grid.getByRole('columnheader', { name: 'params.lr' })).toBeVisible()
  await expect(grid.getByRole('columnheader', { name: 'metrics.loss' })).toBeVisible()

  // the column chooser adds a tag column
  await page.getByRole('button', { name: 'Columns' }).click()
  await page.getByRole('dialog', { name: 'Choose columns' }).getByRole('checkbox', { name: 'team' }).check()
  await page.keyboard.press('Escape')
  await expect(grid.getByRole('columnheader', { name: 'tags.team' })).toBeVisible()

  // sort by accuracy, highest first
  await grid.getByRole('button', { name: 'metrics.accuracy' }).click()
  await expect(grid.getByRole('columnheader', { name: 'metrics.accuracy' })).toHaveAttribute('aria-sort', 'descending')
  await expect(grid.getByRole('row').nth(1)).toContainText('trial-16') // lr 0.1, the largest i with it
  await page.screenshot({ path: '/tmp/exp-1-runs.png' })

  // three runs: their loss curves overlaid, downsampled on the server
  for (const name of ['trial-16', 'trial-17', 'trial-18']) await grid.getByRole('checkbox', { name: `Select run ${name}` }).check()
  await expect(page.getByRole('status').filter({ hasText: '20 runs, 3 selected' })).toBeVisible()
  await page.getByRole('combobox', { name: 'Metric' }).selectOption('loss')
  const chart = page.getByRole('img', { name: 'loss by step' })
  await expect(chart).toHaveAccessibleDescription(/loss for trial-16, trial-17, trial-18/)
  const points = page.getByRole('region', { name: 'Metric chart' }).getByRole('status')
  await expect(points).toHaveText(/1,500 of 3,000 points \(downsampled; zoom in for raw\)/)
  await expect(chart.locator('.scatterlayer .trace')).toHaveCount(3)
  await page.screenshot({ path: '/tmp/exp-2-chart.png' })

  // zoom with the mouse: plotly's relayout asks the server for the zoomed range, raw
  const plotArea = chart.locator('.nsewdrag').first()
  const box = (await plotArea.boundingBox())!
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.5)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5, { steps: 8 })
  await page.mouse.up()
  await expect(points).toHaveText(/of [\d,]+ points \(raw\)/)
  await page.getByRole('button', { name: 'Reset zoom' }).click()
  await expect(points).toHaveText(/downsampled/)

  // log scale, smoothing and a time axis
  await page.getByRole('checkbox', { name: 'Log scale' }).check()
  await page.getByRole('slider', { name: 'Smoothing' }).fill('0.9')
  await page.getByRole('combobox', { name: 'X axis' }).selectOption('relative')
  await expect(page.getByRole('img', { name: 'loss by relative time' })).toBeVisible()
  await expect(points).toHaveText(/1,500 of 3,000 points/)
  await page.screenshot({ path: '/tmp/exp-3-chart-time.png' })
  // wall-clock time: a zoom there asks for a timestamp range, raw again
  await page.getByRole('combobox', { name: 'X axis' }).selectOption('wall')
  const wall = page.getByRole('img', { name: 'loss by time' })
  await expect(wall).toBeVisible()
  await expect(points).toHaveText(/1,500 of 3,000 points \(downsampled/)
  const wallBox = (await wall.locator('.nsewdrag').first().boundingBox())!
  await page.mouse.move(wallBox.x + wallBox.width * 0.4, wallBox.y + wallBox.height * 0.5)
  await page.mouse.down()
  await page.mouse.move(wallBox.x + wallBox.width * 0.6, wallBox.y + wallBox.height * 0.5, { steps: 8 })
  await page.mouse.up()
  await expect(points).toHaveText(/of [\d,]+ points \(raw\)/)
  await page.getByRole('combobox', { name: 'X axis' }).selectOption('step')
  await expect(points).toHaveText(/1,500 of 3,000 points/)

  // compare: parallel coordinates, the param diff, param against metric
  await page.getByRole('button', { name: 'Compare' }).click()
  const diff = page.getByRole('table', { name: 'Parameter comparison' })
  await expect(diff.getByRole('row', { name: 'lr (differs)' })).toBeVisible() // 0.1, 0.03, 0.01
  await expect(diff.getByRole('row', { name: 'optimizer (differs)' })).toBeVisible()
  await expect(diff.getByRole('row', { name: 'batch_size (differs)' })).toBeVisible()
  for (const name of ['trial-16', 'trial-17', 'trial-18']) await expect(diff.getByRole('columnheader', { name })).toBeVisible()
  const parallel = page.getByRole('img', { name: 'Parallel coordinates of the selected runs' })
  await expect(parallel.locator('.scatterlayer .trace')).toHaveCount(3)
  await page.screenshot({ path: '/tmp/exp-4-compare.png' })
  await page.getByRole('combobox', { name: 'Comparison plot' }).selectOption('scatter')
  await page.getByRole('combobox', { name: 'Parameter' }).selectOption('lr')
  await expect(page.getByRole('img', { name: 'loss against lr' })).toBeVisible()
  await page.screenshot({ path: '/tmp/exp-5-scatter.png' })
  await page.getByRole('button', { name: 'Compare' }).click()

  // the run page: params, metrics, tags, a note, and artifact previews (PNG and CSV)
  await grid.getByRole('button', { name: 'Show details of trial-16' }).click()
  const details = page.getByRole('region', { name: 'Run trial-16' })
  await expect(details.getByRole('region', { name: 'Parameters' })).toContainText('0.1')
  await expect(details.getByRole('region', { name: 'Tags' })).toContainText('vision')
  await details.getByRole('button', { name: 'Add note' }).click()
  await details.getByRole('textbox', { name: 'Run note' }).fill('Best lr so far; try warmup next.')
  await details.getByRole('button', { name: 'Save note' }).click()
  await expect(details.getByRole('region', { name: 'Notes' })).toContainText('Best lr so far; try warmup next.')
  expect((await serve().rpc('tracking.run.get', { runId: await runIdOf('trial-16') })).tags['mlflow.note.content']).toBe('Best lr so far; try warmup next.')

  await details.getByRole('button', { name: 'Open folder plots' }).click()
  await details.getByRole('button', { name: 'Preview plots/loss.png' }).click()
  const img = details.getByRole('img', { name: 'plots/loss.png' })
  await expect(img).toBeVisible()
  expect(await img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(240)
  await page.screenshot({ path: '/tmp/exp-6-artifact-png.png' })
  await details.getByRole('button', { name: 'Up one folder' }).click()
  await details.getByRole('button', { name: 'Preview summary.txt' }).click()
  await expect(details.getByLabel('Preview of summary.txt')).toContainText('trial 16: lr=0.1, final loss')
  await details.getByRole('button', { name: 'Preview loss.csv' }).click()
  const csv = details.getByRole('table', { name: 'Preview of loss.csv' })
  await expect(csv.getByRole('row').first()).toContainText('step')
  await expect(csv.getByRole('row')).toHaveCount(51)
  await page.screenshot({ path: '/tmp/exp-7-artifact-csv.png' })
})

async function runIdOf(name: string): Promise<string> {
  const exps = await serve().rpc('tracking.experiments.list', {})
  for (const e of exps) {
    const page = await serve().rpc('tracking.runs.search', { experimentIds: [e.experimentId], filter: `attributes.run_name = '${name}'` })
    if (page.runs.length) return page.runs[0].runId
  }
  throw new Error(`no run ${name}`)
}

test('live updates while a script logs; delete and restore runs and experiments', async ({ page }) => {
  const experiment_id = await logRuns('live-sweep', 2)
  await openExperiment(page, /live-sweep/)
  const grid = page.getByRole('grid', { name: 'Runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', '3')

  // a run that is still logging: the table and the chart follow it without a reload
  const { run } = await mlflow('runs/create', { experiment_id, run_name: 'live-run', start_time: Date.now() })
  await expect(grid).toHaveAttribute('aria-rowcount', '4')
  await grid.getByRole('checkbox', { name: 'Select run live-run' }).check()
  const t0 = Date.now()
  const log = (from: number) =>
    mlflow('runs/log-batch', { run_id: run.info.run_id, metrics: Array.from({ length: 100 }, (_, k) => ({ key: 'loss', value: 1 / (from + k + 1), timestamp: t0 + from + k, step: from + k })) })
  await log(0)
  const points = page.getByRole('region', { name: 'Metric chart' }).getByRole('status')
  await expect(points).toHaveText(/100 of 100 points/)
  await log(100)
  await expect(points).toHaveText(/200 of 200 points/)

  // delete two runs, see them under "Deleted runs", restore one
  await grid.getByRole('checkbox', { name: 'Select run run-0' }).check()
  await page.getByRole('button', { name: 'Delete selected runs' }).click()
  await expect(grid).toHaveAttribute('aria-rowcount', '2')
  await expect(grid.getByRole('button', { name: 'Show details of live-run' })).toBeHidden()
  await page.getByRole('combobox', { name: 'Show runs' }).selectOption('DELETED_ONLY')
  await expect(grid).toHaveAttribute('aria-rowcount', '3')
  await grid.getByRole('checkbox', { name: 'Select run run-0' }).check()
  await page.screenshot({ path: '/tmp/exp-8-deleted-runs.png' })
  await page.getByRole('button', { name: 'Restore selected runs' }).click()
  await expect(grid).toHaveAttribute('aria-rowcount', '2')
  await page.getByRole('combobox', { name: 'Show runs' }).selectOption('ACTIVE_ONLY')
  await expect(grid).toHaveAttribute('aria-rowcount', '3')
  await expect(grid.getByRole('button', { name: 'Show details of run-0' })).toBeVisible()

  // delete the experiment; it shows again under "Show deleted experiments" and comes back whole
  const list = page.getByRole('listbox', { name: 'Experiments' })
  await page.getByRole('button', { name: 'Delete experiment live-sweep' }).click()
  await expect(list.getByRole('option', { name: /live-sweep/ })).toHaveCount(0)
  await page.getByRole('checkbox', { name: 'Show deleted experiments' }).check()
  await list.getByRole('option', { name: /live-sweep \(deleted\)/ }).click()
  await page.screenshot({ path: '/tmp/exp-9-deleted-experiment.png' })
  await page.getByRole('button', { name: 'Restore experiment live-sweep' }).click()
  await expect(list.getByRole('option', { name: 'live-sweep, 2 runs' })).toBeVisible()
  await expect(grid).toHaveAttribute('aria-rowcount', '3')
})

test('10,000 runs: the table stays virtualized and smooth to scroll and sort', async ({ page }) => {
  test.setTimeout(360_000) // logging the 10,000 runs (20,000 REST calls) is most of it
  const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: 'big-sweep' })
  const N = 10_000
  let next = 0
  const t0 = Date.now()
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < N) {
        const i = next++
        const { run } = await mlflow('runs/create', { experiment_id, run_name: `r-${String(i).padStart(5, '0')}`, start_time: t0 + i })
        await mlflow('runs/log-batch', {
          run_id: run.info.run_id,
          params: [
            { key: 'lr', value: String(10 ** -(1 + (i % 4))) },
            { key: 'seed', value: String(i) }
          ],
          metrics: [
            { key: 'acc', value: (i * 7919) % 10_000 / 10_000, timestamp: t0, step: 0 },
            { key: 'loss', value: 1 - ((i * 7919) % 10_000) / 10_000, timestamp: t0, step: 0 }
          ]
        })
      }
    })
  )
  await openExperiment(page, /big-sweep/)
  const grid = page.getByRole('grid', { name: 'Runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', String(N + 1), { timeout: 60_000 })
  await expect(page.getByRole('status').filter({ hasText: '10,000 runs' })).toBeVisible()
  // only the visible rows are in the DOM
  expect(await grid.getByRole('row').count()).toBeLessThan(80)

  // scroll through the whole table: frames stay short
  const frames = await grid.evaluate(async (el) => {
    const gaps: number[] = []
    let last = performance.now()
    for (let k = 1; k <= 60; k++) {
      el.scrollTop = (el.scrollHeight * k) / 60
      await new Promise((r) => requestAnimationFrame(() => r(null)))
      const now = performance.now()
      gaps.push(now - last)
      last = now
    }
    return gaps.sort((a, b) => a - b)
  })
  const median = frames[Math.floor(frames.length / 2)]
  console.log(`10k runs: scroll frame median ${median.toFixed(1)} ms, max ${frames[frames.length - 1].toFixed(1)} ms`)
  expect(median).toBeLessThan(50)
  await expect(grid.getByRole('button', { name: 'Show details of r-00000' })).toBeVisible()

  // sort by a metric: the best run comes to the top at once
  await grid.evaluate((el) => (el.scrollTop = 0))
  const started = Date.now()
  await grid.getByRole('button', { name: 'metrics.acc' }).click()
  await expect(grid.getByRole('columnheader', { name: 'metrics.acc' })).toHaveAttribute('aria-sort', 'descending')
  await expect(grid.getByRole('row').nth(1)).toContainText('0.9999')
  const sortMs = Date.now() - started
  console.log(`10k runs: sort by metrics.acc ${sortMs} ms`)
  expect(sortMs).toBeLessThan(2000)

  // a server-side filter over the 10,000
  const filter = page.getByRole('searchbox', { name: 'Filter runs' })
  await filter.fill('metrics.acc > 0.99 and params.lr = \'0.1\'')
  await filter.press('Enter')
  await expect(page.getByRole('status').filter({ hasText: /^\d{1,3} runs$/ })).toBeVisible()
  await page.screenshot({ path: '/tmp/exp-10-10k-runs.png' })
})
