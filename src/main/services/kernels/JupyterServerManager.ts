import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname } from 'node:path'
import type { JupyterServerState } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { checkServer, type Endpoint } from './jupyterRest'
import { descendants, isAlive, killAll, waitGone } from './processTree'
import { DETACH_SIGNAL, withParentDeathSignal, type LifetimeSetting } from './serverRecord'

export interface LocalServerOptions {
  python: string
  /** jupyter_server importable (else `-m notebook` is used). */
  hasJupyterServer: boolean
  rootDir: string
  /** Injected into the server's environment, so every kernel inherits it. */
  env: Record<string, string>
  log: Logger
  startTimeoutMs?: number
  /** Restarts after an unexpected exit before giving up (state 'failed'). */
  maxRestarts?: number
  restartBaseDelayMs?: number
  onState?: (state: JupyterServerState, message?: string) => void
  /** Reuse this token (the one recorded for the server); else a random one. */
  token?: string
  /** Stop with the app (parent-death signal, killed at exit) or keep running with an idle timeout. */
  lifetime?: LifetimeSetting
  /** The server's stdout and stderr go here (not to a pipe), so it can outlive the app. */
  logFile?: string
  /** A server started (after it answers): record it. */
  onLaunched?: (pid: number, endpoint: Endpoint) => void
  /** The server is gone for good (stopped, or exited while idle): forget the record. */
  onGone?: () => void
  /** Whether kernels live on the server: an exit without kernels (its idle timeout) is not a loss. */
  hasKernels?: () => boolean
  /** How often an adopted server (not our child) is checked for life. */
  watchMs?: number
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/**
 * The Jupyter server the app starts on loopback from a discovered Python: free port, random token
 * (given through JUPYTER_TOKEN so it is not visible in the process list), health-checked until it
 * answers, restarted with backoff when it dies, and stopped with its whole process tree.
 */
export class JupyterServerManager {
  state: JupyterServerState = 'stopped'
  endpoint: Endpoint | null = null
  private child: ChildProcess | null = null
  private stderr: string[] = []
  private stopping = false
  private starting: Promise<Endpoint> | null = null
  private restarts = 0
  private restartTimer: NodeJS.Timeout | null = null
  private readyAt = 0
  private readonly token: string
  private readonly exitHook = () => this.killNow()
  /** A server started by an earlier run of the app and adopted: its pid, watched by polling. */
  private adoptedPid: number | null = null
  private watch: NodeJS.Timeout | null = null

  constructor(private readonly o: LocalServerOptions) {
    this.token = o.token ?? randomBytes(24).toString('hex')
  }

  get pid(): number | undefined {
    return this.child?.pid ?? this.adoptedPid ?? undefined
  }

  get stopsWithApp(): boolean {
    return this.stopWithApp
  }

  private get stopWithApp(): boolean {
    return (this.o.lifetime?.lifetime ?? 'stop-with-app') === 'stop-with-app'
  }

  /**
   * Takes over a server an earlier run started (it answered with its token): no process is started,
   * its kernels keep running. Its death is noticed by polling, since it is not our child.
   */
  adopt(pid: number, endpoint: Endpoint): void {
    this.adoptedPid = pid
    this.endpoint = endpoint
    this.readyAt = Date.now()
    this.stopping = false
    this.watchAdopted(pid)
    if (this.stopWithApp) {
      process.off('exit', this.exitHook)
      process.on('exit', this.exitHook)
    }
    this.setState('ready', 'Re-attached to the Jupyter server started earlier.')
  }

  private watchAdopted(pid: number) {
    if (this.watch) clearInterval(this.watch)
    this.watch = setInterval(() => {
      if (isAlive(pid)) return
      if (this.watch) clearInterval(this.watch)
      this.watch = null
      if (this.adoptedPid !== pid) return
      this.adoptedPid = null
      this.onExit(null, pid, 'gone')
    }, this.o.watchMs ?? 1000)
    this.watch.unref()
  }

  /**
   * Lets the server live on after the app: stops watching it and leaves it running, with its record,
   * to be adopted next time. A server this run started is detached from the app's parent-death
   * signal first, so the app's exit does not stop it.
   */
  release(): void {
    if (this.child?.pid && this.child.exitCode === null && this.child.signalCode === null && process.platform === 'linux') {
      try {
        process.kill(this.child.pid, DETACH_SIGNAL)
      } catch {
        // already gone
      }
    }
    this.stopping = true
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
    if (this.watch) clearInterval(this.watch)
    this.watch = null
    process.off('exit', this.exitHook)
    this.child?.removeAllListeners('exit')
    this.child?.unref()
    this.child = null
    this.adoptedPid = null
    this.endpoint = null
  }

  private setState(state: JupyterServerState, message?: string) {
    this.state = state
    this.o.onState?.(state, message)
  }

  /** Starts the server (once) and resolves when it answers /api/status. */
  start(): Promise<Endpoint> {
    if (this.state === 'ready' && this.endpoint) return Promise.resolve(this.endpoint)
    if (!this.starting) {
      this.stopping = false
      this.setState('starting')
      this.starting = this.launch()
        .then((ep) => {
          this.setState('ready')
          return ep
        })
        .catch((err) => {
          this.setState('failed', (err as Error).message)
          throw err
        })
        .finally(() => {
          this.starting = null
        })
    }
    return this.starting
  }

  private async launch(): Promise<Endpoint> {
    const modules = this.o.hasJupyterServer ? ['jupyter_server', 'notebook'] : ['notebook']
    let lastErr: unknown
    for (const mod of modules) {
      try {
        return await this.launchWith(mod)
      } catch (err) {
        lastErr = err
        if (!/No module named/.test((err as Error).message)) break
      }
    }
    throw lastErr
  }

  private async launchWith(mod: string): Promise<Endpoint> {
    const port = await freePort()
    const args =
      mod === 'jupyter_server'
        ? [
            `--ServerApp.port=${port}`,
            '--ServerApp.port_retries=0',
            '--ServerApp.ip=127.0.0.1',
            `--ServerApp.root_dir=${this.o.rootDir}`,
            '--ServerApp.open_browser=False'
          ]
        : [`--port=${port}`, '--port-retries=0', '--ip=127.0.0.1', `--notebook-dir=${this.o.rootDir}`]
    if (process.getuid?.() === 0) args.push('--allow-root')
    args.push(...lifetimeArgs(mod, this.o.lifetime))
    this.stderr = []
    const argv = ['-m', mod, '--no-browser', ...args]
    // always under the detachable parent-death signal: a server that stops with the app can still be
    // kept running at quit (release), and one kept running from the start is detached already
    const cmd = withParentDeathSignal(this.o.python, argv, process.pid, !this.stopWithApp)
    // Output goes to a file, not a pipe: a server that outlives the app must not write into a closed pipe.
    let out: number | 'pipe' = 'pipe'
    if (this.o.logFile) {
      mkdirSync(dirname(this.o.logFile), { recursive: true, mode: 0o700 })
      out = openSync(this.o.logFile, 'w', 0o600)
    }
    const child = spawn(cmd.command, cmd.args, {
      cwd: this.o.rootDir,
      env: { ...process.env, ...this.o.env, JUPYTER_TOKEN: this.token, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      stdio: ['ignore', out, out],
      // its own process group: a signal to the app's terminal does not reach it, and it can be killed as a group
      detached: true,
      windowsHide: true
    })
    if (typeof out === 'number') closeSync(out)
    this.child = child
    this.adoptedPid = null
    process.off('exit', this.exitHook)
    if (this.stopWithApp) process.on('exit', this.exitHook)
    const keep = (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) if (line.trim()) this.stderr.push(line.replace(/token=\w+/g, 'token=…'))
      if (this.stderr.length > 60) this.stderr.splice(0, this.stderr.length - 60)
    }
    child.stderr?.on('data', keep)
    child.stdout?.on('data', keep)
    let exited: string | null = null
    child.once('error', (err) => (exited = err.message))
    child.once('exit', (code, signal) => {
      exited = exited ?? `exited with ${signal ?? `code ${code}`}`
      this.onExit(child, child.pid ?? -1, String(code ?? signal))
    })
    const ep = { baseUrl: `http://127.0.0.1:${port}/`, token: this.token }
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 60_000)
    for (;;) {
      if (exited !== null) {
        throw new AppError('JUPYTER_UNAVAILABLE', `The Jupyter server (${this.o.python} -m ${mod}) ${exited} while starting:\n${this.lastLines()}`, {
          python: this.o.python,
          stderr: this.lastLines()
        })
      }
      try {
        await checkServer(ep, 1000)
        break
      } catch (err) {
        if (Date.now() > deadline) {
          this.killNow()
          throw new AppError(
            'JUPYTER_UNAVAILABLE',
            `The Jupyter server (${this.o.python} -m ${mod}) did not answer within ${Math.round((this.o.startTimeoutMs ?? 60_000) / 1000)} s: ${(err as Error).message}\n${this.lastLines()}`,
            { python: this.o.python, stderr: this.lastLines() }
          )
        }
        await new Promise((r) => setTimeout(r, 150))
      }
    }
    this.endpoint = ep
    this.readyAt = Date.now()
    this.o.log.info(`jupyter server ready at ${ep.baseUrl} (pid ${child.pid}, ${this.o.python} -m ${mod}, ${this.stopWithApp ? 'stops with the app' : 'keeps running'})`)
    this.o.onLaunched?.(child.pid!, ep)
    return ep
  }

  lastLines(n = 12): string {
    if (this.o.logFile) {
      try {
        const text = readFileSync(this.o.logFile, 'utf8')
        return text
          .split('\n')
          .filter((l) => l.trim())
          .slice(-n)
          .map((l) => l.replace(/token=\w+/g, 'token=…'))
          .join('\n')
      } catch {
        return ''
      }
    }
    return this.stderr.slice(-n).join('\n')
  }

  private onExit(child: ChildProcess | null, pid: number, how: string) {
    if (child && child !== this.child) return
    process.off('exit', this.exitHook)
    const wasReady = this.state === 'ready'
    this.child = null
    this.endpoint = null
    if (this.stopping || !wasReady) return
    // Kernels of a dead server would otherwise linger: they are lost with it.
    killAll(descendants(pid), 'SIGKILL')
    if (this.o.hasKernels && !this.o.hasKernels()) {
      // nothing was lost (e.g. its idle timeout ended it): started again when next needed
      this.o.onGone?.()
      this.setState('stopped', 'The Jupyter server stopped (no kernels were running).')
      return
    }
    if (Date.now() - this.readyAt > 60_000) this.restarts = 0
    const message = `The Jupyter server exited unexpectedly (${how}); its kernels were lost.\n${this.lastLines(6)}`
    this.o.log.warn(message)
    this.setState('lost', message)
    if (this.restarts >= (this.o.maxRestarts ?? 5)) {
      this.setState('failed', `The Jupyter server kept exiting; gave up after ${this.restarts} restarts.`)
      return
    }
    const delay = Math.min((this.o.restartBaseDelayMs ?? 500) * 2 ** this.restarts, 10_000)
    this.restarts++
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      if (this.stopping) return
      this.setState('restarting')
      this.starting = this.launch()
        .then((ep) => {
          this.setState('ready', 'The Jupyter server was restarted.')
          return ep
        })
        .catch((err) => {
          this.setState('failed', (err as Error).message)
          throw err
        })
        .finally(() => {
          this.starting = null
        })
      this.starting.catch(() => {})
    }, delay)
  }

  /** Synchronous last resort (process exit): SIGKILL the server and every process under it. */
  private killNow() {
    const pid = this.pid
    if (!pid || !this.stopWithApp) return
    killAll([...descendants(pid), pid], 'SIGKILL')
    this.o.onGone?.()
  }

  /** Stops the server and its kernels: /api/shutdown, then SIGTERM, then SIGKILL of the whole tree. */
  async stop(): Promise<void> {
    this.stopping = true
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
    await this.starting?.catch(() => {})
    if (this.watch) clearInterval(this.watch)
    this.watch = null
    const child = this.child
    const pid = this.pid
    if (pid) {
      const tree = [...descendants(pid), pid]
      const exited = child
        ? new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())))
        : waitGone([pid], 60_000).then(() => {})
      const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])
      if (this.endpoint) {
        await fetch(new URL('api/shutdown', this.endpoint.baseUrl), {
          method: 'POST',
          headers: { Authorization: `token ${this.endpoint.token}` },
          signal: AbortSignal.timeout(2000)
        }).catch(() => {})
      }
      if (!(await within(5000))) {
        killAll([pid], 'SIGTERM')
        if (!(await within(3000))) killAll([pid], 'SIGKILL')
      }
      const left = tree.filter(isAlive)
      killAll(left, 'SIGKILL')
      await waitGone(left, 3000)
    }
    process.off('exit', this.exitHook)
    this.child = null
    this.adoptedPid = null
    this.endpoint = null
    this.o.onGone?.()
    if (this.state !== 'stopped') this.setState('stopped')
  }
}

/**
 * Jupyter options for the idle timeout: a server culls the kernels no client is attached to (the app
 * is gone) once idle for `idleHours`, and shuts itself down when it has had no kernel and no activity
 * for as long (Jupyter checks every minute), which follows the last cull at once. Given whatever the
 * lifetime: a server that stops with the app may still be kept running when the app quits.
 */
export function lifetimeArgs(mod: string, l: LifetimeSetting | undefined): string[] {
  if (!l || !(l.idleHours > 0)) return []
  const secs = Math.max(60, Math.round(l.idleHours * 3600))
  const app = mod === 'jupyter_server' ? 'ServerApp' : 'NotebookApp'
  return [
    `--MappingKernelManager.cull_idle_timeout=${secs}`,
    `--MappingKernelManager.cull_interval=${Math.min(300, Math.max(10, Math.round(secs / 10)))}`,
    '--MappingKernelManager.cull_connected=False',
    `--${app}.shutdown_no_activity_timeout=${secs}`
  ]
}
