/**
 * Headless entry: `npm run serve -- --host 127.0.0.1 --port <p> --token <t> --data-dir <dir> --workspace <dir>`.
 * Prints exactly one line on stdout when ready; logs go to stderr.
 */
import { join, resolve } from 'node:path'
import { createCore } from './core'
import { createLogger } from './log'
import { parseServeArgs } from './serve/args'
import { startServer } from './serve/server'
import { choosePort, rememberPort } from './serve/preferredPort'

async function main() {
  const log = createLogger('serve')
  let args
  try {
    args = parseServeArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`atelier serve: ${(err as Error).message}\n`)
    process.exit(2)
  }
  // Signal handlers go in before anything starts, so a signal that arrives the moment the
  // ready line is read (or while starting) is a clean shutdown, never the default kill.
  let server: Awaited<ReturnType<typeof startServer>> | undefined
  let core: Awaited<ReturnType<typeof createCore>> | undefined
  let stopping = false
  const stop = async (signal: string) => {
      stopping = true
    log.info(`${signal}: shutting down`)
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    try {
      await server?.close()
      await core?.dispose()
    } finally {
      process.exit(0)
    }
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))

  core = await createCore({
    dataDir: resolve(args.dataDir),
    workspace: args.workspace ? resolve(args.workspace) : undefined,
    mode: 'serve',
    log
  })
  const dataDir = resolve(args.dataDir)
  const options = {
    core,
    host: args.host,
    port: await choosePort(dataDir, args.host, args.port),
    token: args.token,
    allowedHosts: args.allowedHosts,
    rendererDir: process.env.ATELIER_RENDERER_DIR || join(__dirname, '../renderer'),
    log
  }
  server = await startServer(options).catch((err: NodeJS.ErrnoException) => {
    // last run's port was taken in the meantime: any free one
    if (err.code !== 'EADDRINUSE' || args!.port !== null) throw err
    return startServer({ ...options, port: 0 })
  })
  // without --port, the next start prefers this port (URIs printed by kernels and jobs keep working)
  if (args.port === null) rememberPort(dataDir, server.port)
  process.stdout.write(`Atelier serving at ${server.url}\n`)
}

main().catch((err) => {
  process.stderr.write(`atelier serve failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
