import { test, expect } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/main/testing/slurm'
import { sshdUnavailable, startSshd, waitPort, type TestSshd } from '../../src/main/testing/sshd'
import { startServe, type ServeHandle } from '../support'

const PYTHON = '/usr/bin/python3'
const MARKER = 'second-jupyter-' + Math.random().toString(36).slice(2, 8)

let s: ServeHandle
let sshd: TestSshd
let jupyter: ChildProcess
let jupyterPort: number
const jupyterToken = 'remote-' + Math.random().toString(36).slice(2)

test.beforeAll(async () => {
  if (sshdUnavailable() || !existsSync(PYTHON)) return
  sshd = await startSshd()
  // The "remote" server: a second Jupyter server that only listens on the SSH host's loopback.
  jupyterPort = await freePort()
  const root = mkdtempSync(join(tmpdir(), 'atelier-remote-jupyter-'))
  jupyter = spawn(
    PYTHON,
    ['-m', 'jupyter_server', '--no-browser', '--allow-root', '--ip=127.0.0.1', `--port=${jupyterPort}`, `--ServerApp.token=${jupyterToken}`, `--ServerApp.root_dir=${root}`],
    { stdio: 'ignore', env: { ...process.env, ATELIER_E2E_MARKER: MARKER } }
  )
  await waitPort(jupyterPort, 60_000)
})

test.afterAll(async () => {
  jupyter?.kill('SIGTERM')
  await sshd?.stop()
})

test.beforeEach(async () => {
  const workspace = join(mkdtempSync(join(tmpdir(), 'atelier-nb-ssh-')), 'ws')
  mkdirSync(workspace, { recursive: true })
  s = await startServe({ workspace })
})
test.afterEach(async () => {
  await s?.stop()
})

test('connect to a second Jupyter server through an SSH tunnel and run a cell there', async ({ page }) => {
  test.skip(!!sshdUnavailable() || !existsSync(PYTHON), sshdUnavailable() ?? 'needs Debian python3 with jupyter_server')
  test.setTimeout(150_000)
  await page.goto(s.url)
  await page.getByRole('button', { name: 'Notebooks', exact: true }).click()

  await page.getByRole('button', { name: 'Connect to server…' }).click()
  const dlg = page.getByRole('dialog', { name: 'Connect to a Jupyter server' })
  await dlg.getByRole('textbox', { name: 'Name (optional)' }).fill('gpu-box')
  await dlg.getByRole('textbox', { name: 'Server URL' }).fill(`http://127.0.0.1:${jupyterPort}/`)
  await dlg.getByLabel('Token').fill(jupyterToken)
  await dlg.getByRole('checkbox', { name: /Through an SSH tunnel/ }).check()
  await dlg.getByRole('textbox', { name: 'SSH host' }).fill('127.0.0.1')
  await dlg.getByRole('textbox', { name: 'SSH port' }).fill(String(sshd.port))
  await dlg.getByRole('textbox', { name: 'SSH user' }).fill('root')
  await dlg.getByRole('textbox', { name: 'Private key path' }).fill(sshd.key)
  await dlg.getByRole('button', { name: 'Connect' }).click()

  // first contact: the host key's fingerprint is shown and must be trusted explicitly
  await expect(dlg.getByText(sshd.hostFingerprint)).toBeVisible({ timeout: 20_000 })
  await page.screenshot({ path: 'out/test-results/screens/notebooks-ssh-hostkey.png' })
  await dlg.getByRole('button', { name: 'Trust this host and connect' }).click()
  await expect(dlg).toBeHidden({ timeout: 30_000 })

  const server = page.getByRole('combobox', { name: 'Jupyter server' })
  await expect(server.getByRole('option', { name: /gpu-box \(ssh root@127\.0\.0\.1\)/ })).toBeAttached()
  await server.selectOption({ label: (await server.getByRole('option', { name: /gpu-box/ }).textContent())!.trim() })

  await page.getByRole('button', { name: 'New notebook' }).click()
  await page.getByRole('textbox', { name: 'Notebook name' }).fill('remote')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('button', { name: 'Start kernel' }).click()
  await expect(page.getByRole('status').filter({ hasText: /^Kernel idle$/ })).toBeVisible({ timeout: 90_000 })

  // the kernel runs under the second server: it sees that server's environment
  const source = page.getByRole('textbox', { name: 'Cell 1 source', exact: true })
  await source.focus()
  await page.keyboard.insertText('import os\nprint("marker:", os.environ.get("ATELIER_E2E_MARKER"))')
  await page.keyboard.press('Shift+Enter')
  await expect(page.getByRole('article', { name: 'Cell 1', exact: true }).getByText(`marker: ${MARKER}`)).toBeVisible({ timeout: 30_000 })
  await page.screenshot({ path: 'out/test-results/screens/notebooks-ssh-cell.png' })
})
