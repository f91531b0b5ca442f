/**
 * `npm run bench:builder`: the model builder's quality and speed.
 *  1. A generated bank-churn table (10,000 rows, known signal) and scikit-learn's breast-cancer data:
 *     the quick build's best test AUC against a hand-written HistGradientBoostingClassifier on the
 *     same split, in the same run (`auc_delta` = builder − reference; ≥ −0.01 passes).
 *  2. Quick build wall time on the 10k-row churn table (≤ 60 s).
 *  3. Column profiles (`builder.columns`) of a 1,000,000-row table (≤ 2 s).
 * Prints `name: value` lines.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { atelierPythonDir } from '../src/main/pythonPath'
import { writeChurnCsv } from '../src/main/services/builder/churn'
import { createJobsTestCore } from '../src/main/services/jobs/testing'

const PYTHON = process.env.ATELIER_BENCH_PYTHON ?? '/usr/bin/python3'
const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)

const REFERENCE = String.raw`
import json, sys
import numpy as np
from sklearn import metrics
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import OrdinalEncoder
from atelier.builder import data
cfg = json.load(open(sys.argv[1]))
df, _ = data.read_table(cfg["data"])
X, y, kinds, ptype, _, _, _ = data.prepare(df, cfg["target"], cfg["features"])
classes = sorted(y.unique().tolist())
y = y.map({c: i for i, c in enumerate(classes)})
sp = cfg["split"]
X_train, X_val, X_test, y_train, y_val, y_test = data.split(X, y, ptype, sp["train"], sp["validation"], sp["test"], cfg["seed"], sp["stratify"])
cat = [c for c, k in kinds.items() if k == "categorical"]
X_train, X_test = X_train.copy(), X_test.copy()
if cat:
    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan).fit(X_train[cat].fillna("(missing)"))
    X_train[cat] = enc.transform(X_train[cat].fillna("(missing)"))
    X_test[cat] = enc.transform(X_test[cat].fillna("(missing)"))
model = HistGradientBoostingClassifier(categorical_features=[c in cat for c in X_train.columns], random_state=0).fit(X_train, y_train)
print(metrics.roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
`

async function main() {
  const core = await createJobsTestCore()
  try {
    const ws = core.workspaceDir
    // ---------- data ----------
    writeChurnCsv(join(ws, 'churn.csv'), 10_000)
    execFileSync(PYTHON, ['-c', `from sklearn.datasets import load_breast_cancer\nd = load_breast_cancer(as_frame=True).frame\nd.columns = [c.replace(' ', '_') for c in d.columns]\nd.to_csv(${JSON.stringify(join(ws, 'cancer.csv'))}, index=False)`])
    await core.call('lake.sources.add', { kind: 'file', location: join(ws, 'churn.csv'), name: 'churn' })
    await core.call('lake.sources.add', { kind: 'file', location: join(ws, 'cancer.csv'), name: 'cancer' })
    const datasets = [
      { name: 'churn', target: 'Exited', drop: ['RowNumber', 'CustomerId', 'Surname'] },
      { name: 'cancer', target: 'target', drop: [] as string[] }
    ]
    for (const ds of datasets) {
      const cols = await core.call('builder.columns', { table: ds.name, target: ds.target })
      const features = cols.columns.map((c: { name: string }) => c.name).filter((c: string) => c !== ds.target && !ds.drop.includes(c))
      const b = await core.call('builder.create', { name: `bench ${ds.name}`, table: ds.name })
      await core.call('builder.update', { buildId: b.id, settings: { target: ds.target, features, python: PYTHON } })
      const t0 = performance.now()
      await core.call('builder.start', { buildId: b.id, mode: 'quick' })
      let d
      for (;;) {
        d = await core.call('builder.get', { buildId: b.id })
        if (d.state !== 'running') break
        await new Promise((r) => setTimeout(r, 200))
      }
      const wall = (performance.now() - t0) / 1000
      if (d.state !== 'succeeded') throw new Error(`${ds.name}: ${JSON.stringify(d.error)}`)
      const best = d.results.leaderboard.find((c: { name: string }) => c.name === d.best)
      const cfg = join(core.dataDir, 'builder', b.id, 'config.quick.json')
      const ref = Number(execFileSync(PYTHON, ['-c', REFERENCE, cfg], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: atelierPythonDir()! } }).trim())
      line(`${ds.name}_rows`, d.results.rows.total)
      line(`${ds.name}_best_candidate`, d.best)
      line(`${ds.name}_builder_test_auc`, best.test.roc_auc.toFixed(4))
      line(`${ds.name}_reference_hgb_test_auc`, ref.toFixed(4))
      line(`${ds.name}_auc_delta`, (best.test.roc_auc - ref).toFixed(4))
      line(`${ds.name}_quick_build_wall_s`, wall.toFixed(1))
    }
    // ---------- column stats on 1M rows ----------
    const big = join(ws, 'big.parquet')
    const inst = await DuckDBInstance.create(':memory:')
    const conn = await inst.connect()
    await conn.run(`COPY (SELECT i AS RowNumber, 15600000 + i AS CustomerId, ['Smith','Jones','Li','Garcia'][1 + i % 4] AS Surname, 350 + (hash(i) % 500)::INT AS CreditScore,
      ['France','Germany','Spain'][(1 + hash(i * 3) % 3)::BIGINT] AS Geography, CASE WHEN hash(i * 5) % 2 = 0 THEN 'Male' ELSE 'Female' END AS Gender, 18 + (hash(i * 7) % 70)::INT AS Age,
      (hash(i * 11) % 11)::INT AS Tenure, (hash(i * 13) % 250000)::DOUBLE AS Balance, 1 + (hash(i * 17) % 4)::INT AS NumOfProducts, (hash(i * 19) % 2)::INT AS HasCrCard,
      (hash(i * 23) % 2)::INT AS IsActiveMember, (hash(i * 29) % 200000)::DOUBLE AS EstimatedSalary, (hash(i * 31) % 5 = 0)::INT AS Exited FROM range(1000000) t(i)) TO '${big}' (FORMAT parquet)`)
    conn.closeSync()
    await core.call('lake.sources.add', { kind: 'file', location: big, name: 'big' })
    await core.call('builder.columns', { table: 'big', target: 'Exited' }) // warm
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      const r = await core.call('builder.columns', { table: 'big', target: 'Exited' })
      times.push(performance.now() - t0)
      if (r.rows !== 1_000_000) throw new Error(`rows ${r.rows}`)
    }
    line('columns_1m_rows_14_cols_s', (times.sort((a, b) => a - b)[1] / 1000).toFixed(2))
  } finally {
    await core.cleanup()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
