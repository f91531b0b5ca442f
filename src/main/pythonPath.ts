import { existsSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'

let cached: string | null | undefined

/**
 * The folder holding the `atelier` Python package shipped with the app (`resources/python`):
 * beside the app's `out/` when built (electron-vite's layout, also `serve`), the repository's
 * `resources/` in tests and dev, or ATELIER_PYTHON_DIR when set.
 */
export function atelierPythonDir(): string | null {
  if (cached !== undefined) return cached
  const candidates = [
    process.env.ATELIER_PYTHON_DIR,
    (process as { resourcesPath?: string }).resourcesPath && join((process as { resourcesPath?: string }).resourcesPath!, 'python'),
    typeof __dirname === 'string' ? resolve(__dirname, '../../resources/python') : undefined,
    typeof __dirname === 'string' ? resolve(__dirname, '../../../../resources/python') : undefined,
    resolve(process.cwd(), 'resources/python')
  ].filter((c): c is string => typeof c === 'string' && c !== '')
  cached = candidates.find((c) => existsSync(join(c, 'atelier', '__init__.py'))) ?? null
  return cached
}

/** PYTHONPATH with the shipped package first (the caller's own PYTHONPATH kept after it). */
export function atelierPythonEnv(base: string | undefined = process.env.PYTHONPATH): Record<string, string> {
  const dir = atelierPythonDir()
  if (!dir) return {}
  const rest = (base ?? '').split(delimiter).filter((p) => p !== '' && p !== dir)
  return { PYTHONPATH: [dir, ...rest].join(delimiter) }
}
