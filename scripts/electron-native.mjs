// better-sqlite3 built for Electron's ABI into out/native/electron, apart from the Node build in
// node_modules that tests and `serve` use (the Electron entry points better-sqlite3 at it).
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './lib.mjs'

export function ensureElectronNative() {
  const electronDir = join(root, 'node_modules', 'electron')
  const target = join(root, 'out', 'native', 'electron', 'better_sqlite3.node')
  const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version
  const stamp = `${target}.${version}`
  if (existsSync(target) && existsSync(stamp)) return target
  const work = join(root, 'out', 'native', 'build-better-sqlite3')
  rmSync(work, { recursive: true, force: true })
  cpSync(join(root, 'node_modules', 'better-sqlite3'), work, { recursive: true })
  rmSync(join(work, 'build'), { recursive: true, force: true })
  console.error(`atelier: building better-sqlite3 for Electron ${version}…`)
  const r = spawnSync(
    'npx',
    ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${version}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'],
    { cwd: work, stdio: 'inherit' }
  )
  if (r.status !== 0) throw new Error('could not build better-sqlite3 for Electron')
  mkdirSync(join(root, 'out', 'native', 'electron'), { recursive: true })
  copyFileSync(join(work, 'build', 'Release', 'better_sqlite3.node'), target)
  copyFileSync(target, stamp)
  return target
}

if (process.argv[1] && process.argv[1].endsWith('electron-native.mjs')) ensureElectronNative()
