import { test, expect, _electron as electron } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, electronBinary } from '../support'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Quitting with a live kernel asks "Keep 1 kernel running?". The native message box cannot be
 * clicked from Playwright, so the main process's dialog.showMessageBox is replaced by one that
 * records the question and answers with a given button: Cancel keeps the app open, Keep running
 * quits and leaves the Jupyter server alive.
 */
test('quitting with a live kernel asks whether to keep it; Cancel stays, Keep running leaves the Jupyter server alive', async () => {
  const bin = electronBinary()
  test.skip(!bin, 'Electron binary not installed: it downloads on first launch and this machine cannot fetch it; quitPolicy.test.ts and quit.test.ts cover the decision and the keep/stop behaviour')
  test.skip(process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY, 'no display to open an Electron window on')
  test.setTimeout(180_000)
  execFileSync(process.execPath, [join(ROOT, 'scripts/electron-native.mjs')], { stdio: 'inherit' })
  const userData = mkdtempSync(join(tmpdir(), 'atelier-electron-'))
  const app = await electron.launch({ executablePath: bin!, args: [ROOT, `--user-data-dir=${userData}`] })
  let serverPid = 0
  try {
    const win = await app.firstWindow()
    const invoke = (method: string, params: unknown = {}) => win.evaluate(([m, p]) => (window as any).workbench.invoke(m, p), [method, params] as const)
    const started = await invoke('kernels.start', {})
    expect(started.ok).toBe(true)
    const servers = await invoke('kernels.servers', {})
    serverPid = servers.result.find((s: any) => s.id === 'local').pid
    expect(serverPid).toBeGreaterThan(0)

    const answer = (response: number) =>
      app.evaluate(({ dialog }, r) => {
        const g = globalThis as any
        g.__asked = []
        ;(dialog as any).showMessageBox = async (...args: any[]) => {
          g.__asked.push(args.find((a) => a && typeof a === 'object' && 'message' in a))
          return { response: r, checkboxChecked: false }
        }
      }, response)

    await answer(2) // Cancel
    await app.evaluate(({ app }) => app.quit())
    await expect.poll(() => app.evaluate(() => (globalThis as any).__asked.length)).toBe(1)
    const q = await app.evaluate(() => (globalThis as any).__asked[0])
    expect(q).toMatchObject({ message: 'Keep 1 kernel running?', buttons: ['Keep running', 'Stop kernels', 'Cancel'], checkboxLabel: 'Remember my choice' })
    expect(q.detail).toMatch(/\(idle\)/)
    await expect(win.getByRole('button', { name: 'Run query' })).toBeVisible()
    expect(alive(serverPid)).toBe(true)

    await answer(0) // Keep running
    const closed = new Promise<void>((r) => app.process().once('exit', () => r()))
    await app.evaluate(({ app }) => app.quit())
    await closed
    // detached from the parent-death signal: it outlives the app
    await new Promise((r) => setTimeout(r, 1000))
    expect(alive(serverPid)).toBe(true)
  } finally {
    await app.close().catch(() => {})
    if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGTERM')
  }
})
