import { test, expect, type Page } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServe, type ServeHandle } from '../support'

const PYTHON = '/usr/bin/python3'

let s: ServeHandle
test.beforeEach(async () => {
  const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-nbf-')), 'ws')
  mkdirSync(workspace, { recursive: true })
  s = await startServe({ workspace })
})
test.afterEach(async () => {
  await s?.stop()
})

type SrcCell = { type?: 'code' | 'markdown'; source: string }
function writeNotebook(name: string, cells: SrcCell[]) {
  const nb = {
    cells: cells.map((c, i) => ({
      cell_type: c.type ?? 'code',
      id: `cell${i}`,
      metadata: {},
      source: c.source,
      ...((c.type ?? 'code') === 'code' ? { execution_count: null, outputs: [] } : {})
    })),
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5
  }
  writeFileSync(join(s.workspace, name), JSON.stringify(nb, null, 1) + '\n')
}

const DOT_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
const cell = (page: Page, n: number) => page.getByRole('article', { name: `Cell ${n}`, exact: true })
const kernelStatus = (page: Page) => page.getByRole('status', { name: 'Kernel status' })

async function open(page: Page, name: string) {
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name }).click()
  await expect(page.getByRole('tab', { name, exact: true })).toBeVisible()
}

async function startKernel(page: Page) {
  await page.getByRole('combobox', { name: 'Interpreter' }).selectOption(PYTHON)
  await page.getByRole('button', { name: 'Start kernel' }).click()
  await expect(kernelStatus(page)).toHaveText('Kernel idle', { timeout: 90_000 })
}

async function runCell(page: Page, n: number) {
  await cell(page, n).click({ position: { x: 30, y: 10 } })
  await page.getByRole('button', { name: `Run Cell ${n}`, exact: true }).click()
}

test('markdown with KaTeX math, rendered and sanitized', async ({ page }) => {
  writeNotebook('math.ipynb', [
    { type: 'markdown', source: '# Euler\n\nInline $e^{i\\pi}+1=0$ and display:\n\n$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$\n\n<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>' },
    { source: 'x = 1' },
    { type: 'markdown', source: 'An attached image: ![dot](attachment:dot.png)' }
  ])
  const nb = JSON.parse(readFileSync(join(s.workspace, 'math.ipynb'), 'utf8'))
  nb.cells[2].attachments = { 'dot.png': { 'image/png': DOT_PNG } }
  nb.cells[2].custom_key = 'kept'
  writeFileSync(join(s.workspace, 'math.ipynb'), JSON.stringify(nb, null, 1) + '\n')
  await open(page, 'math.ipynb')
  const md = cell(page, 1)
  await expect(md.getByRole('heading', { name: 'Euler' })).toBeVisible()
  await expect(md.locator('.katex')).toHaveCount(2)
  await expect(md.locator('.katex-display')).toHaveCount(1)
  await expect(md.locator('math annotation').first()).toHaveText('e^{i\\pi}+1=0')
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
  await expect(md.locator('script')).toHaveCount(0)
  await page.screenshot({ path: '/tmp/nb-katex.png' })

  // double-click edits the source; Shift+Enter renders it again
  await md.locator('.nb-md').dblclick()
  await expect(page.getByRole('textbox', { name: 'Cell 1 source' })).toBeFocused()
  await page.keyboard.press('Shift+Enter')
  await expect(md.locator('.katex-display')).toHaveCount(1)

  // cell attachments are shown, and kept through an edit and save
  await expect(cell(page, 3).getByRole('img', { name: 'dot' })).toHaveAttribute('src', /^data:image\/png;base64,/)
  await page.getByRole('textbox', { name: 'Cell 2 source' }).focus()
  await page.keyboard.insertText('y = 2\n')
  await page.keyboard.press('ControlOrMeta+S')
  await expect(page.getByRole('tab', { name: 'math.ipynb', exact: true })).toBeVisible()
  const saved = JSON.parse(readFileSync(join(s.workspace, 'math.ipynb'), 'utf8'))
  expect(saved.cells[2].attachments).toEqual({ 'dot.png': { 'image/png': DOT_PNG } })
  expect(saved.cells[2].custom_key).toBe('kept')
})

test('command-mode keys: A, B, M, Y, D D, Z, J/K, Enter, move, collapse, find', async ({ page }) => {
  writeNotebook('keys.ipynb', [{ source: 'first = 1' }, { source: 'second = 2' }, { source: 'third = 3' }])
  await open(page, 'keys.ipynb')
  await cell(page, 1).click({ position: { x: 30, y: 10 } })
  await expect(cell(page, 1)).toBeFocused()

  await page.keyboard.press('b') // below
  await expect(page.getByRole('article')).toHaveCount(4)
  await expect(cell(page, 2)).toHaveAttribute('aria-current', 'true')
  await page.keyboard.press('a') // above
  await expect(page.getByRole('article')).toHaveCount(5)
  await expect(cell(page, 2)).toHaveAttribute('aria-current', 'true')
  await page.keyboard.press('m')
  await expect(cell(page, 2)).toHaveClass(/markdown/)
  await page.keyboard.press('y')
  await expect(cell(page, 2)).toHaveClass(/\bcode\b/)
  await page.keyboard.press('d')
  await page.keyboard.press('d')
  await expect(page.getByRole('article')).toHaveCount(4)
  await page.keyboard.press('d')
  await page.keyboard.press('d')
  await expect(page.getByRole('article')).toHaveCount(3)
  await page.keyboard.press('z')
  await expect(page.getByRole('article')).toHaveCount(4)
  await page.keyboard.press('z')
  await expect(page.getByRole('article')).toHaveCount(5)
  await page.keyboard.press('d')
  await page.keyboard.press('d')
  await page.keyboard.press('d')
  await page.keyboard.press('d')
  await expect(page.getByRole('article')).toHaveCount(3)
  await expect(cell(page, 2)).toContainText('second = 2')

  // J/K and arrows move the selection; Enter edits
  await page.keyboard.press('k')
  await expect(cell(page, 1)).toHaveAttribute('aria-current', 'true')
  await page.keyboard.press('j')
  await page.keyboard.press('ArrowDown')
  await expect(cell(page, 3)).toHaveAttribute('aria-current', 'true')
  await page.keyboard.press('Enter')
  await expect(page.getByRole('textbox', { name: 'Cell 3 source' })).toBeFocused()
  await page.keyboard.press('Escape')
  await expect(cell(page, 3)).toBeFocused()

  // keyboard reorder (Alt+Up) and the buttons
  await page.keyboard.press('Alt+ArrowUp')
  await expect(cell(page, 2)).toContainText('third = 3')
  await expect(cell(page, 3)).toContainText('second = 2')
  await cell(page, 2).hover()
  await page.getByRole('button', { name: 'Move Cell 2 down' }).click()
  await expect(cell(page, 3)).toContainText('third = 3')

  // drag and drop: cell 3 onto cell 1
  await cell(page, 3).locator('.nb-gutter').dragTo(cell(page, 1))
  await expect(cell(page, 1)).toContainText('third = 3')
  await expect(cell(page, 2)).toContainText('first = 1')

  // collapse input
  await cell(page, 1).hover()
  await page.getByRole('button', { name: 'Collapse input of Cell 1' }).click()
  await expect(cell(page, 1).getByRole('button', { name: /input hidden/ })).toBeVisible()
  await page.getByRole('button', { name: 'Expand input of Cell 1' }).click()
  await expect(cell(page, 1)).toContainText('third = 3')

  // find in notebook
  await page.keyboard.press('Control+f')
  const find = page.getByRole('search', { name: 'Find in notebook' }).getByRole('searchbox', { name: 'Find in notebook' })
  await expect(find).toBeFocused()
  await find.fill('second')
  await expect(page.getByRole('search', { name: 'Find in notebook' }).getByRole('status')).toHaveText('1 of 1')
  await expect(cell(page, 3)).toHaveAttribute('aria-current', 'true')
  await find.fill('= ')
  await expect(page.getByRole('search', { name: 'Find in notebook' }).getByRole('status')).toHaveText('1 of 3')
  await page.getByRole('button', { name: 'Next match' }).click()
  await expect(page.getByRole('search', { name: 'Find in notebook' }).getByRole('status')).toHaveText('2 of 3')
  await page.screenshot({ path: '/tmp/nb-find.png' })
  await find.press('Escape')
  await expect(page.getByRole('search', { name: 'Find in notebook' })).toHaveCount(0)
})

test('rich outputs: plotly, ANSI, \\r progress, update_display, clear_output(wait), sanitized HTML, LaTeX, SVG; interrupt and restart', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server and ipykernel')
  test.setTimeout(180_000)
  writeNotebook('rich.ipynb', [
    {
      source:
        'from IPython.display import display\n' +
        'display({"application/vnd.plotly.v1+json": {"data": [{"type": "bar", "x": ["a", "b", "c"], "y": [3, 1, 2]}], "layout": {"title": {"text": "Bars"}}}, "text/plain": ["<Figure>"]}, raw=True)'
    },
    { source: 'print("\\x1b[31mred\\x1b[0m plain")\nimport sys\nfor i in range(5):\n    sys.stdout.write(f"\\rprogress {i*25}%")\nprint()\n1/0' },
    { source: 'from IPython.display import display, clear_output, HTML, Latex, SVG\nfor i in range(3):\n    clear_output(wait=True)\n    print("tick", i)\nh = display("first", display_id=True)\nh.update("updated")' },
    {
      source:
        'display(HTML("<b>bold</b><img src=x onerror=\\"window.__pwned=1\\"><script>window.__pwned=2</script>"))\n' +
        'display(Latex(r"$$\\alpha^2+\\beta^2$$"))\n' +
        'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="teal"/><script>alert(1)</script></svg>\'))'
    },
    { source: 'import time\ntime.sleep(100)' },
    { source: 'x = 41' },
    { source: 'import os\n' }
  ])
  await open(page, 'rich.ipynb')
  await startKernel(page)

  await runCell(page, 1)
  await expect(cell(page, 1).getByRole('img', { name: 'Cell 1 plotly figure' })).toBeVisible({ timeout: 30_000 })
  await expect(cell(page, 1).locator('.plot-canvas svg.main-svg').first()).toBeVisible({ timeout: 30_000 })
  await expect(cell(page, 1).locator('g.trace.bars path')).toHaveCount(3)

  await runCell(page, 2)
  const red = cell(page, 2).getByText('red', { exact: true })
  await expect(red).toBeVisible()
  expect(await red.evaluate((el) => getComputedStyle(el).color)).not.toBe(await cell(page, 2).locator('.nb-outputs pre').first().evaluate((el) => getComputedStyle(el).color))
  const stdout = cell(page, 2).locator('.nb-stream pre').first()
  await expect(stdout).toContainText('red plain\nprogress 100%')
  await expect(stdout).not.toContainText('progress 0%')
  await expect(cell(page, 2).getByRole('alert')).toContainText('ZeroDivisionError')
  expect(await cell(page, 2).getByRole('alert').locator('span[style*="color"]').count()).toBeGreaterThan(0)

  await runCell(page, 3)
  await expect(cell(page, 3).getByText("'updated'")).toBeVisible()
  await expect(cell(page, 3).getByText('tick 2')).toBeVisible()
  await expect(cell(page, 3).getByText(/tick [01]/)).toHaveCount(0)

  await runCell(page, 4)
  await expect(cell(page, 4).getByRole('document', { name: 'Cell 4 HTML' })).toBeVisible()
  expect(await cell(page, 4).getByRole('document', { name: 'Cell 4 HTML' }).evaluate((el) => el.shadowRoot?.querySelector('b')?.textContent)).toBe('bold')
  expect(await cell(page, 4).getByRole('document', { name: 'Cell 4 HTML' }).evaluate((el) => el.shadowRoot?.querySelectorAll('script, [onerror]').length)).toBe(0)
  await expect(cell(page, 4).locator('.nb-latex .katex-display')).toBeVisible()
  await expect(cell(page, 4).getByRole('img', { name: 'Cell 4 image' })).toBeVisible()
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
  await page.screenshot({ path: '/tmp/nb-rich.png', fullPage: true })

  await cell(page, 1).screenshot({ path: '/tmp/nb-plotly.png' })

  // completion and hover come from the kernel
  // cells far down are not in the DOM until scrolled to (the list is windowed)
  await page.getByRole('region', { name: 'Notebook rich.ipynb' }).evaluate((el) => (el.scrollTop = el.scrollHeight))
  await runCell(page, 7) // hover inspects live objects: import os first
  await expect(cell(page, 7).getByText(/^\[\d+\]$/)).toBeVisible()
  const src7 = page.getByRole('textbox', { name: 'Cell 7 source' })
  await src7.focus()
  await page.keyboard.press('Control+End')
  await page.keyboard.type('os.pathse')
  await page.keyboard.press('Control+Space')
  await expect(page.getByRole('option', { name: /pathsep/ }).first()).toBeVisible({ timeout: 15_000 })
  await page.keyboard.press('Escape')
  await cell(page, 7).locator('.view-line').filter({ hasText: 'os.pathse' }).hover({ position: { x: 6, y: 8 } })
  await expect(page.locator('.monaco-hover').getByText(/Type: *module/).first()).toBeVisible({ timeout: 15_000 })
  await page.screenshot({ path: '/tmp/nb-hover.png' })
  await page.keyboard.press('Escape')
  await page.keyboard.press('Escape')

  // interrupt a long sleep
  await runCell(page, 5)
  await expect(kernelStatus(page)).toHaveText('Kernel busy')
  await page.waitForTimeout(500)
  await page.getByRole('button', { name: 'Interrupt' }).click()
  await expect(cell(page, 5).getByRole('alert')).toContainText('KeyboardInterrupt', { timeout: 15_000 })
  await expect(kernelStatus(page)).toHaveText('Kernel idle')

  // restart: variables are gone
  await runCell(page, 6)
  await expect(page.getByRole('complementary', { name: 'Variables' }).getByRole('cell', { name: 'x', exact: true })).toBeVisible()
  await page.getByRole('button', { name: 'Restart', exact: true }).click()
  await expect(kernelStatus(page)).toHaveText('Kernel idle', { timeout: 60_000 })
  await expect(page.getByRole('complementary', { name: 'Variables' }).getByText('No variables.')).toBeVisible()
})

test('a dead kernel is shown, restart is offered and edits are kept; a DataFrame opens in Data', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server and ipykernel')
  test.setTimeout(180_000)
  writeNotebook('faults.ipynb', [{ source: 'import pandas as pd\ndf = pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.5, 19.25]})' }, { source: 'import os\nos._exit(1)' }, { source: 'y = 2' }])
  await open(page, 'faults.ipynb')
  await startKernel(page)
  await runCell(page, 1)
  const vars = page.getByRole('complementary', { name: 'Variables' })
  await expect(vars.getByRole('cell', { name: 'df', exact: true })).toBeVisible({ timeout: 30_000 })

  // an edit, not saved, then the kernel dies
  await page.getByRole('textbox', { name: 'Cell 3 source' }).focus()
  await page.keyboard.press('End')
  await page.keyboard.insertText('  # kept')
  await runCell(page, 2)
  await expect(kernelStatus(page)).toHaveText('Kernel dead', { timeout: 30_000 })
  const died = page.getByRole('alert').filter({ hasText: 'The kernel died' })
  await expect(died).toBeVisible()
  await page.screenshot({ path: '/tmp/nb-dead.png' })
  await died.getByRole('button', { name: 'Restart kernel' }).click()
  await expect(kernelStatus(page)).toHaveText('Kernel idle', { timeout: 60_000 })
  await expect(died).toHaveCount(0)
  await expect(cell(page, 3)).toContainText('y = 2  # kept')
  await expect(page.getByRole('tab', { name: 'faults.ipynb ●' })).toBeVisible()

  // Open in Data: the frame shows in the Data room's grid
  await runCell(page, 1)
  await vars.getByRole('button', { name: 'Open df in Data' }).click()
  await expect(page.getByRole('main', { name: 'Data' })).toBeVisible({ timeout: 15_000 })
  await expect(page.getByRole('grid').getByText('Lima')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByRole('grid').getByText('19.25')).toBeVisible()
  await page.screenshot({ path: '/tmp/nb-open-in-data.png' })
})

test('file changed on disk is flagged; remote server errors come fast; interpreter details', async ({ page }) => {
  writeNotebook('disk.ipynb', [{ source: 'a = 1' }])
  await open(page, 'disk.ipynb')
  const details = page.getByRole('note', { name: 'Interpreter details' })
  if (existsSync(PYTHON)) await page.getByRole('combobox', { name: 'Interpreter' }).selectOption(PYTHON)
  await expect(details).toContainText(/Python 3\.\d+/)
  await expect(details).toContainText(/jupyter [✓✗]/)

  const before = readFileSync(join(s.workspace, 'disk.ipynb'), 'utf8')
  writeFileSync(join(s.workspace, 'disk.ipynb'), before.replace('a = 1', 'a = 2'))
  await expect(page.getByRole('alert').filter({ hasText: 'changed on disk' })).toBeVisible({ timeout: 15_000 })
  await page.getByRole('button', { name: 'Reload from disk' }).click()
  await expect(cell(page, 1)).toContainText('a = 2')

  // a malformed notebook: a clear error, the file untouched
  const broken = '{"cells": [ {"cell_type": "code", '
  writeFileSync(join(s.workspace, 'broken.ipynb'), broken)
  await page.getByRole('button', { name: 'Refresh notebooks' }).click()
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: 'broken.ipynb' }).click()
  await expect(page.getByRole('alert').filter({ hasText: /broken\.ipynb|JSON|notebook/i })).toBeVisible()
  expect(readFileSync(join(s.workspace, 'broken.ipynb'), 'utf8')).toBe(broken)
  await expect(page.getByRole('tab', { name: 'disk.ipynb', exact: true })).toBeVisible()

  await page.getByRole('button', { name: 'Connect to server…' }).click()
  const dlg = page.getByRole('dialog', { name: 'Connect to a Jupyter server' })
  await dlg.getByRole('textbox', { name: 'Server URL' }).fill('http://127.0.0.1:59999/')
  await dlg.getByRole('textbox', { name: 'Token' }).fill('nope')
  const t0 = Date.now()
  await dlg.getByRole('button', { name: 'Connect' }).click()
  await expect(dlg.getByRole('alert')).toBeVisible({ timeout: 15_000 })
  expect(Date.now() - t0).toBeLessThan(15_000)
  await dlg.getByRole('checkbox', { name: /SSH tunnel/ }).check()
  await expect(dlg.getByRole('textbox', { name: 'SSH host' })).toBeVisible()
  await expect(dlg.getByRole('textbox', { name: 'SSH user' })).toBeVisible()
  await expect(dlg.getByRole('textbox', { name: 'Private key path' })).toBeVisible()
  await expect(dlg.getByRole('textbox', { name: 'Key passphrase' })).toBeVisible()
  await page.screenshot({ path: '/tmp/nb-connect.png' })
  await dlg.getByRole('button', { name: 'Cancel' }).click()
  await expect(dlg).toHaveCount(0)
})

test('a 3,000-cell notebook is windowed: few cells in the DOM, find and keys reach the last one', async ({ page }) => {
  writeNotebook('big.ipynb', Array.from({ length: 3000 }, (_, i) => ({ source: `print(${i})` })))
  await open(page, 'big.ipynb')
  await expect(cell(page, 1)).toBeVisible()
  expect(await page.getByRole('article').count()).toBeLessThan(200)

  await page.keyboard.press('Control+f')
  const find = page.getByRole('searchbox', { name: 'Find in notebook' })
  await find.fill('print(2999)')
  await expect(page.getByRole('search', { name: 'Find in notebook' }).getByRole('status')).toHaveText('1 of 1')
  await expect(cell(page, 3000)).toBeVisible()
  await expect(cell(page, 3000)).toHaveAttribute('aria-current', 'true')
  await find.press('Escape')

  // click into it and type: the editor mounts on demand
  await cell(page, 3000).locator('.nb-plain, .nb-editor').first().click()
  await expect(page.getByRole('textbox', { name: 'Cell 3000 source' })).toBeFocused()
  await page.keyboard.press('End')
  await page.keyboard.type('  # last')
  await expect(cell(page, 3000)).toContainText('print(2999)  # last')
  await page.keyboard.press('Escape')
  await page.keyboard.press('k')
  await expect(cell(page, 2999)).toHaveAttribute('aria-current', 'true')
  await page.screenshot({ path: '/tmp/nb-big.png' })
  expect(await page.getByRole('article').count()).toBeLessThan(200)
})
