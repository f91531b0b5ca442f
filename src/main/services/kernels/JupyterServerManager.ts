import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import type { JupyterServerState } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import { checkServer, type Endpoint } from './jupyterRest'
import { descendants, isAlive, killAll, waitGone } from './processTree'

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
  private readonly token = randomBytes(24).toString('hex')
  private readonly exitHook = () => this.killNow()

  constructor(private readonly o: LocalServerOptions) {}

  get pid(): number | undefined {
    return this.child?.pid
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
    this.stderr = []
    const child = spawn(this.o.python, ['-m', mod, '--no-browser', ...args], {
      cwd: this.o.rootDir,
      env: { ...process.env, ...this.o.env, JUPYTER_TOKEN: this.token, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false
    })
    this.child = child
    process.off('exit', this.exitHook)
    process.on('exit', this.exitHook)
    const keep = (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) if (line.trim()) this.stderr.push(line.replace(/token=\w+/g, 'token=…'))
      if (this.stderr.length > 60) this.stderr.splice(0, this.stderr.length - 60)
    }
    child.stderr!.on('data', keep)
    child.stdout!.on('data', keep)
    let exited: string | null = null
    child.once('error', (err) => (exited = err.message))
    child.once('exit', (code, signal) => {
      exited = exited ?? `exited with ${signal ?? `code ${code}`}`
      this.onExit(child)
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
    this.o.log.info(`jupyter server ready at ${ep.baseUrl} (pid ${child.pid}, ${this.o.python} -m ${mod})`)
    return ep
  }

  lastLines(n = 12): string {
    return this.stderr.slice(-n).join('\n')
  }

  private onExit(child: ChildProcess) {
    if (child !== this.child) return
    process.off('exit', this.exitHook)
    const wasReady = this.state === 'ready'
    this.child = null
    this.endpoint = null
    if (this.stopping || !wasReady) return
    // Kernels of a dead server would otherwise linger: they are lost with it.
    killAll(descendants(child.pid ?? -1), 'SIGKILL')
    if (Date.now() - this.readyAt > 60_000) this.restarts = 0
    const message = `The Jupyter server exited unexpectedly (${child.exitCode ?? child.signalCode}); its kernels were lost.\n${this.lastLines(6)}`
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
    const pid = this.child?.pid
    if (!pid) return
    killAll([...descendants(pid), pid], 'SIGKILL')
  }

  /** Stops the server and its kernels: /api/shutdown, then SIGTERM, then SIGKILL of the whole tree. */
  async stop(): Promise<void> {
    this.stopping = true
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
    await this.starting?.catch(() => {})
    const child = this.child
    const pid = child?.pid
    if (child && pid) {
      const tree = [...descendants(pid), pid]
      const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())))
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
    this.endpoint = null
    if (this.state !== 'stopped') this.setState('stopped')
  }
}
