/**
 * One supervisor for long-lived child processes (scoring servers now; Jupyter servers and local jobs
 * can move onto it): start in a process group of its own that outlives the app, a health check
 * that decides `running`, a pid file in the data dir so a later app re-attaches instead of starting
 * a second copy, restarts with exponential backoff after a crash, and a stop that kills the whole
 * group (SIGTERM, then SIGKILL after a grace period).
 *
 * A process that exits before it ever passed its health check is `failed` with the last lines of
 * its output (a model that cannot be loaded prints its Python traceback there), not restarted:
 * that would only repeat the error. An exit whose output says the port was taken is retried at
 * once on a fresh port.
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, readSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname } from 'node:path'
import { isAlive } from '../kernels/processTree'

export type SupervisedState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped'

export interface LaunchSpec {
  command: string
  args: string[]
  env?: Record<string, string>
  cwd?: string
  /** Recorded in the pid file and handed back on re-attach (the port, say). */
  meta: Record<string, unknown>
}

export interface PidFile {
  pid: number
  startedAt: number
  meta: Record<string, unknown>
}

export interface SupervisorOptions {
  /** Where the pid file is written (`<dataDir>/…/<name>.pid.json`). */
  pidFile: string
  /** Where stdout and stderr go (appended; survives the app). */
  logFile: string
  /** Builds the command for each start (a fresh port each time, say). */
  launch: (attempt: number) => Promise<LaunchSpec>
  /** true once the process serves (called with the launch's meta). */
  health: (meta: Record<string, unknown>) => Promise<boolean>
  startTimeoutMs?: number
  /** Restarts after crashes before giving up; the count resets after `stableMs` of running. */
  maxRestarts?: number
  restartBaseDelayMs?: number
  restartMaxDelayMs?: number
  stableMs?: number
  /** How often a running process is checked for being alive. */
  pollMs?: number
  graceMs?: number
  onState?: (state: SupervisedState, info: { error?: string; meta: Record<string, unknown> | null; pid: number | null }) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A free TCP port on `host` (the kernel of truth is the bind; a racing taker is handled by retry). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** The last `lines` lines of a file (reads at most its last 64 KiB). */
export function tailFile(path: string, lines = 15): string {
  try {
    const size = statSync(path).size
    const len = Math.min(size, 64 * 1024)
    const buf = Buffer.alloc(len)
    const fd = openSync(path, 'r')
    try {
      readSync(fd, buf, 0, len, size - len)
    } finally {
      closeSync(fd)
    }
    return buf.toString('utf8').split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

export function readPidFile(path: string): PidFile | null {
  try {
    const p = JSON.parse(readFileSync(path, 'utf8')) as PidFile
    return Number.isInteger(p.pid) && p.pid > 0 ? p : null
  } catch {
    return null
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // gone
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return isAlive(pid)
  }
}

export class SupervisedProcess {
  state: SupervisedState = 'stopped'
  error: string | undefined
  pid: number | null = null
  meta: Record<string, unknown> | null = null
  restarts = 0
  private runningSince = 0
  private timer: NodeJS.Timeout | null = null
  private generation = 0
  private starting: Promise<void> | null = null

  constructor(private readonly o: SupervisorOptions) {}

  private set(state: SupervisedState, error?: string) {
    this.state = state
    this.error = error
    this.o.onState?.(state, { error, meta: this.meta, pid: this.pid })
  }

  /** Starts the process (or re-attaches to the one the pid file names) and resolves once it is healthy or failed. */
  start(): Promise<void> {
    if (this.starting) return this.starting
    if (this.state === 'running') return Promise.resolve()
    const gen = ++this.generation
    this.starting = this.startNow(gen).finally(() => {
      this.starting = null
    })
    return this.starting
  }

  /** Re-attaches to a live process from an earlier app; false when there is none (the pid file is removed). */
  async attach(): Promise<boolean> {
    const p = readPidFile(this.o.pidFile)
    if (!p || !isAlive(p.pid)) {
      rmSync(this.o.pidFile, { force: true })
      return false
    }
    this.pid = p.pid
    this.meta = p.meta
    const gen = ++this.generation
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 60_000)
    this.set('starting')
    while (Date.now() < deadline && gen === this.generation) {
      if (!isAlive(p.pid)) break
      if (await this.o.health(p.meta).catch(() => false)) {
        this.running(gen)
        return true
      }
      await sleep(200)
    }
    if (gen !== this.generation) return true
    // alive but never healthy, or gone: start over
    killGroup(p.pid, 'SIGKILL')
    rmSync(this.o.pidFile, { force: true })
    this.pid = null
    return false
  }

  private async startNow(gen: number): Promise<void> {
    this.set(this.restarts > 0 ? 'restarting' : 'starting')
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await this.launchOnce(gen, attempt)
      if (gen !== this.generation) return
      if (outcome === 'ok') return this.running(gen)
      if (outcome === 'port') continue
      this.pid = null
      rmSync(this.o.pidFile, { force: true })
      return this.set('failed', outcome.error)
    }
    this.set('failed', 'could not find a free port after 5 tries')
  }

  private async launchOnce(gen: number, attempt: number): Promise<'ok' | 'port' | { error: string }> {
    const spec = await this.o.launch(attempt)
    mkdirSync(dirname(this.o.logFile), { recursive: true })
    mkdirSync(dirname(this.o.pidFile), { recursive: true })
    writeFileSync(this.o.logFile, '')
    const out = openSync(this.o.logFile, 'a')
    let exited = false
    let exitCode: number | null = null
    let exitSignal: string | null = null
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', out, out],
        detached: true
      })
      child.unref()
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve())
        child.once('error', reject)
      }).catch((err: Error) => {
        throw new Error(`could not start ${spec.command}: ${err.message}`)
      })
      child.once('exit', (code, signal) => {
        exited = true
        exitCode = code
        exitSignal = signal
      })
      this.pid = child.pid!
      this.meta = spec.meta
      const pf: PidFile = { pid: child.pid!, startedAt: Date.now(), meta: spec.meta }
      writeFileSync(`${this.o.pidFile}.tmp`, JSON.stringify(pf))
      renameSync(`${this.o.pidFile}.tmp`, this.o.pidFile)
    } catch (err) {
      return { error: (err as Error).message }
    } finally {
      closeSync(out)
    }
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 60_000)
    while (gen === this.generation) {
      if (exited) {
        const tail = tailFile(this.o.logFile)
        if (/address already in use|errno 98/i.test(tail) && attempt < 4) return 'port'
        return { error: `${tail || '(no output)'}\n(exited ${exitSignal ? `on signal ${exitSignal}` : `with code ${exitCode}`} before it answered)` }
      }
      if (await this.o.health(this.meta!).catch(() => false)) return 'ok'
      if (Date.now() > deadline) {
        killGroup(this.pid!, 'SIGKILL')
        return { error: `${tailFile(this.o.logFile) || '(no output)'}\n(did not answer its health check within ${Math.round((this.o.startTimeoutMs ?? 60_000) / 1000)} s)` }
      }
      await sleep(100)
    }
    return 'ok'
  }

  private running(gen: number) {
    this.runningSince = Date.now()
    this.set('running')
    const poll = () => {
      if (gen !== this.generation) return
      if (this.pid !== null && isAlive(this.pid)) {
        if (this.restarts > 0 && Date.now() - this.runningSince > (this.o.stableMs ?? 60_000)) this.restarts = 0
        this.timer = setTimeout(poll, this.o.pollMs ?? 250)
        return
      }
      this.crashed(gen)
    }
    this.timer = setTimeout(poll, this.o.pollMs ?? 250)
  }

  private crashed(gen: number) {
    const tail = tailFile(this.o.logFile, 5)
    if (this.pid !== null) killGroup(this.pid, 'SIGKILL') // the rest of its group
    this.pid = null
    if (this.restarts >= (this.o.maxRestarts ?? 5)) {
      rmSync(this.o.pidFile, { force: true })
      return this.set('failed', `crashed ${this.restarts + 1} times; last output:\n${tail}`)
    }
    const delay = Math.min((this.o.restartBaseDelayMs ?? 500) * 2 ** this.restarts, this.o.restartMaxDelayMs ?? 30_000)
    this.restarts++
    this.set('restarting', `the process ended unexpectedly; restarting in ${delay} ms`)
    this.timer = setTimeout(() => {
      if (gen !== this.generation) return
      const next = ++this.generation
      this.starting = this.startNow(next).finally(() => {
        this.starting = null
      })
    }, delay)
  }

  /** Stops the process group (TERM, then KILL after the grace period) and removes the pid file. */
  async stop(): Promise<void> {
    this.generation++
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const pid = this.pid ?? readPidFile(this.o.pidFile)?.pid ?? null
    if (pid !== null) {
      killGroup(pid, 'SIGTERM')
      const deadline = Date.now() + (this.o.graceMs ?? 5000)
      while (Date.now() < deadline && groupAlive(pid)) await sleep(50)
      if (groupAlive(pid)) killGroup(pid, 'SIGKILL')
    }
    rmSync(this.o.pidFile, { force: true })
    this.pid = null
    this.restarts = 0
    this.set('stopped')
  }

  /** Stops watching without stopping the process (the app quits; a later app re-attaches). */
  detach(): void {
    this.generation++
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  get pidFileExists(): boolean {
    return existsSync(this.o.pidFile)
  }
}
