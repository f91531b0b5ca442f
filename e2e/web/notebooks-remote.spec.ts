import { test, expect } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { descendantsOf, startServe, type ServeHandle } from '../support'

/**
 * A local notebook on a kernel of another Jupyter server (treated as remote: URL + token): the kernel
 * starts in the notebook's folder on that server (the UI says which), reads the CSV next to it there,
 * and "Open in Data" brings its DataFrame back through the kernel connection.
 */

const PYTHON = '/usr/bin/python3'
const CODE = "import os, pandas as pd\nprint(os.getcwd())\nchurn = pd.read_csv('churn.csv')\nchurn.shape"

let s: ServeHandle
let jupyter: ChildProcess | undefined
test.afterEach(async () => {
  await s?.stop()
  if (jupyter?.pid) for (const p of [...descendantsOf(jupyter.pid), jupyter.pid]) {
    try {
      process.kill(p, 'SIGKILL')
    } catch {
      // gone
    }
  }
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })

test('a remote kernel starts in the notebook folder, says so, and its DataFrame opens in Data', async ({ page }) => {
  test.skip(!existsSync(PYTHON), 'needs Debian python3 with jupyter_server, ipykernel and pandas')
  test.setTimeout(150_000)
  const root = mkdtempSync(join(tmpdir(), 'atelier-remote-'))
  const workspace = join(root, 'ws')
  const remoteRoot = join(root, 'remote-home')
  mkdirSync(join(workspace, 'sub'), { recursive: true })
  mkdirSync(join(remoteRoot, 'sub'), { recursive: true })
  writeFileSync(
    join(workspace, 'sub', 'churn.ipynb'),
    JSON.stringify({ cells: [{ cell_type: 'code', id: 'c1', metadata: {}, source: CODE, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 })
  )
  writeFileSync(join(remoteRoot, 'sub', 'churn.csv'), 'customer,tenure,exited\n' + Array.from({ length: 3000 }, (_, i) => `c${i},${i % 72},${i % 5 === 0}`).join('\n') + '\n')
  const port = await freePort()
  const token = 'remote-' + Math.random().toString(36).slice(2)
  jupyter = spawn(PYTHON, ['-m', 'jupyter_server', `--ServerApp.port=${port}`, '--ServerApp.ip=127.0.0.1', `--ServerApp.root_dir=${remoteRoot}`, '--ServerApp.open_browser=False', '--allow-root'], {
    env: { ...process.env, JUPYTER_TOKEN: token },
    stdio: 'ignore'
  })
  await expect
    .poll(async () => (await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { Authorization: `token ${token}` } }).catch(() => null))?.status ?? 0, { timeout: 60_000 })
    .toBe(200)

  s = await startServe({ workspace })
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()
  await page.getByRole('button', { name: 'Connect to server…' }).click()
  await page.getByRole('textbox', { name: 'Server URL' }).fill(`http://127.0.0.1:${port}/`)
  await page.getByLabel('Token').fill(token)
  await page.getByRole('button', { name: 'Connect', exact: true }).click()
  await expect(page.getByRole('combobox', { name: 'Jupyter server', exact: true })).toContainText(`127.0.0.1:${port}`)
  await page.getByRole('navigation', { name: 'Notebooks' }).getByRole('button', { name: /churn\.ipynb/ }).click()
  await page.getByRole('button', { name: 'Start kernel' }).click()
  await expect(page.getByRole('status', { name: 'Kernel status' })).toHaveText('Kernel idle', { timeout: 60_000 })
  await expect(page.getByRole('note', { name: 'Kernel folder' })).toContainText('sub/')
  await page.getByRole('button', { name: 'Run Cell 1', exact: true }).click()
  const out = page.getByRole('group', { name: 'Cell 1 output' })
  await expect(out).toContainText(join(remoteRoot, 'sub'), { timeout: 30_000 })
  await expect(out).toContainText('(3000, 3)')
  mkdirSync('out/screenshots', { recursive: true })
  await page.screenshot({ path: 'out/screenshots/notebooks-remote-folder.png' })

  const vars = page.getByRole('complementary', { name: 'Variables' })
  await vars.getByRole('button', { name: 'Open churn in Data' }).click()
  await expect(page.getByRole('main', { name: 'Data' })).toBeVisible({ timeout: 30_000 })
  await expect(page.getByRole('grid').getByText('c2999')).toHaveCount(0)
  await expect(page.getByRole('grid').getByText('c10', { exact: true })).toBeVisible({ timeout: 30_000 })
  await expect(page.getByText(/brought back from the remote kernel/).first()).toBeVisible()
  await page.screenshot({ path: 'out/screenshots/notebooks-remote-open-in-data.png' })
})
