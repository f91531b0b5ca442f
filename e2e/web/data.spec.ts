import { test, expect, type Page } from '@playwright/test'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FLIGHTS, startServe, type ServeHandle } from '../support'

const TOP = 'select origin, count(*) n from flights group by 1 order by n desc limit 5'

let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
})
test.afterEach(async () => {
  await s?.stop()
})

/** Replaces the editor text by typing, as a user would. */
async function typeSql(page: Page, sql: string) {
  const editor = page.getByRole('textbox', { name: 'SQL editor' })
  await editor.click()
  await page.keyboard.press('ControlOrMeta+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(sql)
}

async function runSql(page: Page, sql: string) {
  await typeSql(page, sql)
  await page.getByRole('button', { name: 'Run query' }).click()
}

async function openWorkspaceAndAddFlights(page: Page, workspace: string) {
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Open workspace' }).click()
  const ws = page.getByRole('dialog', { name: 'Open workspace' })
  await ws.getByRole('textbox', { name: 'Workspace folder' }).fill(workspace)
  await ws.getByRole('button', { name: 'Open', exact: true }).click()
  await expect(ws).toBeHidden()
  await expect(page.getByLabel('Current workspace')).toContainText(workspace)

  await page.getByRole('button', { name: 'Add source' }).click()
  const dlg = page.getByRole('dialog', { name: 'Add source' })
  await dlg.getByRole('textbox', { name: 'Location' }).fill(FLIGHTS)
  await dlg.getByRole('textbox', { name: 'Table name' }).fill('flights')
  await dlg.getByRole('button', { name: 'Add', exact: true }).click()
  await expect(dlg).toBeHidden()
  await expect(page.getByRole('tree', { name: 'Catalog' }).getByRole('treeitem', { name: /flights/ }).first()).toBeVisible()
}

test('open a workspace, add the flights file and see ORD 166341 first', async ({ page }) => {
  const workspace = join(s.workspace, '..', 'analysis')
  mkdirSync(workspace, { recursive: true })
  await openWorkspaceAndAddFlights(page, workspace)
  await runSql(page, TOP)
  const grid = page.getByRole('grid', { name: 'Results' })
  await expect(grid).toHaveAttribute('aria-rowcount', '6')
  const first = grid.getByRole('row').nth(1)
  await expect(first.getByRole('gridcell').nth(0)).toHaveText('ORD')
  await expect(first.getByRole('gridcell').nth(1)).toHaveText('166,341')
  await page.screenshot({ path: 'out/test-results/screens/data-top-origins.png' })
})

test('bad SQL shows DuckDB message, so does a query failing after its first rows, and no tab is lost across a reload', async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  await runSql(page, 'select nope from flights')
  await expect(page.getByRole('alert').filter({ hasText: 'nope' })).toBeVisible()
  // the first page arrives, then DuckDB fails while the rest streams: the error replaces the rows
  await runSql(page, `select i, case when i = 250000 then error('boom at row ' || i) else i end as v from range(300000) t(i)`)
  await expect(page.getByRole('alert').filter({ hasText: 'boom at row 250000' })).toBeVisible()
  await page.screenshot({ path: 'out/test-results/screens/data-late-error.png' })
  await page.getByRole('button', { name: 'New query tab' }).click()
  await typeSql(page, 'select 42 as answer')
  await expect(page.getByRole('tab')).toHaveCount(2 + (await page.getByRole('tablist', { name: 'Result views' }).getByRole('tab').count()))
  await page.waitForTimeout(1200) // tabs are saved debounced
  await page.reload()
  const tabs = page.getByRole('tablist', { name: 'Query tabs' }).getByRole('tab')
  await expect(tabs).toHaveCount(2)
  await tabs.nth(1).click()
  await page.getByRole('button', { name: 'Run query' }).click()
  await expect(page.getByRole('grid', { name: 'Results' }).getByRole('gridcell', { name: '42' })).toBeVisible()
})

test('cancel a long query', async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  await runSql(page, 'select sum(i * i) from range(100000000000) t(i)')
  await expect(page.getByRole('progressbar', { name: 'Query progress' })).toBeVisible()
  await page.getByRole('button', { name: 'Cancel query' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'Query cancelled' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Run query' })).toBeEnabled()
})

test('profile a column, chart a result, export to Parquet and query the export', async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  await runSql(page, 'select * from flights')
  const grid = page.getByRole('grid', { name: 'Results' })
  await expect(grid).toHaveAttribute('aria-rowcount', '3000001', { timeout: 60_000 })

  const views = page.getByRole('tablist', { name: 'Result views' })
  await views.getByRole('tab', { name: 'Profile' }).click()
  const delay = page.getByRole('region', { name: 'Profile of delay' })
  await expect(delay).toBeVisible({ timeout: 60_000 })
  await expect(delay).toContainText('BIGINT')
  await expect(page.getByRole('region', { name: 'Profile of origin' })).toContainText('ORD')
  await page.screenshot({ path: 'out/test-results/screens/data-profile.png' })

  await runSql(page, TOP)
  await expect(grid).toHaveAttribute('aria-rowcount', '6')
  await views.getByRole('tab', { name: 'Chart' }).click()
  await page.getByRole('combobox', { name: 'Chart type' }).selectOption('bar')
  await page.getByRole('combobox', { name: 'X', exact: true }).selectOption('origin')
  await page.getByRole('combobox', { name: 'Y', exact: true }).selectOption('n')
  await page.getByRole('button', { name: 'Draw chart' }).click()
  const chart = page.getByRole('img', { name: /Chart/ })
  await expect(chart).toBeVisible()
  await expect(chart).toHaveAccessibleDescription(/5/)
  await page.screenshot({ path: 'out/test-results/screens/data-chart.png' })

  const out = join(s.workspace, 'exports', 'top.parquet')
  await views.getByRole('tab', { name: 'Export' }).click()
  await page.getByRole('combobox', { name: 'Export format' }).selectOption('parquet')
  await page.getByRole('textbox', { name: 'Export path' }).fill(out)
  await page.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByRole('status').filter({ hasText: /Exported 5 rows/ })).toBeVisible()
  expect(existsSync(out)).toBe(true)

  await runSql(page, `select origin, n from '${out}' order by n desc`)
  await views.getByRole('tab', { name: 'Results' }).click()
  const row = grid.getByRole('row').nth(1)
  await expect(row.getByRole('gridcell').nth(0)).toHaveText('ORD')
  await expect(row.getByRole('gridcell').nth(1)).toHaveText('166,341')
})

test('profile: exact distinct with a unique marker, statistics to the column precision, table inside its panel; one duration', async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  const cols = Array.from({ length: 14 }, (_, i) => `i * ${i + 1}.0123456789 / 7 as wide_measure_${i}`).join(', ')
  await runSql(page, `select i as RowNumber, 15600000 + i * 7 as CustomerId, i % 10 as Tenure, i * 9.61870125::DOUBLE as Balance, ${cols} from range(10000) t(i)`)
  const grid = page.getByRole('grid', { name: 'Results' })
  await expect(grid).toHaveAttribute('aria-rowcount', '10001')

  // the run bar's duration and History's are the same number
  const status = page.locator('.runbar .status-line')
  await expect(status).toHaveText(/10,000 rows · /)
  await expect(status).toHaveAttribute('title', /every row was read and counted/)
  const runBarDuration = (await status.textContent())!.split(' · ')[1]
  const entry = page.getByRole('region', { name: 'History' }).getByRole('button', { name: /RowNumber/ }).first()
  await expect(entry).toContainText(`· ${runBarDuration}`)

  await page.getByRole('tablist', { name: 'Result views' }).getByRole('tab', { name: 'Profile' }).click()
  const table = page.getByRole('table', { name: 'Column statistics' })
  const row = (name: string) => table.getByRole('row', { name: new RegExp(`^${name} `) })
  await expect(row('RowNumber')).toBeVisible({ timeout: 30_000 })
  const distinct = async (name: string) => (await row(name).getByRole('cell').nth(2).textContent())!
  expect(await distinct('RowNumber')).toBe('10,000unique')
  expect(await distinct('CustomerId')).toBe('10,000unique')
  expect(await distinct('Tenure')).toBe('10')
  await expect(page.getByRole('region', { name: 'Profile of RowNumber' })).toContainText('unique')
  // quantiles of an integer column are integers, of a double six significant digits at most
  const balance = (await row('Balance').getByRole('cell').allTextContents()).slice(3)
  for (const v of balance) expect(v.replace(/[,.-]/g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(6)
  expect((await row('RowNumber').getByRole('cell').allTextContents()).slice(3)).toContain('9,999')

  await page.screenshot({ path: 'out/screenshots/data-profile-distinct.png' })

  // in a narrow window the statistics table scrolls sideways inside its panel instead of being cut off
  await page.setViewportSize({ width: 1000, height: 800 })
  const wrap = page.locator('.profile-panel .table-wrap')
  await expect.poll(() => wrap.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
  const box = (await wrap.boundingBox())!
  expect(box.x + box.width).toBeLessThanOrEqual(1000)
  await wrap.evaluate((el) => (el.scrollLeft = el.scrollWidth))
  await expect(table.getByRole('columnheader', { name: 'Q75' })).toBeInViewport()
  await page.screenshot({ path: 'out/screenshots/data-profile-narrow.png' })
})

/** Row indexes (0-based) of the rows wholly inside the grid's visible body. */
async function fullyVisibleRows(page: Page): Promise<number[]> {
  return page.getByRole('grid', { name: 'Results' }).evaluate((grid) => {
    const g = grid.getBoundingClientRect()
    const head = grid.querySelector('.g-head')!.getBoundingClientRect().height
    const top = g.top + head
    const bottom = g.top + grid.clientHeight
    return [...grid.querySelectorAll<HTMLElement>('.g-body [role=row]')]
      .filter((r) => {
        const b = r.getBoundingClientRect()
        return b.top >= top - 0.5 && b.bottom <= bottom + 0.5
      })
      .map((r) => Number(r.getAttribute('aria-rowindex')) - 2)
  })
}

test('wheel scrolling a 3M-row result shows every row, step by step, in pixels, lines and pages', async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  await runSql(page, 'select * from flights')
  const grid = page.getByRole('grid', { name: 'Results' })
  await expect(grid).toHaveAttribute('aria-rowcount', '3000001', { timeout: 60_000 })
  const box = (await grid.boundingBox())!
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)

  /** Scrolls `steps` times with `wheel` and checks that the rows seen form one unbroken run. */
  const sweep = async (steps: number, wheel: () => Promise<void>, down = true) => {
    const seen = new Set(await fullyVisibleRows(page))
    const visible = seen.size
    expect(visible).toBeGreaterThan(5)
    for (let i = 0; i < steps; i++) {
      const before = await fullyVisibleRows(page)
      await wheel()
      await expect.poll(async () => (await fullyVisibleRows(page))[0]).not.toBe(before[0])
      const now = await fullyVisibleRows(page)
      expect(now.length).toBeGreaterThanOrEqual(visible - 1)
      for (const r of now) seen.add(r)
    }
    const rows = [...seen].sort((a, b) => a - b)
    expect(rows.length).toBe(rows[rows.length - 1] - rows[0] + 1)
    expect(rows.length).toBeGreaterThan(steps)
    return rows
  }

  const pixels = await sweep(12, () => page.mouse.wheel(0, 100))
  expect(pixels[0]).toBe(0)
  await page.screenshot({ path: 'out/screenshots/data-grid-wheel.png' })
  // in the middle of the result, where one scrollbar pixel spans several rows
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight / 2))
  await expect.poll(async () => (await fullyVisibleRows(page))[0]).toBeGreaterThan(1_000_000)
  await sweep(12, () => page.mouse.wheel(0, 240))
  await sweep(8, () => page.mouse.wheel(0, -240))
  const synthetic = (deltaY: number, deltaMode: number) => () =>
    grid.evaluate((el, [dy, dm]) => {
      el.dispatchEvent(new WheelEvent('wheel', { deltaY: dy, deltaMode: dm, bubbles: true, cancelable: true }))
    }, [deltaY, deltaMode])
  await sweep(6, synthetic(3, 1))
  await sweep(6, synthetic(1, 2))
  await sweep(6, synthetic(-1, 2))
  // the last row is reachable by wheel
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight))
  await page.mouse.wheel(0, 100)
  await expect.poll(async () => (await fullyVisibleRows(page)).at(-1)).toBe(2_999_999)
})

test("each query tab owns its chart, and a query's error stays with its result", async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  const views = page.getByRole('tablist', { name: 'Result views' })
  const queryTabs = page.getByRole('tablist', { name: 'Query tabs' }).getByRole('tab')
  await runSql(page, TOP)
  await expect(page.getByRole('grid', { name: 'Results' })).toHaveAttribute('aria-rowcount', '6')
  await views.getByRole('tab', { name: 'Chart' }).click()
  await page.getByRole('button', { name: 'Draw chart' }).click()
  await expect(page.getByRole('img', { name: /Chart/ })).toBeVisible()

  // a second tab starts without a chart, even after running its own query
  await page.getByRole('button', { name: 'New query tab' }).click()
  await expect(page.getByRole('img', { name: /Chart/ })).toHaveCount(0)
  await runSql(page, 'select distance, delay from flights limit 50')
  await views.getByRole('tab', { name: 'Chart' }).click()
  await expect(page.getByRole('img', { name: /Chart/ })).toHaveCount(0)
  await expect(page.getByText(/earlier result/)).toHaveCount(0)
  // the first tab still has its own
  await queryTabs.nth(0).click()
  await expect(page.getByRole('img', { name: /Chart/ })).toBeVisible()
  await expect(page.getByText(/earlier result/)).toHaveCount(0)

  // a failed query: its error shows with its result, not above a table profile, and no earlier profile is passed off as its own
  await views.getByRole('tab', { name: 'Profile' }).click()
  await expect(page.getByRole('region', { name: 'Profile of origin' })).toBeVisible()
  await runSql(page, 'select nope from flights')
  const err = page.getByRole('alert').filter({ hasText: 'nope' })
  await expect(err).toBeVisible()
  await views.getByRole('tab', { name: 'Profile' }).click()
  await expect(page.getByRole('region', { name: 'Profile of origin' })).toHaveCount(0)
  await expect(err).toBeVisible()
  await page.getByRole('tree', { name: 'Catalog' }).getByRole('treeitem', { name: /^flights, / }).hover()
  await page.getByRole('button', { name: 'Profile table flights' }).click()
  await expect(page.getByRole('region', { name: 'Profile of delay' })).toBeVisible({ timeout: 60_000 })
  await expect(err).toHaveCount(0)
  await page.screenshot({ path: 'out/screenshots/data-error-vs-table-profile.png' })
  await views.getByRole('tab', { name: 'Results' }).click()
  await expect(err).toBeVisible()
})

test('serve: an export inside the workspace can also be downloaded through the browser, with the token', async ({ page }) => {
  await openWorkspaceAndAddFlights(page, s.workspace)
  await runSql(page, TOP)
  await expect(page.getByRole('grid', { name: 'Results' })).toHaveAttribute('aria-rowcount', '6')
  await page.getByRole('tablist', { name: 'Result views' }).getByRole('tab', { name: 'Export' }).click()
  await page.getByRole('combobox', { name: 'Export format' }).selectOption('csv')
  const out = join(s.workspace, 'exports', 'top.csv')
  await page.getByRole('textbox', { name: 'Export path' }).fill(out)
  await page.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByRole('status').filter({ hasText: /Exported 5 rows/ })).toBeVisible()
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download top.csv' }).click()])
  expect(download.suggestedFilename()).toBe('top.csv')
  const got = readFileSync((await download.path())!, 'utf8')
  expect(got).toBe(readFileSync(out, 'utf8'))
  expect(got.split('\n')[1]).toBe('ORD,166341')
  await page.screenshot({ path: 'out/screenshots/data-export-download.png' })

  // the route needs the token, serves only finished exports by id, and never a path
  expect((await fetch(`${s.origin}/api/lake/exports/x`)).status).toBe(401)
  const auth = { headers: { Authorization: `Bearer ${s.token}` } }
  expect((await fetch(`${s.origin}/api/lake/exports/not-an-export`, auth)).status).toBe(404)
  expect((await fetch(`${s.origin}/api/lake/exports/..%2F..%2Fetc%2Fpasswd`, auth)).status).toBe(404)

  // an export outside the workspace and data folder is written on the server only
  const outside = join(s.workspace, '..', 'elsewhere', 'top.csv')
  await page.getByRole('textbox', { name: 'Export path' }).fill(outside)
  await page.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByRole('status').filter({ hasText: /elsewhere/ })).toContainText('not offered for download')
  await expect(page.getByRole('button', { name: /^Download/ })).toHaveCount(0)
})
