import { test, expect, _electron as electron } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, electronBinary } from '../support'

test('the Electron window opens, runs a query and exposes only the workbench bridge', async () => {
  const bin = electronBinary()
  test.skip(!bin, 'Electron binary not installed: it downloads on first launch and this machine cannot fetch it; the web project covers the UI')
  test.skip(process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY, 'no display to open an Electron window on')
  execFileSync(process.execPath, [join(ROOT, 'scripts/electron-native.mjs')], { stdio: 'inherit' })
  const userData = mkdtempSync(join(tmpdir(), 'atelier-electron-'))
  const app = await electron.launch({ executablePath: bin!, args: [ROOT, `--user-data-dir=${userData}`] })
  try {
    const win = await app.firstWindow()
    await expect(win.getByRole('button', { name: 'Run query' })).toBeVisible()
    const exposed = await win.evaluate(() => ({
      keys: Object.keys((window as any).workbench ?? {}).sort(),
      require: typeof (window as any).require,
      process: typeof (window as any).process
    }))
    expect(exposed).toEqual({ keys: ['invoke', 'on'], require: 'undefined', process: 'undefined' })
    const info = await win.evaluate(() => (window as any).workbench.invoke('app.info', {}))
    expect(info.ok && info.result.mode).toBe('electron')
    // The renderer is sandboxed and isolated: no Node in the page, no way to navigate it away.
    const sandboxed = await app.evaluate(({ BrowserWindow }) => {
      const wc = BrowserWindow.getAllWindows()[0].webContents
      return { url: wc.getURL(), crashed: wc.isCrashed() }
    })
    expect(sandboxed.url.startsWith('app://atelier/')).toBe(true)
    await win.evaluate(() => (location.href = 'https://example.com/'))
    await win.waitForTimeout(500)
    expect(win.url().startsWith('app://atelier/')).toBe(true)
  } finally {
    await app.close()
  }
})
