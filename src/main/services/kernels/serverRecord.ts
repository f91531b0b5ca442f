import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** What the app records about the local Jupyter server it started, to find it again after a restart. */
export interface ServerRecord {
  pid: number
  /** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22): tells a reused pid apart. */
  procStart: string | null
  port: number
  baseUrl: string
  python: string
  rootDir: string
  lifetime: ServerLifetime
  startedAt: string
}

/** `stop-with-app`: the server dies with the app (also on kill -9, through a parent-death signal). */
export type ServerLifetime = 'stop-with-app' | 'keep-running'

export interface LifetimeSetting {
  lifetime: ServerLifetime
  /** keep-running only: the server shuts itself down after this many hours without kernel activity. */
  idleHours: number
}

/** Field 22 of /proc/<pid>/stat, or null where there is no /proc. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

/** The record file: JSON, mode 0600 in a 0700 folder, replaced atomically. The token is not in it. */
export class ServerRecordFile {
  constructor(readonly file: string) {}

  read(): ServerRecord | null {
    if (!existsSync(this.file)) return null
    try {
      const r = JSON.parse(readFileSync(this.file, 'utf8')) as ServerRecord
      return typeof r.pid === 'number' && typeof r.baseUrl === 'string' ? r : null
    } catch {
      return null
    }
  }

  write(r: ServerRecord): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(r, null, 2), { mode: 0o600 })
    chmodSync(tmp, 0o600)
    renameSync(tmp, this.file)
  }

  remove(): void {
    rmSync(this.file, { force: true })
  }
}

/** Whether `pid` is still the process the record describes (not a reused pid). */
export function sameProcess(r: ServerRecord): boolean {
  if (r.procStart === null) return true
  return procStartTime(r.pid) === r.procStart
}

/**
 * How to start the server so that it receives SIGTERM when its parent (the app) dies, on systems
 * that have a parent-death signal (Linux): util-linux's `setpriv --pdeathsig`, else the interpreter
 * itself sets PR_SET_PDEATHSIG through prctl before exec'ing the real command line. Elsewhere the
 * command is returned unchanged.
 */
export function withParentDeathSignal(python: string, args: string[], setpriv: string | null, parentPid: number | string = process.pid): { command: string; args: string[] } {
  if (process.platform !== 'linux') return { command: python, args }
  if (setpriv) return { command: setpriv, args: ['--pdeathsig', 'TERM', '--', python, ...args] }
  const boot = [
    'import ctypes, os, signal, sys',
    'ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)',
    // the parent may have died before prctl: then there is nothing to wait for
    `os.getppid() == ${parentPid} or os._exit(1)`,
    'os.execv(sys.executable, [sys.executable] + sys.argv[1:])'
  ].join('\n')
  return { command: python, args: ['-c', boot, ...args] }
}

let setprivFound: string | null | undefined

/** util-linux's setpriv when it knows --pdeathsig (util-linux 2.33 and later), else null. */
export function findSetpriv(): string | null {
  if (setprivFound !== undefined) return setprivFound
  setprivFound = null
  if (process.platform !== 'linux') return null
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (!existsSync(p)) continue
    try {
      if (/--pdeathsig/.test(execFileSync(p, ['--help'], { encoding: 'utf8', timeout: 2000 }))) return (setprivFound = p)
    } catch {
      // not runnable: the interpreter sets the signal itself
    }
  }
  return null
}
