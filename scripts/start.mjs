// `npm start`: install, build, open the Electron window; headless `serve` where that cannot be done.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBuild, ensureDeps, root } from './lib.mjs'
import { ensureElectronNative } from './electron-native.mjs'

ensureDeps()
ensureBuild()

const args = process.argv.slice(2)
const electronDir = join(root, 'node_modules', 'electron')

function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return process.env.ELECTRON_OVERRIDE_DIST_PATH
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const bin = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(bin) ? bin : null
}

function whyNoWindow() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'No display was found (DISPLAY and WAYLAND_DISPLAY are unset), so Atelier runs headless instead: open the URL below in a browser.'
  }
  if (!electronBinary()) {
    // Electron fetches its binary on first launch; give it a bounded try.
    spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'inherit', timeout: 180_000 })
    if (!electronBinary()) {
      return 'The Electron binary could not be downloaded on this machine, so Atelier runs headless instead: open the URL below in a browser.'
    }
  }
  return null
}

const reason = whyNoWindow()
if (reason) {
  console.log(reason)
  const { serve } = await import('./serve.mjs')
  serve(args)
} else {
  ensureElectronNative()
  const child = spawn(electronBinary(), [root, ...args], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
}
