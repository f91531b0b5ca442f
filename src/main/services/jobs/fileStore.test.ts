import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { emptyOffsets, fileStoreSeed, listRunFiles, parseMetricLines, readNew, type FileStoreOffsets } from './fileStore'
import { LocalRunner } from './runners'
import { atelierPythonDir } from '../../pythonPath'
import type { Runner } from './types'

const PY = '/usr/bin/python3'

describe('file store metrics lines', () => {
  it('takes whole lines only and says how far they reach', () => {
    const r = parseMetricLines('loss', Buffer.from('1700000000000 0.5 0\n1700000000100 0.25 1\n1700000000200 0.1'))
    expect(r.points).toEqual([
      { key: 'loss', timestamp: 1700000000000, value: 0.5, step: 0 },
      { key: 'loss', timestamp: 1700000000100, value: 0.25, step: 1 }
    ])
    expect(r.bytes).toBe('1700000000000 0.5 0\n1700000000100 0.25 1\n'.length)
    expect(parseMetricLines('loss', Buffer.from('1700000000200 0.1'))).toEqual({ points: [], bytes: 0, bad: 0 })
  })

  it("reads MLflow's values (repr floats, nan, ±inf), the old two-field lines, and counts lines it cannot read", () => {
    const text = ['5 1e-05 3', '6 nan 4', '7 inf 5', '8 -inf 6', '9 2.5', 'garbage', '10 x 1', '11 1.0 2 extra', '12 0.5 1.5', ''].join('\n')
    const r = parseMetricLines('m', Buffer.from(text))
    expect(r.points.map((p) => [p.timestamp, p.value, p.step])).toEqual([
      [5, 1e-5, 3],
      [6, NaN, 4],
      [7, Infinity, 5],
      [8, -Infinity, 6],
      [9, 2.5, 0]
    ])
    expect(r.bad).toBe(4)
    expect(r.bytes).toBe(text.length)
  })
})

/** A runner that reaches this machine the way a remote one does: listing with one `find` through sh, reads by range. */
function remoteLike(): Runner {
  const r = new LocalRunner()
  Object.defineProperty(r, 'local', { value: false })
  return r
}

describe.each([
  ['this machine (file system)', () => new LocalRunner() as Runner],
  ['a remote target (find + ranged reads)', remoteLike]
])('ingesting a run folder from %s', (_label, makeRunner) => {
  let dir: string
  let runDir: string
  let runner: Runner
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-filestore-'))
    runDir = join(dir, 'mlruns', '3', 'abc123')
    runner = makeRunner()
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const write = (rel: string, text: string, append = true) => {
    mkdirSync(dirname(join(runDir, rel)), { recursive: true })
    if (append) appendFileSync(join(runDir, rel), text)
    else writeFileSync(join(runDir, rel), text)
  }

  it('reads from each file’s offset, leaves a line being written for later, and adds nothing twice', async () => {
    expect(await readNew(runner, runDir, emptyOffsets())).toMatchObject({ metrics: [], params: [], tags: [] })
    write('metrics/loss', '100 1.0 0\n101 0.5 1\n102 0.2')
    write('metrics/eval/acc', '100 0.1 0\n')
    write('params/lr', '0.01', false)
    write('tags/phase', 'warmup', false)
    const a = await readNew(runner, runDir, emptyOffsets())
    expect(a.metrics.map((m) => `${m.key}@${m.step}=${m.value}`).sort()).toEqual(['eval/acc@0=0.1', 'loss@0=1', 'loss@1=0.5'])
    expect(a.params).toEqual([{ key: 'lr', value: '0.01' }])
    expect(a.tags).toEqual([{ key: 'phase', value: 'warmup' }])
    expect(a.offsets).toEqual({ metrics: { loss: 20, 'eval/acc': 10 }, params: { lr: 4 }, tags: { phase: 6 } })
    // nothing new: the same offsets, nothing read again
    const again = await readNew(runner, runDir, a.offsets)
    expect([again.metrics, again.params, again.tags]).toEqual([[], [], []])
    expect(again.offsets).toEqual(a.offsets)
    // the line is finished, another follows; a tag changes, the param is logged again with its value
    write('metrics/loss', '5 2\n103 0.1 3\n')
    write('tags/phase', 'train', false)
    const b = await readNew(runner, runDir, a.offsets)
    expect(b.metrics.map((m) => [m.step, m.value])).toEqual([
      [2, 0.25],
      [3, 0.1]
    ])
    expect(b.params).toEqual([])
    expect(b.tags).toEqual([{ key: 'phase', value: 'train' }])
    expect(b.offsets.metrics.loss).toBe(readFileSync(join(runDir, 'metrics/loss')).length)
  })

  it('reads a large backlog in bounded pieces and says there is more', async () => {
    write('metrics/loss', Array.from({ length: 1000 }, (_, i) => `${1000 + i} ${i / 1000} ${i}\n`).join(''))
    let offsets: FileStoreOffsets = emptyOffsets()
    const steps: number[] = []
    for (let i = 0; i < 100; i++) {
      const r = await readNew(runner, runDir, offsets, 4096)
      steps.push(...r.metrics.map((m) => Number(m.step)))
      offsets = r.offsets
      if (!r.more) break
    }
    expect(steps).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  it('lists metrics, params and tags with their sizes, not temporary files', async () => {
    write('metrics/a/b', '1 2 3\n')
    write('params/p', 'v', false)
    write('params/p.tmp-123', 'half', false)
    write('artifacts/model.pkl', 'x', false)
    expect((await listRunFiles(runner, runDir)).sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'metrics/a/b', size: 6 },
      { path: 'params/p', size: 1 }
    ])
    expect(await listRunFiles(runner, join(dir, 'nowhere'))).toEqual([])
  })
})

const noPython = spawnSync(PY, ['-c', 'import json'], { stdio: 'ignore' }).status === 0 ? null : `${PY} is missing`

describe.skipIf(noPython !== null)('the shipped atelier.tracking writes what the app ingests', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-pytrack-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const py = (code: string, env: Record<string, string>) => {
    const r = spawnSync(PY, ['-c', code], { env: { ...process.env, PYTHONPATH: atelierPythonDir()!, ...env }, encoding: 'utf8' })
    return { code: r.status, out: r.stdout, err: r.stderr }
  }

  it("writes MLflow's file-store layout into the seeded run (file: URI), refuses to change a param", async () => {
    const mlruns = join(dir, 'mlruns')
    for (const [rel, text] of Object.entries(fileStoreSeed({ mlruns, experimentId: '7', experimentName: 'Jobs', runs: [{ runId: 'run1', runName: 'r' }], now: 1 }))) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true })
      writeFileSync(join(dir, rel), text)
    }
    expect(readFileSync(join(mlruns, '7', 'run1', 'meta.yaml'), 'utf8')).toContain('run_id: run1')
    const r = py(
      `from atelier import tracking as t
for s in range(3): t.log_metric("loss", 1.0 / (s + 1), s, timestamp=1000 + s)
t.log_metric("eval/acc", float("nan"), 0, timestamp=5)
t.log_param("lr", 0.1); t.log_param("lr", "0.1"); t.set_tag("phase", "done")
try:
    t.log_param("lr", 0.2)
except ValueError as e:
    print("refused", e)`,
      { MLFLOW_TRACKING_URI: `file:${mlruns}`, MLFLOW_RUN_ID: 'run1', MLFLOW_EXPERIMENT_ID: '7' }
    )
    expect(r.err).toBe('')
    expect(r.out).toMatch(/^refused param 'lr' was already logged/)
    const runDir = join(mlruns, '7', 'run1')
    expect(readFileSync(join(runDir, 'metrics', 'loss'), 'utf8')).toBe('1000 1.0 0\n1001 0.5 1\n1002 0.3333333333333333 2\n')
    expect(readFileSync(join(runDir, 'metrics', 'eval', 'acc'), 'utf8')).toBe('5 nan 0\n')
    const got = await readNew(new LocalRunner(), runDir, emptyOffsets())
    expect(got.metrics.filter((m) => m.key === 'loss').map((m) => m.value)).toEqual([1, 0.5, 1 / 3])
    expect(got.params).toEqual([{ key: 'lr', value: '0.1' }])
    expect(got.tags).toEqual([{ key: 'phase', value: 'done' }])
  })

  it('finds the run folder without MLFLOW_EXPERIMENT_ID and rejects keys that leave it', () => {
    const mlruns = join(dir, 'mlruns')
    mkdirSync(join(mlruns, '4', 'run2'), { recursive: true })
    const r = py(
      `from atelier import tracking as t
t.log_metric("x", 1, 0, timestamp=1)
try:
    t.log_metric("../../escape", 1)
except ValueError as e:
    print("refused")`,
      { MLFLOW_TRACKING_URI: `file://${mlruns}`, MLFLOW_RUN_ID: 'run2', MLFLOW_EXPERIMENT_ID: '' }
    )
    expect([r.code, r.out.trim()]).toEqual([0, 'refused'])
    expect(readFileSync(join(mlruns, '4', 'run2', 'metrics', 'x'), 'utf8')).toBe('1 1.0 0\n')
  })

  const noMlflow = spawnSync(PY, ['-c', 'import mlflow'], { stdio: 'ignore' }).status === 0 ? null : 'the mlflow package is not installed'
  if (noMlflow) console.warn(`real mlflow client file-store test skipped: ${noMlflow}`)
  it.skipIf(noMlflow !== null)('lets the real mlflow client continue the seeded run in the file store', async () => {
    const mlruns = join(dir, 'mlruns')
    for (const [rel, text] of Object.entries(fileStoreSeed({ mlruns, experimentId: '7', experimentName: 'Jobs', runs: [{ runId: 'run1', runName: 'r' }], now: 1 }))) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true })
      writeFileSync(join(dir, rel), text)
    }
    const r = py(
      `import mlflow
with mlflow.start_run() as run:
    assert run.info.run_id == "run1", run.info.run_id
    mlflow.log_param("lr", 0.1)
    for s in range(3): mlflow.log_metric("loss", 1.0 / (s + 1), step=s)`,
      { MLFLOW_TRACKING_URI: `file:${mlruns}`, MLFLOW_RUN_ID: 'run1', MLFLOW_EXPERIMENT_ID: '7' }
    )
    expect(r.code, r.err).toBe(0)
    const got = await readNew(new LocalRunner(), join(mlruns, '7', 'run1'), emptyOffsets())
    expect(got.metrics.map((m) => [m.step, m.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3]
    ])
    expect(got.params).toEqual([{ key: 'lr', value: '0.1' }])
  })
})
