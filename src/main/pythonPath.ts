import { existsSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'

let cached: string | null | undefined

/**
 * The folder holding the `atelier` Python package shipped with the app (`resources/python`):
 * ATELIER_PYTHON_DIR when set; Electron's resources folder; else the nearest `resources/python` above
 * this module (the built code sits in `out/main` or `out/main/chunks`, the sources in `src/main`), or
 * under the working directory.
 */
export function atelierPythonDir(): string | null {
  if (cached !== undefined) return cached
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath
  const candidates = [process.env.ATELIER_PYTHON_DIR, resourcesPath && join(resourcesPath, 'python')]
  if (typeof __dirname === 'string') candidates.push(...pythonDirsAbove(__dirname))
  candidates.push(resolve(process.cwd(), 'resources/python'))
  cached = findPythonDir(candidates)
  return cached
}

/** `<dir>/resources/python` for `dir` and each folder above it. */
export function pythonDirsAbove(start: string): string[] {
  const out: string[] = []
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    out.push(join(dir, 'resources', 'python'))
    if (dirname(dir) === dir) return out
  }
}

export function findPythonDir(candidates: (string | undefined | null | false)[]): string | null {
  return candidates.find((c): c is string => typeof c === 'string' && c !== '' && existsSync(join(c, 'atelier', '__init__.py'))) ?? null
}

/** PYTHONPATH with the shipped package first (the caller's own PYTHONPATH kept after it). */
export function atelierPythonEnv(base: string | undefined = process.env.PYTHONPATH): Record<string, string> {
  const dir = atelierPythonDir()
  if (!dir) return {}
  const rest = (base ?? '').split(delimiter).filter((p) => p !== '' && p !== dir)
  return { PYTHONPATH: [dir, ...rest].join(delimiter) }
}
