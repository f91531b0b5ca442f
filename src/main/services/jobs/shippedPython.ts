/** The `atelier` Python package shipped with the app (resources/python/atelier), as files a job folder receives under lib/. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

let cached: Record<string, string> | null = null

/** resources/python: the nearest one above this module (source tree, built `out/`, or an unpacked app). */
export function shippedPythonDir(): string | null {
  for (let d = __dirname; ; d = dirname(d)) {
    const cand = join(d, 'resources', 'python')
    if (existsSync(join(cand, 'atelier', '__init__.py'))) return cand
    if (dirname(d) === d) return null
  }
}

/** `{ 'lib/atelier/<file>.py': source }` for every module of the package; empty when it is not found. */
export function shippedPythonFiles(prefix = 'lib'): Record<string, string> {
  if (!cached) {
    cached = {}
    const dir = shippedPythonDir()
    if (dir) {
      for (const f of readdirSync(join(dir, 'atelier')).sort()) {
        if (f.endsWith('.py')) cached[`atelier/${f}`] = readFileSync(join(dir, 'atelier', f), 'utf8')
      }
    }
  }
  return Object.fromEntries(Object.entries(cached).map(([k, v]) => [`${prefix}/${k}`, v]))
}
