/** Running `python -m atelier.builder …` and reading its JSON lines. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { AppError, type ErrorCode } from '../../../shared/errors'
import { atelierPythonEnv } from '../../pythonPath'

export type PyLine = { type: string; [k: string]: unknown }

/** Python's error codes, as the contract's codes (the Python code stays in details.reason). */
export function pyError(line: PyLine): AppError {
  const reason = String(line.code ?? 'BUILDER_FAILED')
  const code: ErrorCode =
    reason === 'BUILDER_PYTHON_MISSING' ? 'BUILDER_PYTHON_MISSING' : ['BUILDER_ALL_FAILED', 'BUILDER_FAILED', 'BUILDER_PREDICT_FAILED'].includes(reason) ? 'BUILDER_FAILED' : 'BUILDER_BAD_INPUT'
  const { type: _t, code: _c, message, ...details } = line
  return new AppError(code, String(message ?? 'The build failed'), { ...details, reason })
}

export interface PyRun {
  done: Promise<PyLine>
  child: ChildProcessWithoutNullStreams
  cancel(): void
}

/** Runs one builder command; `onLine` sees every line; resolves with the `result` line, rejects with the `error` line. */
export function runBuilder(python: string, args: string[], env: Record<string, string>, onLine?: (l: PyLine) => void, cwd?: string): PyRun {
  const child = spawn(python, ['-m', 'atelier.builder', ...args], {
    env: { ...process.env, ...env, ...atelierPythonEnv(), PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '2' },
    cwd,
    detached: process.platform !== 'win32'
  })
  let cancelled = false
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000)
  })
  const done = new Promise<PyLine>((resolve, reject) => {
    let result: PyLine | null = null
    let error: PyLine | null = null
    const rl = createInterface({ input: child.stdout })
    rl.on('line', (text) => {
      let line: PyLine
      try {
        line = JSON.parse(text) as PyLine
      } catch {
        return
      }
      if (line.type === 'result') result = line
      if (line.type === 'error') error = line
      onLine?.(line)
    })
    child.on('error', (err) =>
      reject(new AppError('BUILDER_PYTHON_MISSING', `Could not run ${python}: ${err.message}`, { python, hint: 'Pick another interpreter in the build settings' }))
    )
    child.on('close', (code) => {
      rl.close()
      if (cancelled) return reject(new AppError('CANCELLED', 'The build was cancelled'))
      if (result && code === 0) return resolve(result)
      if (error) return reject(pyError(error))
      const last = stderr.trim().split('\n').slice(-1)[0] ?? ''
      reject(new AppError('BUILDER_FAILED', `The builder stopped (exit ${code}): ${last}`.slice(0, 2000), { stderr: stderr.slice(-4000) }))
    })
  })
  return {
    done,
    child,
    cancel() {
      cancelled = true
      try {
        if (child.pid && process.platform !== 'win32') process.kill(-child.pid, 'SIGTERM')
        else child.kill('SIGTERM')
      } catch {
        child.kill('SIGKILL')
      }
    }
  }
}

/** A long-lived `serve` process answering prediction requests (the form updates as the analyst types). */
export class PredictServer {
  private child: ChildProcessWithoutNullStreams
  private next = 1
  private pending = new Map<number, { resolve: (l: PyLine) => void; reject: (e: Error) => void }>()
  private ready: Promise<void>
  private dead: Error | null = null

  constructor(python: string, buildDir: string) {
    this.child = spawn(python, ['-m', 'atelier.builder', 'serve', buildDir], { env: { ...process.env, ...atelierPythonEnv(), PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '1' } })
    let stderr = ''
    this.child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    let markReady: () => void = () => undefined
    this.ready = new Promise((r) => (markReady = r))
    const rl = createInterface({ input: this.child.stdout })
    rl.on('line', (text) => {
      let line: PyLine
      try {
        line = JSON.parse(text) as PyLine
      } catch {
        return
      }
      if (line.type === 'ready') return markReady()
      const p = this.pending.get(Number(line.id))
      if (!p) return
      this.pending.delete(Number(line.id))
      if (line.type === 'error') p.reject(pyError(line))
      else p.resolve(line)
    })
    this.child.on('close', (code) => {
      this.dead = new AppError('BUILDER_FAILED', `The prediction process stopped (exit ${code}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`)
      markReady()
      for (const p of this.pending.values()) p.reject(this.dead)
      this.pending.clear()
    })
    this.child.on('error', () => undefined)
  }

  get alive(): boolean {
    return this.dead === null
  }

  async predict(candidate: string, row: Record<string, unknown>): Promise<PyLine> {
    await this.ready
    if (this.dead) throw this.dead
    const id = this.next++
    return new Promise<PyLine>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.stdin.write(JSON.stringify({ id, candidate, row }) + '\n')
    })
  }

  close(): void {
    this.child.stdin.end()
    this.child.kill('SIGTERM')
  }
}
