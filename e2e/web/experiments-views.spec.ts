import { test, expect } from '@playwright/test'
import { trackingServe } from '../tracking-support'

/**
 * What a new user hit in the Experiments room: metrics logged once per run (a point at one step),
 * metric columns off screen, a Compare table that hides runs, headers cut short, and a runs filter
 * that followed the user into other experiments and hid everything when invalid.
 */

const { mlflow, openExperiment } = trackingServe()

/** Runs with six params and one `accuracy` point each (step 0), as a scikit-learn notebook logs them. */
async function logOnce(experiment: string, names: string[]): Promise<string> {
  const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: experiment })
  const t0 = Date.now()
  for (const [i, name] of names.entries()) {
    const { run } = await mlflow('runs/create', { experiment_id, run_name: name, start_time: t0 + i })
    await mlflow('runs/log-batch', {
      run_id: run.info.run_id,
      params: ['max_depth', 'n_estimators', 'min_samples_leaf', 'criterion', 'class_weight', 'random_state'].map((key, k) => ({ key, value: String(i * 10 + k) })),
      metrics: [{ key: 'accuracy', value: 0.8 + i / 100, timestamp: t0, step: 0 }]
    })
  }
  return experiment_id
}

test('a metric logged once per run: a bar per run, visible markers on one step, its column in view', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 })
  await logOnce('churn-models', ['logreg', 'forest', 'boosting'])
  await openExperiment(page, /churn-models/)
  const grid = page.getByRole('grid', { name: 'Runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', '4')

  // the metric column sits next to the run name, inside the visible part of the table
  const gridBox = (await grid.boundingBox())!
  const accHead = (await grid.getByRole('columnheader', { name: 'metrics.accuracy' }).boundingBox())!
  expect(accHead.x + accHead.width).toBeLessThanOrEqual(gridBox.x + gridBox.width)

  await grid.getByRole('checkbox', { name: 'Select all runs' }).check()
  await page.getByRole('combobox', { name: 'Metric' }).selectOption('accuracy')
  // one point per run: the automatic plot is a bar per run, in the table's order (newest first)
  const bars = page.getByRole('img', { name: 'accuracy per run' })
  await expect(bars).toBeVisible()
  await expect(bars.locator('.barlayer .point')).toHaveCount(3)
  await expect(bars).toHaveAccessibleDescription('boosting: 0.82, forest: 0.81, logreg: 0.8')
  await page.screenshot({ path: 'out/screenshots/exp-once-bars.png' })

  // as curves: every point is a visible marker, and the x axis is that one step
  await page.getByRole('combobox', { name: 'Plot kind' }).selectOption('lines')
  const curves = page.getByRole('img', { name: 'accuracy by step' })
  await expect(curves).toBeVisible()
  await expect(page.getByRole('region', { name: 'Metric chart' }).getByRole('status')).toHaveText(/3 of 3 points/)
  await expect(curves.locator('.scatterlayer .trace .points path')).toHaveCount(3)
  await expect(curves.locator('.xtick text')).toHaveText(['0'])
  await page.screenshot({ path: 'out/screenshots/exp-once-markers.png' })
})

test('Compare shows every run (sideways scroll, parameter column kept); headers and dates are readable and resizable', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 })
  const names = ['gradient-boosting-depth-3-lr-0.1', 'gradient-boosting-depth-5-lr-0.05', 'random-forest-500-trees-balanced', 'logistic-regression-l2-c-1.0']
  await logOnce('wide-compare', names)
  await openExperiment(page, /wide-compare/)
  const grid = page.getByRole('grid', { name: 'Runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', '5')

  // headers and dates carry their full text; a column widens by dragging its edge or with the arrow keys
  const head = grid.getByRole('columnheader', { name: 'params.min_samples_leaf' })
  await expect(head.getByRole('button')).toHaveAttribute('title', /params\.min_samples_leaf/)
  const started = grid.getByRole('row').nth(1).getByRole('gridcell').nth(3)
  await expect(started).toHaveAttribute('title', /\d{4}.*GMT|\d{4}.*UTC/)
  const date = grid.getByRole('columnheader', { name: 'Started' })
  const handle = grid.getByRole('separator', { name: 'Resize column Started' })
  const before = (await date.boundingBox())!.width
  const hb = (await handle.boundingBox())!
  await page.mouse.move(hb.x + 2, hb.y + hb.height / 2)
  await page.mouse.down()
  await page.mouse.move(hb.x + 82, hb.y + hb.height / 2, { steps: 5 })
  await page.mouse.up()
  expect((await date.boundingBox())!.width).toBeGreaterThan(before + 60)
  const dragged = Number(await handle.getAttribute('aria-valuenow'))
  expect(dragged).toBe(Math.round(before) + 80)
  await handle.focus()
  await page.keyboard.press('ArrowRight')
  await expect(handle).toHaveAttribute('aria-valuenow', String(dragged + 10))

  await grid.getByRole('checkbox', { name: 'Select all runs' }).check()
  await page.getByRole('button', { name: 'Compare', exact: true }).click()
  const wrap = page.getByRole('region', { name: 'Compared runs' })
  const table = wrap.getByRole('table', { name: 'Parameter comparison' })
  for (const n of names) await expect(table.getByRole('columnheader', { name: n })).toHaveCount(1)
  // the table is wider than its pane, and says so: how many runs are out of view, with buttons to scroll
  const dims = await wrap.evaluate((el: HTMLElement) => ({ sw: el.scrollWidth, cw: el.clientWidth, bottom: el.getBoundingClientRect().bottom }))
  expect(dims.sw).toBeGreaterThan(dims.cw)
  expect(dims.bottom).toBeLessThanOrEqual(800)
  const inView = page.getByRole('status', { name: 'Compared runs in view' })
  await expect(inView).toHaveText(/4 runs · [1-3] out of view/)
  await expect(page.getByRole('button', { name: 'Scroll runs left' })).toBeDisabled()
  await page.screenshot({ path: 'out/screenshots/exp-compare-wide.png' })
  // scrolled to the end, the last run is inside the pane and the parameter names stay at its left
  for (let i = 0; i < 4 && (await page.getByRole('button', { name: 'Scroll runs right' }).isEnabled()); i++) {
    await page.getByRole('button', { name: 'Scroll runs right' }).click()
    await page.waitForTimeout(400)
  }
  await expect(page.getByRole('button', { name: 'Scroll runs right' })).toBeDisabled()
  const w = (await wrap.boundingBox())!
  const last = (await table.getByRole('columnheader').last().boundingBox())!
  expect(last.x).toBeGreaterThanOrEqual(w.x)
  expect(last.x + last.width).toBeLessThanOrEqual(w.x + w.width + 1)
  const param = (await table.getByRole('columnheader', { name: 'Parameter' }).boundingBox())!
  expect(Math.abs(param.x - w.x)).toBeLessThan(2)
  await page.screenshot({ path: 'out/screenshots/exp-compare-wide-end.png' })
})

test('filters belong to their experiment; an invalid one shows its error and the unfiltered runs', async ({ page }) => {
  await logOnce('exp-a', ['a-1', 'a-2', 'a-3'])
  await logOnce('exp-b', ['b-1', 'b-2'])
  await openExperiment(page, /exp-a/)
  const grid = page.getByRole('grid', { name: 'Runs' })
  const filter = page.getByRole('searchbox', { name: 'Filter runs' })
  await expect(grid).toHaveAttribute('aria-rowcount', '4')

  await filter.fill('params.max_depth ~~ 3')
  await filter.press('Enter')
  await expect(page.getByRole('alert')).toContainText('Invalid filter')
  await expect(page.getByRole('note')).toHaveText('The filter is not applied; showing all runs.')
  await expect(grid).toHaveAttribute('aria-rowcount', '4')

  // another experiment has its own (empty) filter
  await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /exp-b/ }).click()
  await expect(filter).toHaveValue('')
  await expect(grid).toHaveAttribute('aria-rowcount', '3')
  await expect(page.getByRole('alert')).toBeHidden()
  await filter.fill("params.max_depth = '10'")
  await filter.press('Enter')
  await expect(grid).toHaveAttribute('aria-rowcount', '2')

  // back in the first, its filter is still there; after a valid one, an invalid edit keeps the valid result
  await page.getByRole('listbox', { name: 'Experiments' }).getByRole('option', { name: /exp-a/ }).click()
  await expect(filter).toHaveValue('params.max_depth ~~ 3')
  await filter.fill("params.max_depth = '20'")
  await filter.press('Enter')
  await expect(grid).toHaveAttribute('aria-rowcount', '2')
  await expect(page.getByRole('note')).toBeHidden()
  await filter.fill("params.max_depth = '20' and")
  await filter.press('Enter')
  await expect(page.getByRole('alert')).toBeVisible()
  await expect(page.getByRole('note')).toContainText("showing the runs of the last valid filter: params.max_depth = '20'")
  await expect(grid).toHaveAttribute('aria-rowcount', '2')
  await page.screenshot({ path: 'out/screenshots/exp-filter-invalid.png' })
})

test('seeds grouped: n and mean ± 95 % CI per group, mean curves with bands, the runs on demand', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 })
  const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: 'seeds' })
  const t0 = Date.now()
  for (const lr of [0.1, 0.01])
    for (const seed of [1, 2, 3]) {
      const { run } = await mlflow('runs/create', { experiment_id, run_name: `lr${lr}-seed${seed}`, start_time: t0 })
      const loss = Array.from({ length: 50 }, (_, step) => ({ key: 'loss', value: Math.exp((-lr * 10 * step) / 10) + 0.05 * seed, timestamp: t0 + step, step }))
      await mlflow('runs/log-batch', {
        run_id: run.info.run_id,
        params: [
          { key: 'lr', value: String(lr) },
          { key: 'seed', value: String(seed) },
          { key: 'model', value: 'mlp' }
        ],
        metrics: [...loss, { key: 'accuracy', value: (lr === 0.1 ? 0.85 : 0.8) + seed / 100, timestamp: t0, step: 49 }]
      })
    }
  await openExperiment(page, /seeds/)
  await expect(page.getByRole('grid', { name: 'Runs' })).toHaveAttribute('aria-rowcount', '7')

  await page.getByRole('button', { name: 'Group by' }).click()
  await page.getByRole('dialog', { name: 'Group runs by' }).getByRole('button', { name: 'All but seed' }).click()
  await page.keyboard.press('Escape')
  const table = page.getByRole('table', { name: 'Run groups' })
  // accuracy 0.86, 0.87, 0.88: mean 0.87, s = 0.01, t(2) · 0.01 / √3 = 0.0248 → 0.870 ± 0.025
  const fast = table.getByRole('row', { name: 'lr=0.1, model=mlp' })
  const slow = table.getByRole('row', { name: 'lr=0.01, model=mlp' })
  await expect(fast.getByRole('cell').nth(1)).toHaveText('3')
  await expect(fast).toContainText('0.870 ± 0.025')
  await expect(slow).toContainText('0.820 ± 0.025')

  await page.getByRole('combobox', { name: 'Metric' }).selectOption('loss')
  const chart = page.getByRole('img', { name: 'loss mean by step per group' })
  await expect(chart).toBeVisible()
  await expect(page.getByRole('region', { name: 'Group chart' }).getByRole('status')).toHaveText(/2 groups: mean by step, band = 95 % CI/)
  await expect(chart).toHaveAccessibleDescription('lr=0.01, model=mlp: 3 runs; lr=0.1, model=mlp: 3 runs')
  // per group: band upper, band lower (filled to it), mean
  await expect(chart.locator('.scatterlayer .trace')).toHaveCount(6)
  await expect(chart.locator('.scatterlayer .js-fill')).toHaveCount(2)
  await page.screenshot({ path: 'out/screenshots/exp-groups-bands.png' })

  await page.getByRole('checkbox', { name: 'Show runs' }).check()
  await expect(chart.locator('.scatterlayer .trace')).toHaveCount(12)
  await page.screenshot({ path: 'out/screenshots/exp-groups-runs.png' })

  // one group only, then back to the runs
  await table.getByRole('checkbox', { name: 'Draw group lr=0.01, model=mlp' }).uncheck()
  await expect(chart).toHaveAccessibleDescription('lr=0.1, model=mlp: 3 runs')
  await page.getByRole('button', { name: 'Grouped by 2 params' }).click()
  await page.getByRole('dialog', { name: 'Group runs by' }).getByRole('button', { name: 'No grouping' }).click()
  await expect(page.getByRole('grid', { name: 'Runs' })).toHaveAttribute('aria-rowcount', '7')
})

/** Mean and the half-width of its 95 % interval (Student's t with n − 1 = 2 degrees of freedom), shown as the app rounds it. */
function meanCi3(xs: number[]): string {
  expect(xs.length).toBe(3)
  const mean = xs.reduce((a, b) => a + b, 0) / 3
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / 2)
  const ci = (4.30265273 * sd) / Math.sqrt(3)
  const d = 1 - Math.floor(Math.log10(ci))
  return `${mean.toFixed(d)} ± ${ci.toFixed(d)}`
}

test('groups compared like runs: n, shared params, mean ± 95 % CI per metric, bands overlaid; a single run beside them', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 })
  const { experiment_id } = await mlflow<{ experiment_id: string }>('experiments/create', { name: 'seed-compare' })
  const t0 = Date.now()
  const accuracy: Record<string, number[]> = { cnn: [0.81, 0.85, 0.86], mlp: [0.72, 0.74, 0.79] }
  const finalLoss: Record<string, number[]> = { cnn: [], mlp: [] }
  for (const [model, lr] of [['cnn', '0.1'], ['mlp', '0.01']])
    for (const seed of [1, 2, 3]) {
      const { run } = await mlflow('runs/create', { experiment_id, run_name: `${model}-seed${seed}`, start_time: t0 + seed })
      // the seeds log different steps: seed 1 every step, seed 2 every other step, seed 3 from step 10 on
      const steps = Array.from({ length: 30 }, (_, i) => i).filter((st) => (seed === 2 ? st % 2 === 0 : seed === 3 ? st >= 10 : true))
      const loss = steps.map((step) => ({ key: 'loss', value: (model === 'cnn' ? 1 : 2) * Math.exp(-step / 10) + 0.03 * seed, timestamp: t0 + step, step }))
      finalLoss[model].push(loss[loss.length - 1].value)
      await mlflow('runs/log-batch', {
        run_id: run.info.run_id,
        params: [
          { key: 'model', value: model },
          { key: 'lr', value: lr },
          { key: 'seed', value: String(seed) },
          { key: 'epochs', value: '30' }
        ],
        metrics: [...loss, { key: 'accuracy', value: accuracy[model][seed - 1], timestamp: t0, step: 29 }]
      })
    }
  await openExperiment(page, /seed-compare/)
  await expect(page.getByRole('grid', { name: 'Runs' })).toHaveAttribute('aria-rowcount', '7')
  await page.getByRole('button', { name: 'Group by' }).click()
  await page.getByRole('dialog', { name: 'Group runs by' }).getByRole('button', { name: 'All but seed' }).click()
  await page.keyboard.press('Escape')
  const groups = page.getByRole('table', { name: 'Run groups' })
  const cnn = 'epochs=30, lr=0.1, model=cnn'
  const mlp = 'epochs=30, lr=0.01, model=mlp'
  // both groups ticked (the first few are, at first), and nothing else selected
  await expect(groups.getByRole('checkbox', { name: `Draw group ${cnn}` })).toBeChecked()
  await expect(groups.getByRole('checkbox', { name: `Draw group ${mlp}` })).toBeChecked()

  await page.getByRole('button', { name: 'Compare', exact: true }).click()
  const table = page.getByRole('table', { name: 'Group comparison' })
  await expect(table.getByRole('columnheader')).toHaveText(['Group', mlp, cnn])
  await expect(table.getByRole('row', { name: 'Runs (n)' }).getByRole('cell')).toHaveText(['3', '3'])
  // params: what the groups share, what differs between them, what varies inside them
  await expect(table.getByRole('row', { name: 'model (differs)' }).getByRole('cell')).toHaveText(['mlp', 'cnn'])
  await expect(table.getByRole('row', { name: 'lr (differs)' })).toBeVisible()
  await expect(table.getByRole('row', { name: 'epochs', exact: true }).getByRole('cell')).toHaveText(['30', '30'])
  await expect(table.getByRole('row', { name: 'seed', exact: true }).getByRole('cell')).toHaveText(['varies: 1, 2, 3', 'varies: 1, 2, 3'])
  // each metric's mean ± 95 % CI over the runs' latest values, as computed here from what was logged
  const acc = table.getByRole('row', { name: 'metrics.accuracy' }).getByRole('cell')
  await expect(acc.nth(0)).toContainText(meanCi3(accuracy.mlp))
  await expect(acc.nth(1)).toContainText(meanCi3(accuracy.cnn))
  await expect(acc.nth(1)).toContainText('n=3 · min 0.81 · max 0.86')
  const loss = table.getByRole('row', { name: 'metrics.loss' }).getByRole('cell')
  await expect(loss.nth(0)).toContainText(meanCi3(finalLoss.mlp))
  await expect(loss.nth(1)).toContainText(meanCi3(finalLoss.cnn))

  // the chart overlays the two mean curves, each with its band, the legend naming the groups
  await page.getByRole('toolbar', { name: 'Group comparison chart options' }).getByRole('combobox', { name: 'Metric' }).selectOption('loss')
  const chart = page.getByRole('img', { name: 'loss mean by step per compared group' })
  await expect(chart).toHaveAccessibleDescription(`${mlp}: 3 of 3 runs; ${cnn}: 3 of 3 runs`)
  await expect(chart.locator('.scatterlayer .js-fill')).toHaveCount(2)
  await expect(chart.locator('.legend .traces')).toHaveText([`${mlp} (n = 3)`, `${cnn} (n = 3)`])
  await page.screenshot({ path: 'out/screenshots/exp-compare-groups.png' })
  await page.getByRole('region', { name: 'Compare groups' }).getByRole('checkbox', { name: 'Show runs' }).check()
  // 3 traces per group (band upper, band lower, mean) and its 3 runs behind
  await expect(chart.locator('.scatterlayer .trace')).toHaveCount(12)

  // a single run beside the groups: a group of one, without an interval
  await groups.getByRole('button', { name: `List the runs of ${cnn}` }).click()
  await groups.getByRole('checkbox', { name: 'Select run cnn-seed2' }).check()
  await expect(table.getByRole('columnheader')).toHaveText(['Group', mlp, cnn, 'cnn-seed2'])
  await expect(table.getByRole('row', { name: 'Runs (n)' }).getByRole('cell')).toHaveText(['3', '3', '1'])
  await expect(table.getByRole('row', { name: 'seed (differs)' }).getByRole('cell')).toHaveText(['varies: 1, 2, 3', 'varies: 1, 2, 3', '2'])
  await expect(acc.nth(2)).toHaveText(/^0\.85\s*n=1, no interval$/)
  await expect(chart).toHaveAccessibleDescription(`${mlp}: 3 of 3 runs; ${cnn}: 3 of 3 runs; cnn-seed2: 1 of 1 runs`)
  await page.screenshot({ path: 'out/screenshots/exp-compare-groups-mixed.png' })
  // wider than its pane: it says how many columns are out of view, and scrolls to them
  await expect(page.getByRole('status', { name: 'Compared groups' })).toHaveText(/^3 compared, mean ± 95 % CI · [1-3] out of view$/)
  for (let i = 0; i < 4 && (await page.getByRole('button', { name: 'Scroll groups right' }).isEnabled()); i++) {
    await page.getByRole('button', { name: 'Scroll groups right' }).click()
    await page.waitForTimeout(400)
  }
  const wrap = (await page.getByRole('region', { name: 'Compared groups table' }).boundingBox())!
  const last = (await table.getByRole('columnheader', { name: 'cnn-seed2' }).boundingBox())!
  expect(last.x + last.width).toBeLessThanOrEqual(wrap.x + wrap.width + 1)

  // fewer than two left: back to the group chart
  await groups.getByRole('checkbox', { name: 'Select run cnn-seed2' }).uncheck()
  await groups.getByRole('checkbox', { name: `Draw group ${mlp}` }).uncheck()
  await expect(page.getByRole('region', { name: 'Group chart' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Compare', exact: true })).toBeDisabled()
})
