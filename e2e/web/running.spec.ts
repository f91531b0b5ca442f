import { test, expect } from '@playwright/test'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startServe, type ServeHandle } from '../support'

/**
 * The Running panel end to end: a real kernel on the local Jupyter server and a real local job show
 * in the top bar's count and in the panel, with their memory, and each is stopped from there.
 */
const PY = '/usr/bin/python3'

test.describe('Running panel', () => {
  test.skip(!existsSync(PY), 'needs /usr/bin/python3 with Jupyter')
  let s: ServeHandle

  test.beforeAll(async () => {
    s = await startServe()
    mkdirSync(s.workspace, { recursive: true })
    writeFileSync(join(s.workspace, 'sleep.py'), 'import time\nprint("sleeping", flush=True)\ntime.sleep(300)\n')
  })
  test.afterAll(async () => {
    await s?.stop()
  })

  test('shows a kernel and a job, and stops each', async ({ page }) => {
    await s.rpc('kernels.startLocal', {})
    const kernel = await s.rpc('kernels.start', {})
    const job = await s.rpc('jobs.submit', {
      spec: { name: 'sleeper', target: { kind: 'local' }, entry: { kind: 'script', path: 'sleep.py' }, env: { python: PY } }
    })
    await expect.poll(async () => (await s.rpc('jobs.get', { jobId: job.id })).state, { timeout: 30_000 }).toBe('running')

    await page.goto(s.url)
    // the local server, the kernel and the job
    const button = page.getByRole('button', { name: 'Running (3)' })
    await expect(button).toBeVisible({ timeout: 30_000 })
    await button.click()
    const dialog = page.getByRole('dialog', { name: 'Running' })
    const table = dialog.getByRole('table', { name: 'Running resources' })
    const kernelRow = table.getByRole('row', { name: /^Kernel / })
    const jobRow = table.getByRole('row', { name: 'Job sleeper' })
    await expect(kernelRow).toContainText('idle')
    await expect(kernelRow).toContainText(/\d+ MiB/)
    await expect(jobRow).toContainText('running')
    await expect(jobRow).toContainText(/\d+ (MiB|KiB)/)
    await expect(table.getByRole('row', { name: 'Jupyter server Local Jupyter' })).toContainText('1 kernel')
    await page.screenshot({ path: 'out/screenshots/running-panel.png' })

    await jobRow.getByRole('button', { name: 'Stop job sleeper' }).click()
    await expect(jobRow).toHaveCount(0)
    await expect.poll(async () => (await s.rpc('jobs.get', { jobId: job.id })).state, { timeout: 30_000 }).toBe('cancelled')

    await kernelRow.getByRole('button', { name: /^Stop kernel / }).click()
    await expect(kernelRow).toHaveCount(0)
    expect((await s.rpc('kernels.list', {})).map((k: { kernelId: string }) => k.kernelId)).not.toContain(kernel.kernelId)
    await expect(dialog.getByRole('status').first()).toContainText('Stopped kernel')
    await dialog.getByRole('button', { name: 'Close dialog' }).click()
    await expect(page.getByRole('button', { name: 'Running (1)' })).toBeVisible()
  })
})
