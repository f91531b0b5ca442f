import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { parseVariables, variablesExpression } from './variables'

const PYTHON = '/usr/bin/python3'
const hasIPython = existsSync(PYTHON) && (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import IPython, pandas, numpy, sklearn, matplotlib'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasIPython) console.warn('variables tests skipped: /usr/bin/python3 with IPython, pandas, numpy, scikit-learn and matplotlib is needed')

/** Runs `setup` in an IPython shell (as a kernel would) and evaluates the inspection expression there. */
function inspect(setup: string) {
  const script = `
import json, sys
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.run_cell(${JSON.stringify(setup)})
v = ip.ev(${JSON.stringify(variablesExpression())})
sys.stdout.write(repr(v))
`
  const text = execFileSync(PYTHON, ['-c', script], { encoding: 'utf8', env: { ...process.env, MPLBACKEND: 'Agg' } })
  return parseVariables({ status: 'ok', data: { 'text/plain': text } })
}

describe.skipIf(!hasIPython)('the Variables inspection sizes', () => {
  it('gives deep memory for frames, nbytes for arrays, estimates for containers, and no size for opaque objects', () => {
    const vars = inspect(`
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import LabelEncoder
import matplotlib.pyplot as plt
df = pd.DataFrame({'name': ['x' * 1000] * 100, 'n': range(100)})
arr = np.zeros((100, 10))
items = ['y' * 500 for _ in range(1000)]
d = {'a': np.zeros(1000)}
model = LogisticRegression()
enc = LabelEncoder()
fig = plt.figure()
n = 3
s = 'hello'
`)
    const by = Object.fromEntries(vars.map((v) => [v.name, v]))
    // deep: 100 strings of 1,000 chars are counted (a shallow count says ~1.7 KB)
    expect(by.df.bytes!).toBeGreaterThan(100 * 1000)
    expect(by.arr.bytes).toBe(8000)
    expect(by.items).toMatchObject({ size: 1000 })
    expect(by.items.bytes!).toBeGreaterThan(1000 * 500)
    expect(by.d.bytes!).toBeGreaterThan(8000)
    for (const opaque of ['model', 'enc', 'fig']) expect(by[opaque].bytes, opaque).toBeNull()
    expect(by.model.type).toBe('sklearn.linear_model._logistic.LogisticRegression')
    expect(by.n.bytes).toBeNull()
    expect(by.s).toMatchObject({ size: 5 })
  }, 60_000)
})
