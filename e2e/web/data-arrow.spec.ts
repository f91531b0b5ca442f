import { test, expect, type Page } from '@playwright/test'
import { startServe, type ServeHandle } from '../support'

/**
 * Result pages reach the grid as Arrow IPC in binary WebSocket frames: every type the grid shows reads
 * as on the JSON path, and pages fetched while scrolling decode as well as the first one.
 */
let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
})
test.afterEach(async () => {
  await s?.stop()
})

async function runSql(page: Page, sql: string) {
  const editor = page.getByRole('textbox', { name: 'SQL editor' })
  await editor.click()
  await page.keyboard.press('ControlOrMeta+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(sql)
  await page.getByRole('button', { name: 'Run query' }).click()
}

test('every type the grid shows arrives as Arrow and reads as before', async ({ page }) => {
  const frames: { binary: boolean }[] = []
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push({ binary: typeof f.payload !== 'string' })))
  await page.goto(s.url)
  await runSql(
    page,
    `select 9007199254740993::bigint as big, 170141183460469231731687303715884105727::hugeint as huge, 12345.67::decimal(10,2) as dec,
       2.5::double as dbl, true as flag, 'héllo' as txt, date '2020-02-29' as day, timestamp '2020-01-02 03:04:05.123' as ts,
       [1, 2, null] as list, {'a': 1} as rec, null::int as nothing`
  )
  const grid = page.getByRole('grid', { name: 'Results' })
  await expect(grid).toHaveAttribute('aria-rowcount', '2')
  const cells = grid.getByRole('row').nth(1).getByRole('gridcell')
  const expected = [
    '9,007,199,254,740,993',
    '170,141,183,460,469,231,731,687,303,715,884,105,727',
    '12,345.67',
    '2.5',
    'true',
    'héllo',
    '2020-02-29',
    '2020-01-02 03:04:05.123',
    '[1,2,null]',
    '{"a":1}',
    'NULL'
  ]
  for (let i = 0; i < expected.length; i++) await expect(cells.nth(i)).toHaveText(expected[i])
  expect(frames.some((f) => f.binary)).toBe(true)
  await page.screenshot({ path: 'out/screenshots/data-arrow-types.png' })
})

test('pages fetched while scrolling decode from Arrow too', async ({ page }) => {
  await page.goto(s.url)
  await runSql(page, `select i, 'row ' || i as label, i * 0.5 as half from range(5000) t(i) order by i`)
  const grid = page.getByRole('grid', { name: 'Results' })
  await expect(grid).toHaveAttribute('aria-rowcount', '5001')
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight))
  const last = grid.getByRole('row', { name: /.*/ }).filter({ hasText: 'row 4999' })
  await expect(last.getByRole('gridcell').nth(0)).toHaveText('4,999')
  await expect(last.getByRole('gridcell').nth(2)).toHaveText('2,499.5')
  await page.screenshot({ path: 'out/screenshots/data-arrow-scrolled.png' })
})
