import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export interface ServeArgs {
  host: string
  /** null when --port was not given (serve then prefers last run's port). */
  port: number | null
  token: string
  dataDir: string
  workspace?: string
  /** Extra Host names (besides the bound name and loopback) that may reach the server. */
  allowedHosts: string[]
}

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'atelier')
}

/** Reads a token file: its first line, trimmed; an empty file is refused. */
export function readTokenFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`--token-file ${path}: ${(err as Error).message}`)
  }
  const token = text.split(/\r?\n/)[0].trim()
  if (!token) throw new Error(`--token-file ${path} is empty`)
  return token
}

/**
 * `--host --port --token --token-file --allowed-host --data-dir --workspace`, all optional: loopback, a
 * free port (`--port 0`: any free one; no --port: last run's when free), and the token from `--token`, `--token-file`, `ATELIER_TOKEN` or else a random one.
 */
export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  const out: ServeArgs = {
    host: '127.0.0.1',
    port: null,
    token: env.ATELIER_TOKEN || randomBytes(24).toString('hex'),
    dataDir: env.ATELIER_DATA_DIR || defaultDataDir(),
    allowedHosts: []
  }
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]
    const [flag, inline] = raw.includes('=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case '--host':
        out.host = value()
        break
      case '--port': {
        const p = Number(value())
        if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error('--port must be a number from 0 to 65535')
        out.port = p
        break
      }
      case '--token': {
        const t = value()
        if (t.length < 1) throw new Error('--token must not be empty')
        out.token = t
        break
      }
      case '--token-file':
        out.token = readTokenFile(value())
        break
      case '--allowed-host': {
        const h = value().toLowerCase()
        if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h)) throw new Error(`--allowed-host takes a host name without port: ${h}`)
        out.allowedHosts.push(h)
        break
      }
      case '--data-dir':
        out.dataDir = value()
        break
      case '--workspace':
        out.workspace = value()
        break
      default:
        throw new Error(`Unknown option ${raw}. Options: --host --port --token --token-file --allowed-host --data-dir --workspace`)
    }
  }
  return out
}
