/**
 * Scoring servers on this machine: `mlflow models serve` where the interpreter can import
 * `mlflow`, else the shipped `atelier.serving` on uvicorn. Each is a supervised process group with
 * a pid file under `<dataDir>/endpoints/run/`, so a restarted app re-attaches to it.
 */
import { execFile } from 'node:child_process'
import { request } from 'node:http'
import { join } from 'node:path'
import { atelierPythonEnv } from '../../pythonPath'
import { freePort, SupervisedProcess, type SupervisorOptions } from '../supervisor/Supervisor'
import type { EndpointBackend, StartRequest, VariantRuntime, VariantRuntimeInfo } from './backend'

export interface LocalBackendOptions {
  runDir: string
  startTimeoutMs?: number
  restartBaseDelayMs?: number
  maxRestarts?: number
  pollMs?: number
  /** Use the shipped server even where mlflow is installed (tests, bench). */
  preferShipped?: boolean
}

/** GET <path> on loopback answers 200 within a second. */
export function httpOk(port: number, path = '/ping', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

export class LocalBackend implements EndpointBackend {
  readonly kind = 'local' as const
  private readonly hasMlflow = new Map<string, Promise<boolean>>()

  constructor(private readonly o: LocalBackendOptions) {}

  private mlflowIn(python: string): Promise<boolean> {
    if (this.o.preferShipped) return Promise.resolve(false)
    let p = this.hasMlflow.get(python)
    if (!p) {
      p = new Promise((resolve) => execFile(python, ['-c', 'import mlflow'], { timeout: 60_000 }, (err) => resolve(!err)))
      this.hasMlflow.set(python, p)
    }
    return p
  }

  async start(req: StartRequest): Promise<VariantRuntime> {
    const mlflow = await this.mlflowIn(req.interpreter)
    const server: 'mlflow' | 'atelier' = mlflow ? 'mlflow' : 'atelier'
    const opts: SupervisorOptions = {
      pidFile: join(this.o.runDir, `${req.key}.pid.json`),
      logFile: join(this.o.runDir, `${req.key}.log`),
      startTimeoutMs: this.o.startTimeoutMs ?? 120_000,
      restartBaseDelayMs: this.o.restartBaseDelayMs ?? 500,
      maxRestarts: this.o.maxRestarts ?? 8,
      pollMs: this.o.pollMs ?? 200,
      launch: async () => {
        const port = await freePort()
        const args = mlflow
          ? ['-m', 'mlflow', 'models', 'serve', '-m', req.modelDir, '-h', '127.0.0.1', '-p', String(port), '--env-manager', 'local', '-w', '1']
          : ['-m', 'atelier.serving', '--model-dir', req.modelDir, '--host', '127.0.0.1', '--port', String(port)]
        return { command: req.interpreter, args, env: { ...atelierPythonEnv(), PYTHONUNBUFFERED: '1' }, meta: { port, server, modelDir: req.modelDir } }
      },
      health: (meta) => httpOk(Number(meta.port)),
      onState: () => req.onChange()
    }
    const proc = new SupervisedProcess(opts)
    const ready = (async () => {
      if (!(await proc.attach())) await proc.start()
    })()
    return {
      key: req.key,
      info(): VariantRuntimeInfo {
        return { state: proc.state, error: proc.error, port: proc.meta ? Number(proc.meta.port) : null, pid: proc.pid, restarts: proc.restarts, server }
      },
      target() {
        return proc.state === 'running' && proc.meta ? { host: '127.0.0.1', port: Number(proc.meta.port) } : null
      },
      ready: () => ready.then(() => undefined),
      stop: async () => {
        await ready.catch(() => undefined)
        await proc.stop()
      },
      detach: () => proc.detach()
    }
  }
}
