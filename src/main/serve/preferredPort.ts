import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

/**
 * `serve` started without `--port` (an explicit `--port 0` means any free port) listens on the port it had last time when that port is free, so
 * tracking URIs printed by kernels and jobs of an earlier run (whose tracking token is kept) still
 * reach it. The port is kept in `<data-dir>/serve-port.json`.
 */
const file = (dataDir: string) => join(dataDir, 'serve-port.json')

export function rememberedPort(dataDir: string): number | null {
  try {
    const p = (JSON.parse(readFileSync(file(dataDir), 'utf8')) as { port?: unknown }).port
    return typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536 ? p : null
  } catch {
    return null
  }
}

export function rememberPort(dataDir: string, port: number): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  writeFileSync(file(dataDir), JSON.stringify({ port }), { mode: 0o600 })
}

/** Whether `port` can be listened on at `host` now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)))
  })
}

/** The port to listen on: the one asked for (0: any free port), else last run's when free, else 0. */
export async function choosePort(dataDir: string, host: string, asked: number | null): Promise<number> {
  if (asked !== null) return asked
  const last = rememberedPort(dataDir)
  return last !== null && (await portFree(host, last)) ? last : 0
}
