import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Core } from '../core'
import { silentLogger } from '../log'
import { startServer, type RunningServer, type ServeOptions } from '../serve/server'

/**
 * `serve` on a loopback port for a test core, with a minimal renderer folder (index.html only) in
 * the core's data dir. `base` is the server's http://127.0.0.1:<port>.
 */
export async function startTestServer(
  core: Core & { dataDir: string },
  token: string,
  extra: Partial<Omit<ServeOptions, 'core' | 'token'>> = {}
): Promise<RunningServer & { base: string; rendererDir: string }> {
  const rendererDir = join(core.dataDir, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Atelier</title>')
  const server = await startServer({ core, host: '127.0.0.1', port: 0, token, rendererDir, log: silentLogger, ...extra })
  return Object.assign(server, { base: `http://127.0.0.1:${server.port}`, rendererDir })
}
