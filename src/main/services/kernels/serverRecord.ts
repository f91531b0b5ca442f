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

/** The signal that tells a server started by `withParentDeathSignal` to outlive its parent. */
export const DETACH_SIGNAL = 'SIGUSR2'

/**
 * How to start the server so that it stops (SIGTERM) when its parent, the app, dies (also on kill -9),
 * unless the app detached it first with DETACH_SIGNAL (the user chose to keep its kernels running).
 * On Linux the interpreter arms a parent-death signal through prctl (a real-time signal Jupyter does
 * not use) whose handler sends the process SIGTERM unless detached, then runs the real command line
 * (`-m module …` or `-c code …`) in the same process. `detached` starts it detached already.
 * Elsewhere the command is returned unchanged (the app kills the server at exit instead).
 */
export function withParentDeathSignal(python: string, args: string[], parentPid: number | string = process.pid, detached = false): { command: string; args: string[] } {
  if (process.platform !== 'linux') return { command: python, args }
  const boot = [
    'import ctypes, os, runpy, signal, sys',
    `keep = [${detached ? 'True' : 'False'}]`,
    `signal.signal(signal.${DETACH_SIGNAL}, lambda *_: keep.__setitem__(0, True))`,
    'def parent_died(*_):',
    '    if not keep[0]: os.kill(os.getpid(), signal.SIGTERM)',
    "died = getattr(signal, 'SIGRTMIN', 34) + 1",
    'signal.signal(died, parent_died)',
    'ctypes.CDLL(None, use_errno=True).prctl(1, int(died), 0, 0, 0)',
    // the parent may have died before prctl: then there is nothing to wait for
    `os.getppid() == ${parentPid} or keep[0] or os._exit(1)`,
    'mode, target, rest = sys.argv[1], sys.argv[2], sys.argv[3:]',
    "if mode == '-m':",
    '    sys.argv = [target] + rest',
    "    runpy.run_module(target, run_name='__main__', alter_sys=True)",
    'else:',
    "    sys.argv = ['-c'] + rest",
    "    exec(compile(target, '<string>', 'exec'), {'__name__': '__main__'})"
  ].join('\n')
  return { command: python, args: ['-c', boot, ...args] }
}
