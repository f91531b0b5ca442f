/**
 * The supervisor with real processes: a port that is taken is retried on another, an early exit is
 * `failed` with the output's last lines, a crash restarts with backoff, stop kills the group.
 * Also runs the shipped scoring server's Python tests (resources/python/tests) under /usr/bin/python3.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { atelierPythonDir } from '../../pythonPath'
import { httpOk } from '../endpoints/LocalBackend'
import { isAlive } from '../kernels/processTree'
import { freePort, readPidFile, SupervisedProcess } from './Supervisor'

const PYTHON = '/usr/bin/python3'
const noPython = !existsSync(PYTHON) ? `${PYTHON} is missing` : null
const tmp = mkdtempSync(join(tmpdir(), 'atelier-supervisor-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe.skipIf(noPython)('SupervisedProcess', () => {
  it('moves to another port when the first is taken, restarts after kill -9, stops the group', async () => {
    const squatter: Server = createServer()
    const taken = await new Promise<number>((r) => squatter.listen(0, '127.0.0.1', () => r((squatter.address() as { port: number }).port)))
    const states: string[] = []
    const p = new SupervisedProcess({
      pidFile: join(tmp, 'http.pid.json'),
      logFile: join(tmp, 'http.log'),
      restartBaseDelayMs: 100,
      pollMs: 50,
      launch: async (attempt) => {
        const port = attempt === 0 ? taken : await freePort()
        // a child of its own in the group: stop must take it too
        return { command: 'bash', args: ['-c', `sleep 300 & exec ${PYTHON} -m http.server ${port} --bind 127.0.0.1`], meta: { port } }
      },
      health: (meta) => httpOk(Number(meta.port), '/'),
      onState: (s) => states.push(s)
    })
    try {
      await p.start()
      expect(p.state).toBe('running')
      expect(p.meta!.port).not.toBe(taken)
      expect(readPidFile(join(tmp, 'http.pid.json'))!.pid).toBe(p.pid)
      const first = p.pid!
      process.kill(first, 'SIGKILL')
      const deadline = Date.now() + 20_000
      while ((p.state !== 'running' || p.pid === first) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(states).toContain('restarting')
      expect(p.state).toBe('running')
      expect(p.restarts).toBe(1)
      const pid = p.pid!
      await p.stop()
      expect(isAlive(pid)).toBe(false)
      expect(spawnSync('pgrep', ['-g', String(pid)]).stdout.toString().trim()).toBe('')
      expect(existsSync(join(tmp, 'http.pid.json'))).toBe(false)
    } finally {
      squatter.close()
      await p.stop()
    }
  }, 60_000)

  it('a process that exits before it is healthy is failed with its last output lines', async () => {
    const p = new SupervisedProcess({
      pidFile: join(tmp, 'bad.pid.json'),
      logFile: join(tmp, 'bad.log'),
      launch: async () => ({ command: PYTHON, args: ['-c', 'import no_such_module_abc'], meta: {} }),
      health: async () => false
    })
    await p.start()
    expect(p.state).toBe('failed')
    expect(p.error).toContain("No module named 'no_such_module_abc'")
  }, 30_000)
})

const noServingDeps = noPython ?? (spawnSync(PYTHON, ['-c', 'import sklearn, pandas, uvicorn, yaml'], { stdio: 'ignore' }).status !== 0 ? 'scikit-learn/pandas/uvicorn/yaml missing' : null)

describe.skipIf(noServingDeps)('atelier.serving (Python tests)', () => {
  it('passes resources/python/tests/test_serving.py', async () => {
    const dir = atelierPythonDir()!
    const r = await promisify(execFile)(PYTHON, ['-m', 'unittest', '-v', 'tests.test_serving'], { cwd: dir, timeout: 120_000 }).catch((e: { stderr: string }) => e)
    expect(r.stderr).toMatch(/\nOK\s*$/)
  }, 150_000)
})
