import { randomBytes } from 'node:crypto'
import { homedir } from 'node:os'
import { join } from 'node:path'

export interface ServeArgs {
  host: string
  port: number
  token: string
  dataDir: string
  workspace?: string
}

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'atelier')
}

/** `--host --port --token --data-dir --workspace`, all optional: loopback, a free port, a random token. */
export function parseServeArgs(argv: string[]): ServeArgs {
  const out: ServeArgs = {
    host: '127.0.0.1',
    port: 0,
    token: randomBytes(24).toString('hex'),
    dataDir: process.env.ATELIER_DATA_DIR || defaultDataDir()
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
      case '--data-dir':
        out.dataDir = value()
        break
      case '--workspace':
        out.workspace = value()
        break
      default:
        throw new Error(`Unknown option ${raw}. Options: --host --port --token --data-dir --workspace`)
    }
  }
  return out
}
