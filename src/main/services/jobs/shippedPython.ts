/** The `atelier` Python package shipped with the app (resources/python/atelier), as files a job folder receives under lib/. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { atelierPythonDir } from '../../pythonPath'

let cached: Record<string, string> | null = null

function collect(dir: string, rel: string, out: Record<string, string>): void {
  for (const f of readdirSync(dir).sort()) {
    if (f === '__pycache__' || f.startsWith('.')) continue
    const full = join(dir, f)
    if (statSync(full).isDirectory()) collect(full, `${rel}/${f}`, out)
    else if (f.endsWith('.py')) out[`${rel}/${f}`] = readFileSync(full, 'utf8')
  }
}

/** `{ 'lib/atelier/<module path>.py': source }` for every module of the package, subpackages included; empty when it is not found. */
export function shippedPythonFiles(prefix = 'lib'): Record<string, string> {
  if (!cached) {
    cached = {}
    const dir = atelierPythonDir()
    if (dir) collect(join(dir, 'atelier'), 'atelier', cached)
  }
  return Object.fromEntries(Object.entries(cached).map(([k, v]) => [`${prefix}/${k}`, v]))
}
