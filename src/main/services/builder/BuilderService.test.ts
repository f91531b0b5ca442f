/** The builder end to end through the router: a real core, DuckDB, /usr/bin/python3 with scikit-learn, the MLflow door. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createJobsTestCore, type JobsTestCore } from '../jobs/testing'
import { writeChurnCsv } from './churn'

const PYTHON = '/usr/bin/python3'
const FEATURES = ['CreditScore', 'Geography', 'Gender', 'Age', 'Tenure', 'Balance', 'NumOfProducts', 'HasCrCard', 'IsActiveMember', 'EstimatedSalary']

let core: JobsTestCore

async function waitBuild(buildId: string, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const b = await core.call('builder.get', { buildId })
    if (b.state !== 'running') return b
    if (Date.now() > deadline) throw new Error(`build still running: ${JSON.stringify(b.progress)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

beforeAll(async () => {
  core = await createJobsTestCore()
  writeChurnCsv(join(core.workspaceDir, 'churn.csv'), 10_000)
  await core.call('lake.sources.add', { kind: 'file', location: join(core.workspaceDir, 'churn.csv'), name: 'churn' })
}, 60_000)

afterAll(async () => {
  await core?.cleanup()
})

describe('builder on a churn table', () => {
  let buildId = ''

  it('profiles the columns with warnings and infers a binary problem', async () => {
    const res = await core.call('builder.columns', { table: 'churn', target: 'Exited' })
    expect(res.rows).toBe(10_000)
    expect(res.problemType).toBe('binary')
    const by = Object.fromEntries(res.columns.map((c: any) => [c.name, c]))
    expect(by.RowNumber.warnings.map((w: any) => w.kind)).toContain('id_like')
    expect(by.CustomerId.warnings.map((w: any) => w.kind)).toContain('id_like')
    expect(by.Age.warnings).toEqual([])
    expect(by.Geography.distinct).toBe(3)
    expect(by.Age.histogram.length).toBe(12)
    expect(by.Age.histogram.reduce((a: number, h: any) => a + h.count, 0)).toBe(10_000)
    expect(by.Gender.histogram.map((h: any) => h.label).sort()).toEqual(['Female', 'Male'])
  })

  it('warns about leakage, free text, dates and constant columns; free text is refused as an input', async () => {
    const words = ['late', 'payment', 'called', 'about', 'card', 'fees', 'branch', 'closed', 'moving', 'abroad', 'rates', 'better', 'elsewhere']
    const rows = Array.from({ length: 400 }, (_, i) => {
      const y = (i * 37) % 5 === 0 ? 1 : 0
      const text = Array.from({ length: 9 }, (_, k) => words[(i * 7 + k * 3 + i * k) % words.length]).join(' ') + ` ref ${i}`
      return [y, y + ((i % 10) - 5) / 1000, y ? 'closed' : 'open', `"${text}"`, `2024-01-${String(1 + (i % 28)).padStart(2, '0')}`, 'k', i % 13].join(',')
    })
    writeFileSync(join(core.workspaceDir, 'odd.csv'), 'y,leak_num,leak_cat,note,opened,const,x\n' + rows.join('\n') + '\n')
    await core.call('lake.sources.add', { kind: 'file', location: join(core.workspaceDir, 'odd.csv'), name: 'odd' })
    const res = await core.call('builder.columns', { table: 'odd', target: 'y' })
    const kinds = Object.fromEntries(res.columns.map((c: any) => [c.name, c.warnings.map((w: any) => w.kind)]))
    expect(kinds.leak_num).toContain('leakage')
    expect(kinds.leak_cat).toContain('leakage')
    expect(kinds.note).toContain('free_text')
    expect(kinds.opened).toContain('date')
    expect(kinds.const).toContain('constant')
    expect(kinds.x).toEqual([])
    const b = await core.call('builder.create', { name: 'odd', table: 'odd' })
    await core.call('builder.update', { buildId: b.id, settings: { target: 'y', features: ['x', 'note'], python: PYTHON } })
    await expect(core.call('builder.check', { buildId: b.id })).rejects.toThrow(/note looks like free text/)
  })

  it('refuses bad settings before anything long starts', async () => {
    const b = await core.call('builder.create', { name: 'Churn', table: 'churn' })
    buildId = b.id
    await expect(core.call('builder.check', { buildId })).rejects.toMatchObject({ code: 'BUILDER_BAD_INPUT' })
    await core.call('builder.update', { buildId, settings: { target: 'Exited', features: ['Exited', 'Age'] } })
    await expect(core.call('builder.check', { buildId })).rejects.toThrow(/cannot also be an input/)
    await core.call('builder.update', { buildId, settings: { target: 'Exited', features: FEATURES, python: '/nonexistent/python3' } })
    await expect(core.call('builder.check', { buildId })).rejects.toMatchObject({ code: 'BUILDER_PYTHON_MISSING' })
    await core.call('builder.update', { buildId, settings: { python: PYTHON } })
    const ok = await core.call('builder.check', { buildId })
    expect(ok.sklearn).toMatch(/^\d/)
    expect(ok.rows).toBe(10_000)
  })

  it('a table above the sample size is sampled, with a notice, before training', async () => {
    const b = await core.call('builder.create', { name: 'sampled', table: 'churn' })
    await core.call('builder.update', { buildId: b.id, settings: { target: 'Exited', features: FEATURES, python: PYTHON, split: { train: 70, validation: 15, test: 15, stratify: true, seed: 1, sampleRows: 1000 } } })
    const chk = await core.call('builder.check', { buildId: b.id })
    expect(chk.sampled).toBe(true)
    expect(chk.notices.join(' ')).toContain('The table has 10,000 rows; the build uses a random sample of 1,000.')
  })

  it('a one-class target and too few rows are named', async () => {
    writeFileSync(join(core.workspaceDir, 'one.csv'), 'a,b,y\n' + Array.from({ length: 200 }, (_, i) => `${i % 7},x${i % 3},1`).join('\n') + '\n')
    writeFileSync(join(core.workspaceDir, 'few.csv'), 'a,y\n' + Array.from({ length: 20 }, (_, i) => `${i},${i % 2}`).join('\n') + '\n')
    await core.call('lake.sources.add', { kind: 'file', location: join(core.workspaceDir, 'one.csv'), name: 'one' })
    await core.call('lake.sources.add', { kind: 'file', location: join(core.workspaceDir, 'few.csv'), name: 'few' })
    const one = await core.call('builder.create', { name: 'one', table: 'one' })
    await core.call('builder.update', { buildId: one.id, settings: { target: 'y', features: ['a', 'b'], problemType: 'binary', python: PYTHON } })
    await expect(core.call('builder.start', { buildId: one.id, mode: 'quick' })).rejects.toThrow(/only one value/)
    const few = await core.call('builder.create', { name: 'few', table: 'few' })
    await core.call('builder.update', { buildId: few.id, settings: { target: 'y', features: ['a'], python: PYTHON } })
    await expect(core.call('builder.start', { buildId: few.id, mode: 'quick' })).rejects.toThrow(/too few/)
    expect((await core.call('builder.get', { buildId: few.id })).state).toBe('draft')
  })

  it('preview: an estimate on a sample, no runs, the build stays a draft', async () => {
    await core.call('builder.start', { buildId, mode: 'preview' })
    const b = await waitBuild(buildId, 120_000)
    expect(b.state).toBe('draft')
    expect(b.results).toBeNull()
    expect(b.preview.rows.total).toBe(2000)
    expect(b.preview.leaderboard.map((c: any) => c.name)).toEqual(['hist_gradient_boosting'])
    expect(b.preview.leaderboard[0].runId).toBeNull()
    expect(b.preview.leaderboard[0].validation.roc_auc).toBeGreaterThan(0.6)
    expect(b.preview.details.impact.columns.length).toBe(FEATURES.length)
  }, 120_000)

  it('quick build: candidates are tracked runs, the best beats chance clearly, results explain it', async () => {
    const started = await core.call('builder.start', { buildId, mode: 'quick' })
    expect(started.state).toBe('running')
    const b = await waitBuild(buildId)
    expect(b.error).toBeNull()
    expect(b.state).toBe('succeeded')
    const names = b.results.leaderboard.map((c: any) => c.name)
    expect(names).toEqual(expect.arrayContaining(['logistic_regression', 'random_forest', 'hist_gradient_boosting']))
    const best = b.results.leaderboard.find((c: any) => c.name === b.best)
    expect(best.test.roc_auc).toBeGreaterThan(0.75)
    // every candidate is a run in the experiment named after the build, with its model
    const exps = await core.call('tracking.experiments.list', {})
    const exp = exps.find((e: any) => e.name === 'Churn (builder)')
    expect(exp).toBeTruthy()
    for (const c of b.results.leaderboard) {
      const run = await core.call('tracking.run.get', { runId: c.runId })
      expect(run.metrics.find((m: any) => m.key === 'test_roc_auc')).toBeTruthy()
      expect(run.params.estimator).toBeTruthy()
      const files = await core.call('tracking.artifacts.list', { runId: c.runId, path: 'model' })
      expect(JSON.stringify(files)).toContain('MLmodel')
    }
    const d = b.results.details
    expect(d.metrics.confusion_matrix.flat().reduce((a: number, x: number) => a + x, 0)).toBe(1500)
    expect(d.metrics.threshold_table).toHaveLength(101)
    const impact = d.impact.columns.map((c: any) => c.column)
    expect(impact.sort()).toEqual([...FEATURES].sort())
    for (const unticked of ['Surname', 'RowNumber', 'CustomerId']) expect(impact).not.toContain(unticked)
    // the signal's strongest columns rank above pure noise
    const rank = (c: string) => d.impact.columns.findIndex((x: any) => x.column === c)
    expect(rank('Age')).toBeLessThan(rank('EstimatedSalary'))
    expect(rank('NumOfProducts')).toBeLessThan(rank('Tenure'))
    expect(d.partialDependence.length).toBe(3)
  }, 300_000)

  it('bias report on Gender with Clarify metrics, saved on the run', async () => {
    const rep = await core.call('builder.bias', { buildId, column: 'Gender' })
    expect(rep.groups.map((g: any) => g.group).sort()).toEqual(['Female', 'Male'])
    const f = rep.groups.find((g: any) => g.group === 'Female')
    const m = rep.groups.find((g: any) => g.group === 'Male')
    expect(f.size + m.size).toBe(1500)
    // the generated signal gives women a higher churn rate: DPL (others minus group) is negative for Female
    expect(f.DPL).toBeLessThan(0)
    expect(f.CI).toBeCloseTo(-m.CI, 10)
    for (const k of ['DI', 'DPPL', 'equal_opportunity_difference', 'accuracy', 'recall']) expect(f).toHaveProperty(k)
    const b = await core.call('builder.get', { buildId })
    const runId = b.results.leaderboard.find((c: any) => c.name === b.best).runId
    const files = await core.call('tracking.artifacts.list', { runId, path: 'bias' })
    expect(JSON.stringify(files)).toContain('bias_report_Gender.json')
  }, 60_000)

  it('a single prediction moves with Age and names the columns that pushed it', async () => {
    const b = await core.call('builder.get', { buildId })
    const row = { ...b.results.baseline }
    const young = await core.call('builder.predict', { buildId, row: { ...row, Age: 25 } })
    const old = await core.call('builder.predict', { buildId, row: { ...row, Age: 65 } })
    expect(old.probability).toBeGreaterThan(young.probability + 0.05)
    expect(old.contributions[0].column).toBe('Age')
    expect(old.contributions[0].contribution).toBeGreaterThan(0)
  }, 60_000)

  it('batch predict makes a Data room table; register fills the card; the notebook reproduces the AUC', async () => {
    const res = await core.call('builder.batchPredict', { buildId, table: 'churn', output: 'churn_scored' })
    expect(res.rows).toBe(10_000)
    const cat = await core.call('lake.catalog', {})
    const t = cat.find((s: any) => s.name === 'churn_scored')
    expect(t.tables[0].columns.map((c: any) => c.name)).toEqual(expect.arrayContaining(['Age', 'prediction', 'probability']))
    const reg = await core.call('builder.register', { buildId, modelName: 'churn-model' })
    expect(reg.version).toBe(1)
    const card = await core.call('registry.card.get', { name: 'churn-model', version: 1 })
    expect(JSON.stringify(card)).toContain('Exited')
    expect(JSON.stringify(card)).toContain('roc_auc')
    expect(JSON.stringify(card)).toContain('Gender')
    const nb = await core.call('builder.notebook', { buildId })
    expect(existsSync(nb.path)).toBe(true)
    const doc = JSON.parse(readFileSync(nb.path, 'utf8'))
    expect(doc.nbformat).toBe(4)
    const code = doc.cells.filter((c: any) => c.cell_type === 'code').map((c: any) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    // run the notebook's code as one script: the same test AUC as the build
    const { execFileSync } = await import('node:child_process')
    const out = execFileSync(PYTHON, ['-c', code.join('\n')], { encoding: 'utf8', timeout: 120_000 })
    const auc = Number(/roc_auc ([0-9.]+)/.exec(out)![1])
    const b = await core.call('builder.get', { buildId })
    expect(Math.abs(auc - b.results.leaderboard.find((c: any) => c.name === b.best).test.roc_auc)).toBeLessThan(0.005)
  }, 180_000)

  it('cancel stops a running build', async () => {
    const b = await core.call('builder.create', { name: 'Churn cancel', table: 'churn' })
    await core.call('builder.update', { buildId: b.id, settings: { target: 'Exited', features: FEATURES, python: PYTHON } })
    await core.call('builder.start', { buildId: b.id, mode: 'quick' })
    await new Promise((r) => setTimeout(r, 1500))
    await core.call('builder.cancel', { buildId: b.id })
    const done = await waitBuild(b.id, 20_000)
    expect(done.state).toBe('cancelled')
    expect(done.results).toBeNull()
  }, 60_000)

  it('standard build runs as a job with cross-validated search and more candidates', async () => {
    writeChurnCsv(join(core.workspaceDir, 'small.csv'), 600, 3)
    await core.call('lake.sources.add', { kind: 'file', location: join(core.workspaceDir, 'small.csv'), name: 'small' })
    const b = await core.call('builder.create', { name: 'Small standard', table: 'small' })
    await core.call('builder.update', { buildId: b.id, settings: { target: 'Exited', features: FEATURES, python: PYTHON } })
    const started = await core.call('builder.start', { buildId: b.id, mode: 'standard' })
    expect(started.jobId).toBeTruthy()
    const job = await core.call('jobs.get', { jobId: started.jobId })
    expect(job.backend).toBe('local')
    const done = await waitBuild(b.id, 400_000)
    expect(done.error).toBeNull()
    expect(done.state).toBe('succeeded')
    const names = done.results.leaderboard.map((c: any) => c.name)
    expect(names).toContain('extra_trees')
    const ok = done.results.leaderboard.filter((c: any) => c.status === 'done')
    expect(ok.every((c: any) => typeof c.params.cv_score === 'number')).toBe(true)
    const run = await core.call('tracking.run.get', { runId: ok[0].runId })
    expect(run.metrics.find((m: any) => m.key === 'test_roc_auc')).toBeTruthy()
  }, 420_000)
})

describe('builds per workspace', () => {
  it('lists only the builds made in the open workspace, and records the workspace in the build', async () => {
    const here = await core.call('builder.create', { name: 'Here', table: 'churn' })
    expect(here.workspace).toBe(core.workspaceDir)
    // a build recorded before builds carried their workspace stays listed everywhere
    const legacyId = '00000000-0000-4000-8000-000000000001'
    const { workspace: _w, ...legacy } = { ...here, id: legacyId, name: 'Legacy' }
    mkdirSync(join(core.dataDir, 'builder', legacyId), { recursive: true })
    writeFileSync(join(core.dataDir, 'builder', legacyId, 'build.json'), JSON.stringify({ ...legacy, candidates: [], python: null }))
    const other = join(core.workspaceDir, '..', 'ws-other')
    mkdirSync(other, { recursive: true })
    try {
      await core.call('workspace.open', { path: other })
      writeChurnCsv(join(other, 'churn2.csv'), 200)
      await core.call('lake.sources.add', { kind: 'file', location: join(other, 'churn2.csv'), name: 'churn2' })
      const there = await core.call('builder.create', { name: 'There', table: 'churn2' })
      expect(there.workspace).toBe(other)
      const names = (await core.call('builder.list', {})).map((b: any) => b.name)
      expect(names).toContain('There')
      expect(names).toContain('Legacy')
      expect(names).not.toContain('Here')
    } finally {
      await core.call('workspace.open', { path: core.workspaceDir })
    }
    const ids = (await core.call('builder.list', {})).map((b: any) => b.id)
    expect(ids).toContain(here.id)
    expect(ids).toContain(legacyId)
    expect((await core.call('builder.list', {})).map((b: any) => b.name)).not.toContain('There')
  }, 60_000)
})
