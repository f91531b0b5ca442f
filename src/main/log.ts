/** A tiny logger: the trace goes to the log (stderr), never to the UI. */
export interface Logger {
  info(message: string, ...extra: unknown[]): void
  warn(message: string, ...extra: unknown[]): void
  error(message: string, ...extra: unknown[]): void
}

export function createLogger(scope: string, sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const fmt = (level: string, message: string, extra: unknown[]) => {
    const tail = extra
      .map((e) => (e instanceof Error ? (e.stack ?? e.message) : typeof e === 'string' ? e : JSON.stringify(e)))
      .join(' ')
    return `${new Date().toISOString()} ${level} [${scope}] ${message}${tail ? ' ' + tail : ''}`
  }
  return {
    info: (m, ...e) => sink(fmt('INFO', m, e)),
    warn: (m, ...e) => sink(fmt('WARN', m, e)),
    error: (m, ...e) => sink(fmt('ERROR', m, e))
  }
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }
