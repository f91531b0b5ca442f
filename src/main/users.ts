/**
 * `npm run users -- <command> … [--data-dir <dir>]`: user accounts for `serve`, for the first admin and
 * scripted setups. Passwords are read from standard input (the first line), never from arguments.
 *
 *   add <name> --role <viewer|scientist|reviewer|admin>
 *   list
 *   set-role <name> --role <role>
 *   disable <name> | enable <name>
 *   password <name>
 *   token <name> [--label <text>]     prints a new personal API token (shown once)
 */
import { chmodSync, mkdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { ROLES, type Principal, type Role } from '../shared/auth'
import { Password, UserName } from '../shared/authApi'
import { AppError } from '../shared/errors'
import { openDatabase } from './db'
import { defaultDataDir } from './serve/args'
import { AuthService } from './services/auth/AuthService'
import { AuditLog } from './services/audit/AuditLog'
import { auditAuthChanges } from './services/audit/authEvents'

const USAGE = `Usage: npm run users -- <command> [--data-dir <dir>]
  add <name> --role <${ROLES.join('|')}>   (password on standard input)
  list
  set-role <name> --role <role>
  disable <name>
  enable <name>
  password <name>                          (new password on standard input)
  token <name> [--label <text>]            (prints a new personal API token)`

class UsageError extends Error {}

function parse(argv: string[]) {
  const positional: string[] = []
  const flags: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i]
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`)
      if (!['role', 'data-dir', 'label'].includes(name)) throw new UsageError(`Unknown option --${name}`)
      flags[name] = value
    } else positional.push(a)
  }
  return { positional, flags }
}

/** The first line of standard input; on a terminal, asked for without echo. */
async function readPassword(prompt: string): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write(prompt)
    const muted = new Writable({ write: (_c, _e, cb) => cb() })
    const rl = createInterface({ input: process.stdin, output: muted, terminal: true })
    const line = await new Promise<string>((res) => rl.once('line', res))
    rl.close()
    process.stderr.write('\n')
    return line
  }
  let text = ''
  for await (const chunk of process.stdin) {
    text += chunk
    if (text.includes('\n')) break
  }
  return text.split(/\r?\n/)[0]
}

function role(value: string | undefined): Role {
  if (!value || !(ROLES as readonly string[]).includes(value)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
  return value as Role
}

function name(value: string | undefined): string {
  const r = UserName.safeParse(value)
  if (!r.success) throw new UsageError(`A user name is needed (${r.error.issues[0].message})`)
  return r.data
}

async function main(argv: string[]): Promise<void> {
  const { positional, flags } = parse(argv)
  const [command, who] = positional
  if (!command || command === 'help') throw new UsageError('')
  const dataDir = resolve(flags['data-dir'] ?? (process.env.ATELIER_DATA_DIR || defaultDataDir()))
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  chmodSync(dataDir, 0o700)
  const db = openDatabase(join(dataDir, 'atelier.db'))
  const auth = new AuthService({ db, onChange: auditAuthChanges(new AuditLog(db)) })
  const actor: Principal = { id: 'cli', name: userInfo().username, role: 'admin', via: 'local' }
  try {
    switch (command) {
      case 'add': {
        const n = name(who)
        const r = role(flags.role)
        const password = Password.safeParse(await readPassword(`Password for ${n}: `))
        if (!password.success) throw new UsageError(`Password: ${password.error.issues[0].message}`)
        const u = await auth.createUser(n, r, password.data, actor)
        process.stdout.write(`added ${u.name} (${u.role})\n`)
        break
      }
      case 'list':
        for (const u of auth.listUsers()) process.stdout.write(`${u.name}\t${u.role}\t${u.disabled ? 'disabled' : 'active'}\t${u.createdAt}\n`)
        break
      case 'set-role': {
        const u = auth.setRole(name(who), role(flags.role), actor)
        process.stdout.write(`${u.name} is now ${u.role}\n`)
        break
      }
      case 'disable':
      case 'enable': {
        const u = auth.setDisabled(name(who), command === 'disable', actor)
        process.stdout.write(`${u.name} ${u.disabled ? 'disabled' : 'enabled'}\n`)
        break
      }
      case 'password': {
        const n = name(who)
        const password = Password.safeParse(await readPassword(`New password for ${n}: `))
        if (!password.success) throw new UsageError(`Password: ${password.error.issues[0].message}`)
        await auth.setPassword(n, password.data, actor)
        process.stdout.write(`password of ${n} changed\n`)
        break
      }
      case 'token': {
        const { token } = auth.createToken(name(who), flags.label ?? 'created with npm run users', actor)
        process.stdout.write(`${token}\n`)
        break
      }
      default:
        throw new UsageError(`Unknown command ${command}`)
    }
  } finally {
    db.close()
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) {
    process.stderr.write(err.message ? `atelier users: ${err.message}\n${USAGE}\n` : `${USAGE}\n`)
    process.exit(2)
  }
  process.stderr.write(`atelier users: ${err instanceof AppError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
