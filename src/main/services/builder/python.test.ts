/** atelier.builder's Python side, run with /usr/bin/python3 (scikit-learn, pandas). */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { atelierPythonDir } from '../../pythonPath'

const PYTHON = '/usr/bin/python3'
const dir = mkdtempSync(join(tmpdir(), 'atelier-builder-py-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function py(code: string): string {
  return execFileSync(PYTHON, ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: atelierPythonDir()! }, timeout: 120_000 })
}

function lines(args: string[], python = PYTHON) {
  const r = spawnSync(python, ['-m', 'atelier.builder', ...args], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: atelierPythonDir()! }, timeout: 180_000 })
  return { code: r.status, lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) }
}

describe('atelier.builder (Python)', () => {
  it('checks the input: missing targets dropped with a count, one class and too few rows refused', () => {
    const out = py(`
import pandas as pd, numpy as np, json
from atelier.builder import data
from atelier.builder.errors import BuildError
df = pd.DataFrame({'a': np.arange(100), 'c': ['k'] * 100, 'e': [None] * 100, 'y': [0, 1] * 45 + [None] * 10})
X, y, kinds, ptype, notices, dropped, _ = data.prepare(df, 'y', ['a', 'c', 'e'])
res = {'ptype': ptype, 'rows': len(X), 'notices': notices, 'dropped': dropped, 'kinds': kinds}
for frame, name in [(pd.DataFrame({'a': range(100), 'y': [1] * 100}), 'one'), (pd.DataFrame({'a': range(20), 'y': [0, 1] * 10}), 'few')]:
    try:
        data.prepare(frame, 'y', ['a'])
    except BuildError as e:
        res[name] = e.code
print(json.dumps(res))
`)
    const r = JSON.parse(out)
    expect(r.ptype).toBe('binary')
    expect(r.rows).toBe(90)
    expect(r.notices[0]).toMatch(/^10 rows with no value in y were dropped/)
    expect(r.dropped.sort()).toEqual(['c', 'e'])
    expect(r.kinds).toEqual({ a: 'numeric' })
    expect(r.one).toBe('BUILDER_ONE_CLASS')
    expect(r.few).toBe('BUILDER_TOO_FEW_ROWS')
  })

  it('infers the problem type from the target', () => {
    const r = JSON.parse(
      py(`
import pandas as pd, numpy as np, json
from atelier.builder.data import infer_problem_type as f
print(json.dumps([f(pd.Series(['yes', 'no'] * 50)), f(pd.Series(['a', 'b', 'c'] * 50)), f(pd.Series([1, 2, 3, 4] * 50)), f(pd.Series(np.linspace(0, 1, 200)))]))
`)
    )
    expect(r).toEqual(['binary', 'multiclass', 'multiclass', 'regression'])
  })

  it('bias metrics follow Clarify’s definitions on a hand-counted example', () => {
    const r = JSON.parse(
      py(`
import json
from atelier.builder.reports import bias_report
# group f: 4 rows, labels 1,1,0,0, predictions 1,0,0,0; group m: 6 rows, labels 1,1,1,0,0,0, predictions 1,1,1,1,0,0
g = ['f'] * 4 + ['m'] * 6
yt = [1, 1, 0, 0, 1, 1, 1, 0, 0, 0]
yp = [1, 0, 0, 0, 1, 1, 1, 1, 0, 0]
print(json.dumps(bias_report(g, yt, yp, 1, 'g')))
`)
    )
    const f = r.groups.find((x: any) => x.group === 'f')
    expect(f.size).toBe(4)
    expect(f.CI).toBeCloseTo((6 - 4) / 10)
    expect(f.DPL).toBeCloseTo(3 / 6 - 2 / 4)
    expect(f.DI).toBeCloseTo(1 / 4 / (4 / 6))
    expect(f.DPPL).toBeCloseTo(4 / 6 - 1 / 4)
    expect(f.recall).toBeCloseTo(1 / 2)
    expect(f.equal_opportunity_difference).toBeCloseTo(1 - 1 / 2)
    expect(f.accuracy).toBeCloseTo(3 / 4)
  })

  it('a failing candidate is reported failed and the others go on', () => {
    const csv = join(dir, 't.csv')
    const rows = Array.from({ length: 400 }, (_, i) => `${i % 17},${['a', 'b', 'c'][i % 3]},${(i * 7) % 11 > 5 ? 1 : 0}`)
    writeFileSync(csv, 'x,k,y\n' + rows.join('\n') + '\n')
    const cfg = join(dir, 'cfg.json')
    writeFileSync(cfg, JSON.stringify({ outDir: join(dir, 'out'), data: csv, target: 'y', features: ['x', 'k'], mode: 'quick', seed: 1 }))
    const out = py(`
import sys, json
import atelier.builder.candidates as c
real = c.candidates
def broken(*a, **k):
    out = real(*a, **k)
    name, pipe, grid = out[0]
    pipe.named_steps['model'].set_params(C=-1.0)  # LogisticRegression refuses a negative C at fit
    return out
c.candidates = broken
from atelier.builder.__main__ import main
main(['build', ${JSON.stringify(cfg)}])
`)
    const ls = out.trim().split('\n').map((l) => JSON.parse(l))
    const done = ls.filter((l) => l.type === 'candidate' && l.status !== 'running')
    expect(done.find((l) => l.name === 'logistic_regression').status).toBe('failed')
    expect(done.find((l) => l.name === 'logistic_regression').error).toMatch(/C/)
    expect(done.filter((l) => l.status === 'done').length).toBeGreaterThanOrEqual(2)
    const result = ls.find((l) => l.type === 'result')
    expect(result.best).not.toBe('logistic_regression')
  }, 120_000)

  it('regression and multiclass builds report their own metrics', () => {
    const csv = join(dir, 'r.csv')
    const rows = Array.from({ length: 300 }, (_, i) => {
      const x = (i * 37) % 101
      const k = ['a', 'b', 'c'][i % 3]
      return `${x},${k},${(2 * x + (k === 'b' ? 30 : 0) + ((i * 13) % 7)).toFixed(1)},${['lo', 'mid', 'hi'][Math.min(2, Math.floor(x / 34))]}`
    })
    writeFileSync(csv, 'x,k,v,band\n' + rows.join('\n') + '\n')
    for (const [target, features, expected] of [
      ['v', ['x', 'k'], 'regression'],
      ['band', ['x', 'k'], 'multiclass']
    ] as const) {
      const cfg = join(dir, `${target}.json`)
      writeFileSync(cfg, JSON.stringify({ outDir: join(dir, `out-${target}`), data: csv, target, features, mode: 'quick', seed: 3 }))
      const r = lines(['build', cfg])
      const result = r.lines.find((l) => l.type === 'result')
      expect(result.problemType).toBe(expected)
      const best = result.leaderboard.find((c: any) => c.name === result.best)
      if (expected === 'regression') {
        expect(best.test.r2).toBeGreaterThan(0.9)
        expect(result.details.metrics.residuals.predicted.length).toBeGreaterThan(10)
      } else {
        expect(best.test.balanced_accuracy).toBeGreaterThan(0.9)
        expect(result.details.metrics.confusion_matrix).toHaveLength(3)
      }
    }
  }, 180_000)

  it('an interpreter without scikit-learn is named with the install hint', () => {
    const venv = join(dir, 'bare')
    execFileSync(PYTHON, ['-m', 'venv', '--without-pip', venv])
    const r = lines(['check'], join(venv, 'bin', 'python'))
    expect(r.code).toBe(2)
    expect(r.lines[0]).toMatchObject({ type: 'error', code: 'BUILDER_PYTHON_MISSING' })
    expect(r.lines[0].hint).toMatch(/-m pip install scikit-learn pandas/)
  }, 60_000)
})
