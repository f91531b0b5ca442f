/**
 * Python clients against the loopback REST server: a urllib-only client (Debian's /usr/bin/python3)
 * and, where it is installed, the real `mlflow` package. Each skips with a message when missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createTrackingHarness, type TrackingHarness } from './testing'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const hasPython = existsSync(PYTHON)
const pythonWithMlflow = (() => {
  for (const py of [process.env.ATELIER_TEST_PYTHON, 'python3', PYTHON].filter(Boolean) as string[]) {
    const r = spawnSync(py, ['-c', 'import mlflow'], { stdio: 'ignore', timeout: 60_000 })
    if (r.status === 0) return py
  }
  return null
})()

let h: TrackingHarness
beforeAll(async () => {
  h = await createTrackingHarness()
})
afterAll(async () => {
  await h?.cleanup()
})

const env = () => ({ ...process.env, ...h.tracking.trackingEnv(), NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' })

describe('Python clients', () => {
  it('a urllib-only client logs 20 runs of 1,000-step metrics, params and artifacts', async (ctx) => {
    if (!hasPython) {
      console.warn(`skipping the urllib client test: ${PYTHON} is missing`)
      ctx.skip(`${PYTHON} is missing: the urllib client test needs Debian's python3`)
    }
    expect(h.tracking.trackingEnv()).toEqual({ MLFLOW_TRACKING_URI: h.base, MLFLOW_TRACKING_TOKEN: h.token })
    const { stdout } = await run(PYTHON, [join(__dirname, 'testdata', 'rest_client.py')], { env: env(), timeout: 120_000 })
    const summary = JSON.parse(stdout.trim().split('\n').pop()!)
    expect(summary).toEqual({
      experiment_id: expect.any(String),
      runs: 20,
      first: 'trial-19',
      params_per_run: 2,
      history: 1000,
      steps_in_order: true,
      artifacts: ['report.txt'],
      rf: 10
    })
    // and the database agrees
    const n = (sql: string) => (h.db.prepare(sql).get(Number(summary.experiment_id)) as { n: number }).n
    expect(n('SELECT count(*) n FROM tracking_runs WHERE experiment_id = ?')).toBe(20)
    expect(n("SELECT count(*) n FROM tracking_metrics m JOIN tracking_runs r ON r.id = m.run_id WHERE r.experiment_id = ? AND m.key = 'loss'")).toBe(20_000)
    expect(n('SELECT count(*) n FROM tracking_params p JOIN tracking_runs r ON r.id = p.run_id WHERE r.experiment_id = ?')).toBe(40)
    expect(existsSync(join(h.dataDir, 'artifacts', summary.experiment_id))).toBe(true)
  })

  it('the real mlflow client works with only MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN set', async (ctx) => {
    if (!pythonWithMlflow) {
      console.warn('skipping the real mlflow client test: `python3 -c "import mlflow"` fails (no PyPI here); set ATELIER_TEST_PYTHON to an interpreter with mlflow')
      ctx.skip('the mlflow Python package is not installed (no PyPI here); set ATELIER_TEST_PYTHON to an interpreter that has it')
    }
    const { stdout } = await run(pythonWithMlflow!, [join(__dirname, 'testdata', 'mlflow_client.py')], { env: env(), timeout: 300_000 })
    const s = JSON.parse(stdout.trim().split('\n').pop()!)
    expect(s.status).toBe('FINISHED')
    expect(s.params).toEqual({ alpha: '0.5', model: 'rf', depth: '7' })
    expect(s.metrics).toEqual(['acc', 'f1', 'loss'])
    expect(s.tags_team).toBe('atelier')
    expect(s.search).toContain(s.run_id)
    expect(s.history).toBe(50)
    expect(s.artifacts).toEqual(['notes.txt', 'sub'])
    expect(s.downloaded).toBe('hello from mlflow')
  })
})
