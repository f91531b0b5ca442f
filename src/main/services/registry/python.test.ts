/**
 * The shipped `atelier.models` module (resources/python) under Debian's /usr/bin/python3 with
 * scikit-learn and without `mlflow`: the MLflow model directory it writes, and logging to a run of
 * the tracking server over REST. Skips with a message when python3 or scikit-learn is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { atelierPythonDir, atelierPythonEnv, findPythonDir, pythonDirsAbove } from '../../pythonPath'
import { createRegistryHarness, type RegistryHarness } from './testing'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const missing = !existsSync(PYTHON)
  ? `${PYTHON} is missing`
  : spawnSync(PYTHON, ['-c', 'import sklearn, pandas'], { stdio: 'ignore', timeout: 60_000 }).status !== 0
    ? `scikit-learn/pandas are not installed for ${PYTHON}`
    : null

const TRAIN = `
import pandas as pd
from sklearn.linear_model import LogisticRegression
X = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "count": [1, 0, 1, 0, 1, 0]})
y = [0, 0, 0, 1, 1, 1]
model = LogisticRegression().fit(X, y)
`

let tmp: string
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'atelier-pymodel-'))
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const py = (code: string, env: Record<string, string> = {}) =>
  run(PYTHON, ['-c', code], { env: { ...process.env, ...atelierPythonEnv(''), ...env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }, timeout: 120_000 })

describe('atelier.models (Python, shipped with the app)', () => {
  it('is found in the repository resources and put first on PYTHONPATH', () => {
    expect(atelierPythonDir()).toBe(resolve(process.cwd(), 'resources/python'))
    expect(atelierPythonEnv('/x:/y').PYTHONPATH).toBe(`${atelierPythonDir()}:/x:/y`)
    // the built code runs from out/main/chunks: the nearest resources/python above it
    expect(findPythonDir(pythonDirsAbove(resolve('out/main/chunks')))).toBe(resolve('resources/python'))
    expect(pythonDirsAbove('/a/b')).toEqual(['/a/b/resources/python', '/a/resources/python', '/resources/python'])
  })

  it('save_model writes an MLflow model directory: MLmodel flavors, signature, input example, environment files', async (ctx) => {
    if (missing) {
      console.warn(`skipping: ${missing}`)
      return ctx.skip()
    }
    const dir = join(tmp, 'saved')
    await py(`${TRAIN}
import atelier.models as am
am.save_model(model, ${JSON.stringify(dir)}, input_example=X.head(3))
`)
    expect(readdirSync(dir).sort()).toEqual(['MLmodel', 'conda.yaml', 'input_example.json', 'model.pkl', 'python_env.yaml', 'requirements.txt'])
    const mlmodel = parseYaml(readFileSync(join(dir, 'MLmodel'), 'utf8'))
    expect(mlmodel.flavors.python_function).toMatchObject({ loader_module: 'mlflow.sklearn', model_path: 'model.pkl', env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' } })
    expect(mlmodel.flavors.sklearn).toMatchObject({ pickled_model: 'model.pkl', serialization_format: 'pickle' })
    expect(mlmodel.flavors.sklearn.sklearn_version).toMatch(/^\d+\.\d+/)
    expect(JSON.parse(mlmodel.signature.inputs)).toEqual([
      { type: 'double', name: 'amount', required: true },
      { type: 'long', name: 'count', required: true }
    ])
    expect(JSON.parse(mlmodel.signature.outputs)[0]).toMatchObject({ type: 'tensor' })
    expect(mlmodel.saved_input_example_info).toEqual({ artifact_path: 'input_example.json', type: 'dataframe', pandas_orient: 'split' })
    expect(JSON.parse(readFileSync(join(dir, 'input_example.json'), 'utf8'))).toEqual({ columns: ['amount', 'count'], data: [[1, 1], [2, 0], [3, 1]] })
    expect(readFileSync(join(dir, 'requirements.txt'), 'utf8')).toMatch(/^mlflow\n(.|\n)*scikit-learn==\d/)
    expect(parseYaml(readFileSync(join(dir, 'python_env.yaml'), 'utf8'))).toMatchObject({ dependencies: ['-r requirements.txt'] })
    const conda = parseYaml(readFileSync(join(dir, 'conda.yaml'), 'utf8'))
    expect(conda.dependencies.at(-1).pip).toContain('mlflow')
    // the pickle loads back into an equivalent model
    const { stdout } = await py(`${TRAIN}
import pickle
loaded = pickle.load(open(${JSON.stringify(join(dir, 'model.pkl'))}, "rb"))
print(list(loaded.predict(X)) == list(model.predict(X)))
`)
    expect(stdout.trim()).toBe('True')
    // saving into a non-empty folder is refused rather than mixing two models
    await expect(py(`${TRAIN}\nimport atelier.models as am\nam.save_model(model, ${JSON.stringify(dir)})`)).rejects.toThrow(/already exists/)
  })

  it('an XGBoost model gets the xgboost flavor (booster file) and pyfunc through mlflow.xgboost; the booster loads back', async (ctx) => {
    if (missing) return ctx.skip()
    if (spawnSync(PYTHON, ['-c', 'import xgboost'], { stdio: 'ignore', timeout: 60_000 }).status !== 0) {
      console.warn(`skipping: xgboost is not installed for ${PYTHON} (scripts/setup-system.sh installs python3-xgboost)`)
      return ctx.skip()
    }
    const dir = join(tmp, 'xgb')
    const XGB = `${TRAIN}
import xgboost
model = xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
`
    await py(`${XGB}
import atelier.models as am
am.save_model(model, ${JSON.stringify(dir)}, input_example=X.head(2))
`)
    expect(readdirSync(dir)).toContain('model.xgb')
    const mlmodel = parseYaml(readFileSync(join(dir, 'MLmodel'), 'utf8'))
    expect(mlmodel.flavors.python_function).toMatchObject({ loader_module: 'mlflow.xgboost', data: 'model.xgb' })
    expect(mlmodel.flavors.xgboost).toMatchObject({ data: 'model.xgb', model_class: 'xgboost.sklearn.XGBClassifier', model_format: 'xgb' })
    expect(mlmodel.flavors.xgboost.xgb_version).toMatch(/^\d+\.\d+/)
    expect(mlmodel.flavors.sklearn).toMatchObject({ pickled_model: 'model.pkl' })
    expect(readFileSync(join(dir, 'requirements.txt'), 'utf8')).toMatch(/^mlflow\n(.|\n)*xgboost==\d/)
    // XGBoost's own format loads back into a model that predicts the same probabilities
    const { stdout } = await py(`${XGB}
loaded = xgboost.XGBClassifier()
loaded.load_model(${JSON.stringify(join(dir, 'model.xgb'))})
print(bool((loaded.predict_proba(X) == model.predict_proba(X)).all()))
`)
    expect(stdout.trim()).toBe('True')
  })

  describe('log_model to a run of the tracking server', () => {
    let h: RegistryHarness
    beforeAll(async () => {
      h = await createRegistryHarness()
    })
    afterAll(async () => h?.cleanup())

    it('uploads the model folder into the run artifacts and records it in mlflow.log-model.history', async (ctx) => {
      if (missing) {
        console.warn(`skipping: ${missing}`)
        return ctx.skip()
      }
      const runId = (await h.api('POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id as string
      const { stdout } = await py(`${TRAIN}
import json, atelier.models as am
print(json.dumps(am.log_model(model, artifact_path="clf", input_example=X.head(2))))
`, { ...h.tracking.trackingEnv(), MLFLOW_RUN_ID: runId })
      expect(JSON.parse(stdout)).toEqual({ run_id: runId, artifact_path: 'clf', model_uri: `runs:/${runId}/clf`, version: null })
      const listed = await h.api('GET', 'artifacts/list', { run_id: runId, path: 'clf' })
      expect(listed.body.files.map((f: { path: string }) => f.path).sort()).toEqual(
        ['MLmodel', 'conda.yaml', 'input_example.json', 'model.pkl', 'python_env.yaml', 'requirements.txt'].map((f) => `clf/${f}`)
      )
      const got = await h.api('GET', 'runs/get', { run_id: runId })
      const tag = got.body.run.data.tags.find((t: { key: string }) => t.key === 'mlflow.log-model.history')
      const history = JSON.parse(tag.value)
      expect(history).toHaveLength(1)
      expect(history[0]).toMatchObject({ artifact_path: 'clf', run_id: runId })
      expect(Object.keys(history[0].flavors).sort()).toEqual(['python_function', 'sklearn'])
    })

    it('registered_model_name registers the logged model as a new version (creating the model once)', async (ctx) => {
      if (missing) return ctx.skip()
      const runs: string[] = []
      for (let i = 0; i < 2; i++) runs.push((await h.api('POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id)
      for (const [i, runId] of runs.entries()) {
        const { stdout } = await py(`${TRAIN}
import json, atelier.models as am
print(json.dumps(am.log_model(model, artifact_path="model", input_example=X.head(2), registered_model_name="fraud-detector")))
`, { ...h.tracking.trackingEnv(), MLFLOW_RUN_ID: runId })
        expect(JSON.parse(stdout).version).toBe(i + 1)
      }
      const v2 = h.registry.getVersion('fraud-detector', 2)
      expect(v2).toMatchObject({ runId: runs[1], artifactPath: 'model', approvalStatus: 'None' })
      // the registered version resolves to the uploaded MLflow model folder
      const { artifactUri } = h.registry.resolveModelUri('models:/fraud-detector/2')
      const r = await fetch(`${h.server.url}/api/2.0/mlflow-artifacts/artifacts/${artifactUri.slice('mlflow-artifacts:/'.length)}/MLmodel`, { headers: { Authorization: `Bearer ${h.server.token}` } })
      expect(parseYaml(await r.text()).flavors.sklearn.pickled_model).toBe('model.pkl')
    })

    it('atelier.tracking starts a run, logs params and metrics, and log_model uses the active run', async (ctx) => {
      if (missing) return ctx.skip()
      const { stdout } = await py(`${TRAIN}
import json, atelier.models as am, atelier.tracking as at
with at.start_run(experiment_name="fraud-exp", run_name="lr-1") as run:
    at.log_params({"C": 1.0})
    at.log_metrics({"accuracy": 0.93})
    info = am.log_model(model, "model", input_example=X.head(2), registered_model_name="fraud-tracked")
print(json.dumps({"run": run.run_id, **info}))
`, { ...h.tracking.trackingEnv(), MLFLOW_RUN_ID: '' })
      const out = JSON.parse(stdout)
      expect(out).toMatchObject({ run_id: out.run, artifact_path: 'model', version: 1 })
      const run = (await h.api('GET', 'runs/get', { run_id: out.run })).body.run
      expect(run.info).toMatchObject({ run_name: 'lr-1', status: 'FINISHED' })
      expect(run.data.params).toEqual([{ key: 'C', value: '1.0' }])
      expect(run.data.metrics[0]).toMatchObject({ key: 'accuracy', value: 0.93 })
      expect(h.registry.getVersion('fraud-tracked', 1).metrics).toEqual({ accuracy: 0.93 })
    })

    it('a run that does not exist is a clear error from the server', async (ctx) => {
      if (missing) return ctx.skip()
      await expect(
        py(`${TRAIN}\nimport atelier.models as am\nam.log_model(model, run_id="0123456789abcdef0123456789abcdef")`, h.tracking.trackingEnv())
      ).rejects.toThrow(/RESOURCE_DOES_NOT_EXIST/)
    })
  })
})
