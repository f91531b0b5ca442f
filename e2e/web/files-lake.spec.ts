import { test, expect, type Page } from '@playwright/test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startServe, type ServeHandle } from '../support'

let s: ServeHandle
test.beforeEach(async () => {
  s = await startServe()
})
test.afterEach(async () => {
  await s?.stop()
})

async function openWorkspace(page: Page, workspace: string) {
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Open workspace' }).click()
  const ws = page.getByRole('dialog', { name: 'Open workspace' })
  await ws.getByRole('textbox', { name: 'Workspace folder' }).fill(workspace)
  await ws.getByRole('button', { name: 'Open', exact: true }).click()
  await expect(ws).toBeHidden()
}

test('a large SQLite source shows "loading" with progress while it is copied, then its tables', async ({ page }) => {
  mkdirSync(s.workspace, { recursive: true })
  const file = join(s.workspace, 'events.sqlite')
  const db = new Database(file)
  db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT, value REAL);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000)
    INSERT INTO events SELECT x, 'event ' || x, x * 0.5 FROM c;`)
  db.close()
  await openWorkspace(page, s.workspace)
  await page.getByRole('button', { name: 'Add source' }).click()
  const dlg = page.getByRole('dialog', { name: 'Add source' })
  await dlg.getByRole('combobox', { name: 'Kind' }).selectOption('sqlite')
  await dlg.getByRole('textbox', { name: 'Location' }).fill(file)
  await dlg.getByRole('textbox', { name: 'Table name' }).fill('events')
  await dlg.getByRole('button', { name: 'Add', exact: true }).click()
  const tree = page.getByRole('tree', { name: 'Catalog' })
  const loading = tree.getByRole('status').filter({ hasText: /loading/ })
  await expect(loading).toBeVisible({ timeout: 20_000 })
  await expect(loading).toHaveText(/loading \d+%/)
  await page.screenshot({ path: 'out/screenshots/sqlite-loading.png' })
  await expect(loading).toBeHidden({ timeout: 60_000 })
  await expect(tree.getByRole('treeitem', { name: /events\.main\.events.*1,500,000 rows|events.*1\.5M rows|"events"."main"."events"/ }).first()).toBeVisible()
  await page.screenshot({ path: 'out/screenshots/sqlite-ready.png' })
})

test('export refuses to replace a file until the user chooses to', async ({ page }) => {
  mkdirSync(s.workspace, { recursive: true })
  await openWorkspace(page, s.workspace)
  const editor = page.getByRole('textbox', { name: 'SQL editor' })
  await editor.click()
  await page.keyboard.insertText('select range as i from range(10)')
  await page.getByRole('button', { name: 'Run query' }).click()
  await expect(page.getByRole('grid', { name: 'Results' })).toHaveAttribute('aria-rowcount', '11')
  const out = join(s.workspace, 'ten.csv')
  await page.getByRole('tab', { name: 'Export' }).click()
  await page.getByRole('combobox', { name: 'Export format' }).selectOption('csv')
  await page.getByRole('textbox', { name: 'Export path' }).fill(out)
  await page.getByRole('button', { name: 'Export', exact: true }).click()
  await expect(page.getByRole('status').filter({ hasText: /Exported 10 rows/ })).toBeVisible()
  expect(existsSync(out)).toBe(true)
  await page.getByRole('button', { name: 'Export', exact: true }).click()
  const alert = page.getByRole('alert').filter({ hasText: /already exists/ })
  await expect(alert).toBeVisible()
  await page.screenshot({ path: 'out/screenshots/export-exists.png' })
  await alert.getByRole('button', { name: 'Replace file' }).click()
  await expect(page.getByRole('status').filter({ hasText: /Exported 10 rows/ })).toBeVisible()
})
