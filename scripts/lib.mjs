// Shared helpers for the npm scripts: keep dependencies and the build up to date, quietly.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function newestMtime(path) {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  let max = s.mtimeMs
  for (const e of readdirSync(path)) max = Math.max(max, newestMtime(join(path, e)))
  return max
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: process.env })
  if (r.status !== 0) {
    console.error(`atelier: ${what} failed (${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}).`)
    process.exit(r.status ?? 1)
  }
}

function depsKey() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const lock = existsSync(join(root, 'package-lock.json')) ? readFileSync(join(root, 'package-lock.json')) : ''
  return createHash('sha256')
    .update(JSON.stringify([pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies]))
    .update(lock)
    .digest('hex')
}

/**
 * Installs npm dependencies when node_modules is missing or was installed for other dependencies:
 * keyed on the lockfile and the declared dependencies, so editing package.json's scripts does not
 * reinstall anything.
 */
export function ensureDeps() {
  const stamp = join(root, 'node_modules', '.atelier-deps')
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : ''
  if (have !== depsKey() || !existsSync(join(root, 'node_modules', '.package-lock.json'))) {
    console.error('atelier: installing dependencies (npm install)…')
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], 'npm install')
    // npm may rewrite the lockfile: key on what it left.
    writeFileSync(stamp, depsKey() + '\n')
  }
}

/** Builds main, preload and renderer when the sources are newer than the last build. */
export function ensureBuild() {
  const out = join(root, 'out', 'main', 'serve.js')
  const srcTime = Math.max(newestMtime(join(root, 'src')), newestMtime(join(root, 'bench')), newestMtime(join(root, 'electron.vite.config.ts')), newestMtime(join(root, 'package.json')))
  if (!existsSync(out) || srcTime > newestMtime(join(root, 'out'))) {
    console.error('atelier: building (electron-vite build)…')
    run(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'warn'], 'build')
  }
}
