import { test, expect, type Page } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { descendantsOf, startServe, type ServeHandle } from '../support'

/**
 * Kernels outlive the page and the app: a running cell keeps running across a page reload and a
 * `serve` restart (kill -9), its later prints reach the reopened notebook, the variables come
 * back; with the "stop with the app" lifetime nothing Jupyter is left after a kill -9.
 */

const PYTHON = '/usr/bin/python3'
const LOOP = "import time\nx = 41\nfor i in range(8):\n    print(i, flush=True)\n    time.sleep(1)\n'finished'"

const notebookJson = JSON.stringify({
  cells: [{ cell_type: 'code', id: 'loop-cell', metadata: {}, source: LOOP, outputs: [], execution_count: null }],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5
})

const serves: ServeHandle[] = []
test.afterEach(async () => {
  for (const s of serves.splice(0)) await s.stop()
})

const cell = (page: Page, n: number) => page.getByRole('article', { name: `Cell ${n}`, exact: true })
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function kill9(s: ServeHandle) {
  const gone = new Promise((r) => s.proc.once('exit', r))
  s.proc.kill('SIGKILL')
  await gone
}

async function openNotebook(page: Page, url: string) {
  await page.goto(url)
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: 'survive.ipynb' }).click()
  await expect(page.getByRole('tab', { name: /survive\.ipynb/ })).toBeVisible()
}

function workspace(): { dir: string; dataDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'atelier-survive-'))
  const dir = join(root, 'ws')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'survive.ipynb'), notebookJson)
  return { dir, dataDir: join(root, 'data') }
}

test('a running cell survives a page reload and a serve kill -9: later prints, the result and the variables come back', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server and ipykernel')
  test.setTimeout(180_000)
  const ws = workspace()
  const token = 'survive-' + Math.random().toString(36).slice(2)
  const first = await startServe({ workspace: ws.dir, dataDir: ws.dataDir, token })
  serves.push(first)
  await openNotebook(page, first.url)
  await page.getByRole('combobox', { name: 'Interpreter' }).selectOption(PYTHON)
  await page.getByRole('button', { name: 'Start kernel' }).click()
  await expect(page.getByRole('status').filter({ hasText: /^Kernel idle$/ })).toBeVisible({ timeout: 90_000 })
  // serve keeps the server running by default; a change applies from the server's next start
  const lifetime = page.getByRole('combobox', { name: 'Jupyter server lifetime' })
  await expect(lifetime).toHaveValue('keep-running')
  await lifetime.selectOption('stop-with-app')
  await expect(page.getByText("applies from the server's next start")).toBeVisible()
  await lifetime.selectOption('keep-running')
  await expect(page.getByText("applies from the server's next start")).toHaveCount(0)

  // 1. reload the page mid-run: the cell is still running and the later prints arrive
  await page.getByRole('button', { name: 'Run Cell 1', exact: true }).click()
  await expect(cell(page, 1).getByRole('group', { name: 'Cell 1 output' }).getByText(/^0\s+1/)).toBeVisible({ timeout: 30_000 })
  await page.reload()
  await openNotebook(page, first.url)
  await expect(cell(page, 1).getByLabel('Execution count *')).toBeVisible()
  await expect(page.getByRole('status').filter({ hasText: /^Kernel busy$/ })).toBeVisible()
  await expect(cell(page, 1).getByText(/0\s+1\s+2\s+3\s+4\s+5/)).toBeVisible({ timeout: 20_000 })
  await expect(cell(page, 1).getByRole('group', { name: 'Cell 1 output' }).getByText("'finished'")).toBeVisible({ timeout: 20_000 })
  await expect(cell(page, 1).getByLabel('Execution count 1')).toBeVisible()
  await expect(page.getByRole('complementary', { name: 'Variables' }).getByRole('cell', { name: 'x', exact: true })).toBeVisible()

  // 2. run it again and kill -9 serve mid-run; a new serve on the same data dir adopts the Jupyter server
  await page.getByRole('button', { name: 'Run Cell 1', exact: true }).click()
  await expect(cell(page, 1).getByRole('group', { name: 'Cell 1 output' }).getByText(/^0\s+1\s+2/)).toBeVisible({ timeout: 30_000 })
  const serverPid = (await first.rpc('kernels.servers')).find((x: any) => x.id === 'local').pid as number
  await kill9(first)
  expect(alive(serverPid)).toBe(true)
  // killed mid-run: what serve had recorded ends before the last print
  const recorded = JSON.parse(readFileSync(join(ws.dataDir, 'jupyter', 'kernels.json'), 'utf8'))
  const before = Object.values(recorded.kernels as Record<string, any>)[0].cells.find((c: any) => c.cellId === 'loop-cell')
  expect(before.done).toBe(false)
  const second = await startServe({ workspace: ws.dir, dataDir: ws.dataDir, token })
  serves.push(second)
  expect((await second.rpc('kernels.servers')).find((x: any) => x.id === 'local')).toMatchObject({ state: 'ready', pid: serverPid })
  await openNotebook(page, second.url)
  await expect(page.getByRole('status').filter({ hasText: /^Kernel (busy|idle)$/ })).toBeVisible()
  const all = cell(page, 1).getByRole('group', { name: 'Cell 1 output' }).getByText(/^0\s+1\s+2\s+3\s+4\s+5\s+6\s+7\s*$/)
  await expect(all).toBeVisible({ timeout: 20_000 })
  await expect(cell(page, 1).getByRole('group', { name: 'Cell 1 output' }).getByText("'finished'")).toBeVisible({ timeout: 20_000 })
  await expect(cell(page, 1).getByLabel('Execution count 2')).toBeVisible()
  await expect(page.getByRole('status').filter({ hasText: /^Kernel idle$/ })).toBeVisible()
  await expect(page.getByRole('complementary', { name: 'Variables' }).getByRole('cell', { name: 'x', exact: true })).toBeVisible()
  // one kernel, the same one: never a second for this notebook
  expect(await second.rpc('kernels.list')).toHaveLength(1)
  mkdirSync(join(__dirname, '../../out/screenshots'), { recursive: true })
  await page.screenshot({ path: join(__dirname, '../../out/screenshots/notebooks-survive.png') })
})

test('the kernel state of a notebook whose Jupyter server died while serve was down is reported lost', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server and ipykernel')
  test.setTimeout(120_000)
  const ws = workspace()
  const token = 'lost-' + Math.random().toString(36).slice(2)
  const first = await startServe({ workspace: ws.dir, dataDir: ws.dataDir, token })
  serves.push(first)
  await first.rpc('kernels.startLocal', { python: PYTHON })
  const k = await first.rpc('kernels.start', { path: join(ws.dir, 'survive.ipynb') })
  const msg = await first.rpc('kernels.execute', { kernelId: k.kernelId, cellId: 'loop-cell', code: 'print("before", flush=True)\nimport time\ntime.sleep(30)' })
  expect(msg.msgId).toBeTruthy()
  await expect.poll(async () => JSON.stringify((await first.rpc('kernels.forNotebook', { path: join(ws.dir, 'survive.ipynb') })).cells), { timeout: 20_000 }).toContain('before')
  await new Promise((r) => setTimeout(r, 400))
  const serverPid = (await first.rpc('kernels.servers')).find((x: any) => x.id === 'local').pid as number
  await kill9(first)
  for (const p of [...descendantsOf(serverPid), serverPid]) process.kill(p, 'SIGKILL')
  const second = await startServe({ workspace: ws.dir, dataDir: ws.dataDir, token })
  serves.push(second)
  await openNotebook(page, second.url)
  await expect(page.getByRole('alert').filter({ hasText: /output produced while Atelier was away were lost/ })).toBeVisible()
  await expect(cell(page, 1).getByText('before')).toBeVisible()
  await expect(page.getByRole('status').filter({ hasText: /^No kernel$/ })).toBeVisible()
})

test('with "stop with the app", a kill -9 of serve leaves no Jupyter process (parent-death signal)', async () => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server and ipykernel')
  test.skip(process.platform !== 'linux', 'the parent-death signal is Linux only')
  const ws = workspace()
  const s = await startServe({ workspace: ws.dir, dataDir: ws.dataDir })
  serves.push(s)
  expect(await s.rpc('kernels.setLifetime', { lifetime: 'stop-with-app' })).toMatchObject({ lifetime: 'stop-with-app' })
  const server = await s.rpc('kernels.startLocal', { python: PYTHON })
  await s.rpc('kernels.start', { path: join(ws.dir, 'survive.ipynb') })
  const tree = [...descendantsOf(server.pid), server.pid]
  expect(tree.length).toBeGreaterThan(1) // the server and its kernel
  await kill9(s)
  await expect.poll(() => tree.filter(alive).length, { timeout: 15_000 }).toBe(0)
})
