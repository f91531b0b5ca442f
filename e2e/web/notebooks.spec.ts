import { test, expect, type Page } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServe, type ServeHandle } from '../support'

const PYTHON = '/usr/bin/python3'

let s: ServeHandle
test.beforeEach(async () => {
  const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-nb-')), 'ws')
  mkdirSync(workspace, { recursive: true })
  s = await startServe({ workspace })
})
test.afterEach(async () => {
  await s?.stop()
})

const cell = (page: Page, n: number) => page.getByRole('article', { name: `Cell ${n}`, exact: true })

/** Types into a cell's editor, as a user would (the Monaco textarea is focused, then typed into). */
async function typeInCell(page: Page, n: number, code: string) {
  const source = page.getByRole('textbox', { name: `Cell ${n} source`, exact: true })
  await source.focus()
  await page.keyboard.insertText(code)
}

test('create a notebook, run cells, plot, input(), save and reopen', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server and ipykernel')
  test.setTimeout(180_000)
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()

  await page.getByRole('combobox', { name: 'Interpreter' }).selectOption(PYTHON)
  await page.getByRole('button', { name: 'New notebook' }).click()
  await page.getByRole('textbox', { name: 'Notebook name' }).fill('analysis')
  await page.getByRole('button', { name: 'Create' }).click()
  await expect(page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: 'analysis.ipynb' })).toBeVisible()

  await page.getByRole('button', { name: 'Start kernel' }).click()
  await expect(page.getByRole('status').filter({ hasText: /^Kernel idle$/ })).toBeVisible({ timeout: 90_000 })

  // Shift+Enter runs and moves on (a new cell below the last)
  await typeInCell(page, 1, '1+1')
  await page.keyboard.press('Shift+Enter')
  await expect(cell(page, 1).getByText('2', { exact: true })).toBeVisible()
  await expect(cell(page, 1).getByText('[1]')).toBeVisible()

  await typeInCell(page, 2, '%matplotlib inline\nimport pandas as pd\nimport matplotlib.pyplot as plt\ndf = pd.DataFrame({"x": range(5), "y": [1, 4, 2, 5, 3]})\ndf.plot(x="x", y="y")\nplt.show()\nprint(df.shape)')
  await page.keyboard.press('Shift+Enter')
  await expect(cell(page, 2).getByRole('img')).toBeVisible({ timeout: 60_000 })
  await expect(cell(page, 2).getByText('(5, 2)')).toBeVisible()
  await expect(page.getByRole('complementary', { name: 'Variables' }).getByRole('cell', { name: 'df', exact: true })).toBeVisible()

  // input() round trip; Ctrl+Enter runs in place
  await typeInCell(page, 3, 'name = input("Your name? ")\nprint("hello", name)')
  await page.keyboard.press('Control+Enter')
  const reply = page.getByRole('textbox', { name: 'Input for Cell 3' })
  await expect(reply).toBeVisible()
  await reply.fill('Ada')
  await reply.press('Enter')
  await expect(cell(page, 3).getByText('hello Ada')).toBeVisible()

  // save: the dirty marker goes away
  await expect(page.getByRole('tab', { name: 'analysis.ipynb ●' })).toBeVisible()
  await page.keyboard.press('ControlOrMeta+S')
  await expect(page.getByRole('tab', { name: 'analysis.ipynb', exact: true })).toBeVisible()

  // reopen from a fresh page: sources and outputs are back
  await page.reload()
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: 'analysis.ipynb' }).click()
  await expect(page.getByRole('tab', { name: 'analysis.ipynb', exact: true })).toBeVisible()
  await expect(cell(page, 2).getByRole('img')).toBeVisible()
  await expect(cell(page, 3).getByText('hello Ada')).toBeVisible()
  await expect(cell(page, 1).getByText('[1]')).toBeVisible()
})
