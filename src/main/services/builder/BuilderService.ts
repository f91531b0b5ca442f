/**
 * The no-code model builder: builds are records in the data dir (one folder each: the exported
 * table, the Python state, fitted candidates, results); training, explanations and scoring run in
 * the user's interpreter through the shipped `atelier.builder` package. Quick builds and previews are
 * local processes; standard builds are jobs (any job target).
 */
import { randomUUID } from 'node:crypto'
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Events } from '../../../shared/api'
import type { Principal } from '../../../shared/auth'
import type {
  BiasReport,
  BuildCheck,
  BuildDetail,
  BuildInfo,
  BuildMode,
  BuildResults,
  BuildSettings,
  CandidateDetails,
  CandidateResult,
  ColumnsResult,
  Prediction,
  SplitSettings
} from '../../../shared/builder'
import { AppError } from '../../../shared/errors'
import type { JobInfo, JobLogEvent, JobSpec } from '../../../shared/jobs'
import type { Logger } from '../../log'
import { atelierPythonDir } from '../../pythonPath'
import type { JobService } from '../jobs/JobService'
import type { DuckEngine } from '../lake/engine'
import type { LakeService } from '../lake/LakeService'
import { quoteLiteral } from '../lake/sql'
import type { RegistryService } from '../registry/RegistryService'
import type { TrackingService } from '../tracking/TrackingService'
import { profileColumns } from './columns'
import { PredictServer, runBuilder, type PyLine, type PyRun } from './python'

export const DEFAULT_SPLIT: SplitSettings = { train: 70, validation: 15, test: 15, stratify: true, seed: 42 }
/** Tables above this many rows are sampled (with a notice). */
export const MAX_ROWS = 1_000_000
const MIN_ROWS = 50

export interface BuilderDeps {
  dataDir: string
  engine: DuckEngine
  lake: LakeService
  tracking: TrackingService
  jobs: JobService
  registry: RegistryService
  /** Interpreters discovered like the kernels' (first with scikit-learn is the default). */
  interpreters: { discover(refresh?: boolean): Promise<{ path: string }[]> }
  workspacePath: () => string | null
  emit: <E extends keyof Events>(event: E, payload: Events[E]) => void
  /** Job events (standard builds follow their job). */
  onJob: (status: (j: JobInfo) => void, log: (e: JobLogEvent) => void) => void
  log: Logger
}

interface BuildRecord extends Omit<BuildInfo, 'settings'> {
  settings: BuildInfo['settings']
  candidates: CandidateResult[]
  python: string | null
}

export class BuilderService {
  private readonly root: string
  private running = new Map<string, PyRun>()
  private predictors = new Map<string, PredictServer>()
  private checked = new Map<string, { sklearn: string; xgboost: boolean }>()
  private jobBuilds = new Map<string, string>()

  constructor(private readonly d: BuilderDeps) {
    this.root = join(d.dataDir, 'builder')
    mkdirSync(this.root, { recursive: true })
    d.onJob(
      (j) => this.onJobStatus(j),
      (e) => this.onJobLog(e)
    )
    // builds interrupted by a restart are not running any more (their jobs are followed again below)
    for (const b of this.all()) {
      if (b.state === 'running' && b.jobId) this.jobBuilds.set(b.jobId, b.id)
      else if (b.state === 'running') this.save({ ...this.record(b.id), state: 'failed', error: { code: 'BUILDER_FAILED', message: 'The app stopped during the build' } })
    }
  }

  // ---------- records ----------

  private dir(id: string): string {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('NOT_FOUND', `No build ${id}`)
    return join(this.root, id)
  }

  private record(id: string): BuildRecord {
    const f = join(this.dir(id), 'build.json')
    if (!existsSync(f)) throw new AppError('NOT_FOUND', `No build ${id}`, { buildId: id })
    return JSON.parse(readFileSync(f, 'utf8')) as BuildRecord
  }

  private save(r: BuildRecord): BuildRecord {
    r.updatedAt = new Date().toISOString()
    const dir = this.dir(r.id)
    mkdirSync(dir, { recursive: true })
    const tmp = join(dir, `build.json.${process.pid}.tmp`)
    writeFileSync(tmp, JSON.stringify(r))
    renameSync(tmp, join(dir, 'build.json'))
    const { python: _p, ...info } = r
    this.d.emit('builder.status', info)
    return r
  }

  private info(r: BuildRecord): BuildInfo {
    const { candidates: _c, python: _p, ...info } = r
    return info
  }

  /** The current workspace's builds (and those recorded before builds carried their workspace). */
  list(): BuildInfo[] {
    const ws = this.d.workspacePath()
    return this.all().filter((b) => b.workspace === undefined || b.workspace === ws)
  }

  private all(): BuildInfo[] {
    const out: BuildInfo[] = []
    for (const name of readdirSync(this.root)) {
      try {
        out.push(this.info(this.record(name)))
      } catch {
        // not a build folder
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  async create(p: { name: string; table: string }): Promise<BuildInfo> {
    await this.d.lake.catalogRelation(p.table)
    const now = new Date().toISOString()
    const r: BuildRecord = {
      id: randomUUID(),
      name: p.name,
      table: p.table,
      state: 'draft',
      mode: null,
      settings: { target: null, problemType: null, features: [], split: { ...DEFAULT_SPLIT } },
      createdAt: now,
      updatedAt: now,
      experimentName: `${p.name} (builder)`,
      workspace: this.d.workspacePath(),
      error: null,
      notices: [],
      best: null,
      bestScore: null,
      jobId: null,
      progress: null,
      candidates: [],
      python: null
    }
    return this.info(this.save(r))
  }

  get(id: string): BuildDetail {
    const r = this.record(id)
    return { ...this.info(r), candidates: r.candidates, results: this.readJson<BuildResults>(id, 'out/results.json'), preview: this.readJson<BuildResults>(id, 'preview/results.json') }
  }

  private readJson<T>(id: string, rel: string): T | null {
    const f = join(this.dir(id), rel)
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : null
  }

  delete(id: string): { ok: true } {
    this.record(id)
    this.running.get(id)?.cancel()
    this.predictors.get(id)?.close()
    this.predictors.delete(id)
    rmSync(this.dir(id), { recursive: true, force: true })
    return { ok: true }
  }

  update(id: string, settings: BuildSettings): BuildInfo {
    const r = this.record(id)
    if (r.state === 'running') throw new AppError('INVALID_STATE', 'The build is running: cancel it before changing its settings')
    const next = { ...r.settings, ...settings, split: settings.split ?? r.settings.split, features: settings.features ?? r.settings.features }
    if (settings.python !== undefined && settings.python !== r.settings.python) r.python = null
    return this.info(this.save({ ...r, settings: next }))
  }

  async columns(table: string, target?: string): Promise<ColumnsResult> {
    const rel = await this.d.lake.catalogRelation(table)
    return profileColumns(this.d.engine, rel, table, target)
  }

  // ---------- checks before anything long ----------

  private async python(r: BuildRecord): Promise<{ python: string; sklearn: string; xgboost: boolean }> {
    const tryOne = async (python: string) => {
      const hit = this.checked.get(python)
      if (hit) return { python, ...hit }
      const res = await runBuilder(python, ['check'], {}).done
      const v = { sklearn: String(res.sklearn), xgboost: Boolean(res.xgboost) }
      this.checked.set(python, v)
      return { python, ...v }
    }
    if (r.settings.python) return tryOne(r.settings.python)
    let firstError: unknown = null
    for (const i of await this.d.interpreters.discover()) {
      try {
        return await tryOne(i.path)
      } catch (err) {
        firstError ??= err
      }
    }
    if (firstError) throw firstError
    throw new AppError('BUILDER_PYTHON_MISSING', 'No Python interpreter was found: install Python 3 with scikit-learn and pandas', { hint: 'python3 -m pip install scikit-learn pandas' })
  }

  async check(id: string): Promise<BuildCheck & { relation: string }> {
    const r = this.record(id)
    const s = r.settings
    const bad = (message: string, details: Record<string, unknown> = {}) => new AppError('BUILDER_BAD_INPUT', message, details)
    if (!s.target) throw bad('Choose the target column (the column to predict)', { field: 'target' })
    if (s.features.length === 0) throw bad('Tick at least one input column', { field: 'features' })
    if (s.features.includes(s.target)) throw bad(`The target ${s.target} cannot also be an input column`, { field: 'features' })
    const sp = s.split
    if (Math.abs(sp.train + sp.validation + sp.test - 100) > 0.5) throw bad(`The split adds up to ${sp.train + sp.validation + sp.test}%, not 100%`, { field: 'split' })
    const relation = await this.d.lake.catalogRelation(r.table)
    const profile = await this.columns(r.table, s.target)
    const byName = new Map(profile.columns.map((c) => [c.name, c]))
    const missing = [s.target, ...s.features].filter((c) => !byName.has(c))
    if (missing.length) throw bad(`Not columns of ${r.table}: ${missing.join(', ')}`, { columns: missing })
    const target = byName.get(s.target)!
    const notices: string[] = []
    const withTarget = Math.round(profile.rows * (1 - target.missingPct / 100))
    if (withTarget < profile.rows) notices.push(`${(profile.rows - withTarget).toLocaleString('en-US')} rows have no ${s.target} and will be dropped.`)
    const ptype = s.problemType ?? profile.problemType
    if (ptype !== 'regression' && target.distinct < 2) throw bad(`${s.target} has only one value: a model needs at least two classes to tell apart`, { reason: 'BUILDER_ONE_CLASS' })
    const usable = Math.min(withTarget, sp.sampleRows ?? MAX_ROWS)
    const testRows = Math.floor((usable * sp.test) / 100)
    if (withTarget < MIN_ROWS || testRows < 10) throw bad(`Only ${withTarget} rows have a ${s.target}: too few to train, validate and test (at least ${MIN_ROWS})`, { reason: 'BUILDER_TOO_FEW_ROWS', rows: withTarget })
    for (const f of s.features) {
      const c = byName.get(f)!
      const w = c.warnings.find((x) => x.kind === 'free_text')
      if (w) throw bad(`${f} looks like free text, which the builder cannot use: untick it`, { column: f, reason: 'BUILDER_FREE_TEXT' })
      const gone = c.warnings.find((x) => x.kind === 'all_missing' || x.kind === 'constant')
      if (gone) notices.push(`${f}: ${gone.message.toLowerCase()}; it is left out.`)
    }
    const sampled = withTarget > (sp.sampleRows ?? MAX_ROWS)
    if (sampled) notices.push(`The table has ${profile.rows.toLocaleString('en-US')} rows; the build uses a random sample of ${(sp.sampleRows ?? MAX_ROWS).toLocaleString('en-US')}.`)
    const py = await this.python(r)
    return { python: py.python, sklearn: py.sklearn, xgboost: py.xgboost, rows: profile.rows, sampled, notices, relation }
  }

  // ---------- builds ----------

  async start(id: string, mode: BuildMode, jobTarget?: JobSpec['target']): Promise<BuildInfo> {
    if (this.running.has(id) || this.record(id).state === 'running') throw new AppError('INVALID_STATE', 'The build is already running')
    const chk = await this.check(id)
    const r = this.record(id)
    const dir = this.dir(id)
    const work = mode === 'preview' ? join(dir, 'preview') : join(dir, 'out')
    rmSync(work, { recursive: true, force: true })
    mkdirSync(work, { recursive: true })
    // the exact rows the build reads (the notebook reads the same file)
    const sample = chk.sampled ? ` USING SAMPLE reservoir(${r.settings.split.sampleRows ?? MAX_ROWS} ROWS) REPEATABLE (${r.settings.split.seed})` : ''
    const dataFile = join(dir, 'data.csv')
    await this.d.engine.run(`COPY (SELECT * FROM ${chk.relation}${sample}) TO ${quoteLiteral(dataFile)} (HEADER, DELIMITER ',')`)
    const cfg = {
      buildId: id,
      buildName: r.name,
      data: dataFile,
      outDir: work,
      mode,
      target: r.settings.target,
      features: r.settings.features,
      problemType: r.settings.problemType ?? undefined,
      seed: r.settings.split.seed,
      split: { train: r.settings.split.train, validation: r.settings.split.validation, test: r.settings.split.test, stratify: r.settings.split.stratify },
      experimentName: r.experimentName
    }
    const next: BuildRecord = { ...r, state: 'running', mode, error: null, notices: chk.notices, python: chk.python, progress: { stage: 'start', message: 'Starting', fraction: 0 }, jobId: null }
    if (mode !== 'preview') next.candidates = []
    this.predictors.get(id)?.close()
    this.predictors.delete(id)
    if (mode === 'standard') return this.info(this.save(await this.submitJob(next, cfg, jobTarget ?? { kind: 'local' })))
    writeFileSync(join(dir, `config.${mode}.json`), JSON.stringify(cfg))
    const run = runBuilder(chk.python, ['build', join(dir, `config.${mode}.json`)], this.d.tracking.trackingEnv(), (l) => this.onLine(id, l))
    this.running.set(id, run)
    this.save(next)
    run.done.then(
      (res) => this.finish(id, mode, res, null),
      (err: unknown) => this.finish(id, mode, null, err)
    )
    return this.info(next)
  }

  private onLine(id: string, l: PyLine): void {
    let r: BuildRecord
    try {
      r = this.record(id)
    } catch {
      return
    }
    if (l.type === 'progress') this.save({ ...r, progress: { stage: String(l.stage), message: String(l.message), fraction: Number(l.fraction) } })
    else if (l.type === 'notice') this.save({ ...r, notices: r.notices.includes(String(l.message)) ? r.notices : [...r.notices, String(l.message)] })
    else if (l.type === 'candidate' && r.mode !== 'preview') {
      const { type: _t, ...c } = l
      const cand = c as unknown as CandidateResult
      const list = r.candidates.filter((x) => x.name !== cand.name)
      this.save({ ...r, candidates: [...list, cand] })
    }
  }

  private finish(id: string, mode: BuildMode, res: PyLine | null, err: unknown): void {
    this.running.delete(id)
    let r: BuildRecord
    try {
      r = this.record(id)
    } catch {
      return
    }
    if (res) {
      const results = res as unknown as BuildResults
      const best = results.leaderboard.find((c) => c.name === results.best)
      const score = (best?.validation?.[results.objective] ?? null) as number | null
      const upd: BuildRecord = { ...r, state: 'succeeded', progress: { stage: 'done', message: 'Done', fraction: 1 } }
      if (mode !== 'preview') Object.assign(upd, { best: results.best, bestScore: score, candidates: results.leaderboard })
      else if (r.best === null) upd.state = 'draft'
      this.save(upd)
    } else {
      const e = err instanceof AppError ? err : new AppError('BUILDER_FAILED', String(err))
      if (!(e.code === 'CANCELLED')) this.d.log.warn(`build ${id} failed: ${e.message}`)
      this.save({ ...r, state: e.code === 'CANCELLED' ? 'cancelled' : 'failed', error: { code: e.code, message: e.message, ...(e.details?.hint ? { hint: String(e.details.hint) } : {}) }, progress: null })
    }
  }

  private async submitJob(r: BuildRecord, cfg: Record<string, unknown>, target: JobSpec['target']): Promise<BuildRecord> {
    // the job's folder: the data, the config with relative paths, and the atelier package (remote targets lack it)
    const src = join(this.dir(r.id), 'job')
    rmSync(src, { recursive: true, force: true })
    mkdirSync(src, { recursive: true })
    copyFileSync(String(cfg.data), join(src, 'data.csv'))
    writeFileSync(join(src, 'config.json'), JSON.stringify({ ...cfg, data: 'data.csv', outDir: 'out' }))
    const pyDir = atelierPythonDir()
    if (pyDir) cpSync(join(pyDir, 'atelier'), join(src, 'atelier'), { recursive: true, filter: (f) => !f.includes('__pycache__') })
    const python = target.kind === 'local' ? (r.python ?? 'python3') : 'python3'
    const job = await this.d.jobs.submit({
      name: `builder ${r.name}`.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 120),
      target,
      entry: { kind: 'command', command: `${shellQuote(python)} -m atelier.builder build config.json` },
      sourceDir: src,
      env: { vars: { PYTHONUNBUFFERED: '1' } },
      experimentName: r.experimentName
    })
    this.jobBuilds.set(job.id, r.id)
    return { ...r, jobId: job.id }
  }

  private onJobLog(e: JobLogEvent): void {
    const id = this.jobBuilds.get(e.jobId)
    if (!id) return
    for (const text of e.lines) {
      if (!text.startsWith('{"type"')) continue
      try {
        this.onLine(id, JSON.parse(text) as PyLine)
      } catch {
        // not one of ours
      }
    }
  }

  private onJobStatus(j: JobInfo): void {
    const id = this.jobBuilds.get(j.id)
    if (!id || !['succeeded', 'failed', 'cancelled', 'lost'].includes(j.state)) return
    this.jobBuilds.delete(j.id)
    void (async () => {
      if (j.state !== 'succeeded') {
        const err = j.state === 'cancelled' ? new AppError('CANCELLED', 'The build was cancelled') : new AppError('BUILDER_FAILED', `The build job ${j.state}${j.reason ? `: ${j.reason}` : ''}`)
        return this.finish(id, 'standard', null, err)
      }
      try {
        const detail = await this.d.jobs.get(j.id)
        const out = detail.workDir ? join(detail.workDir, 'src', 'out') : null
        if (!out || !existsSync(join(out, 'results.json'))) throw new AppError('BUILDER_FAILED', 'The job finished but its results are not on this machine (remote targets: the runs are in the experiment)')
        const dest = join(this.dir(id), 'out')
        rmSync(dest, { recursive: true, force: true })
        cpSync(out, dest, { recursive: true })
        this.finish(id, 'standard', JSON.parse(readFileSync(join(dest, 'results.json'), 'utf8')) as PyLine, null)
      } catch (err) {
        this.finish(id, 'standard', null, err)
      }
    })()
  }

  async cancel(id: string): Promise<BuildInfo> {
    const r = this.record(id)
    const run = this.running.get(id)
    if (run) run.cancel()
    else if (r.jobId && r.state === 'running') await this.d.jobs.cancel(r.jobId)
    else if (r.state === 'running') this.save({ ...r, state: 'cancelled', progress: null })
    return this.info(this.record(id))
  }

  // ---------- results ----------

  private finished(id: string, candidate?: string): { r: BuildRecord; name: string; python: string; out: string } {
    const r = this.record(id)
    const res = this.readJson<BuildResults>(id, 'out/results.json')
    if (!res) throw new AppError('INVALID_STATE', 'The build has no results yet: run a quick or standard build first')
    const name = candidate ?? res.best
    const c = res.leaderboard.find((x) => x.name === name)
    if (!c || c.status !== 'done') throw new AppError('NOT_FOUND', `No finished candidate ${name} in this build`, { candidate: name })
    return { r, name, python: r.python ?? r.settings.python ?? 'python3', out: join(this.dir(id), 'out') }
  }

  private async cmd(id: string, cmd: string, cfg: Record<string, unknown>, python: string): Promise<PyLine> {
    const f = join(this.dir(id), `${cmd}.${randomUUID()}.json`)
    writeFileSync(f, JSON.stringify(cfg))
    try {
      return await runBuilder(python, [cmd, f], this.d.tracking.trackingEnv()).done
    } finally {
      rmSync(f, { force: true })
    }
  }

  async details(id: string, candidate?: string): Promise<CandidateDetails> {
    const { name, python, out } = this.finished(id, candidate)
    const res = this.readJson<BuildResults>(id, 'out/results.json')!
    if (res.details.candidate === name) return res.details
    const cached = this.readJson<CandidateDetails>(id, `out/details_${name}.json`)
    if (cached) return cached
    const { type: _t, ...d } = await this.cmd(id, 'details', { outDir: out, candidate: name }, python)
    writeFileSync(join(out, `details_${name}.json`), JSON.stringify(d))
    return d as unknown as CandidateDetails
  }

  async bias(id: string, column: string, candidate?: string, threshold?: number): Promise<BiasReport> {
    const { name, python, out } = this.finished(id, candidate)
    const runId = this.readJson<BuildResults>(id, 'out/results.json')!.leaderboard.find((c) => c.name === name)?.runId ?? null
    const { type: _t, ...rep } = await this.cmd(id, 'bias', { outDir: out, candidate: name, column, threshold: threshold ?? 0.5, runId }, python)
    return rep as unknown as BiasReport
  }

  async predict(id: string, row: Record<string, unknown>, candidate?: string): Promise<Prediction> {
    const { name, python, out } = this.finished(id, candidate)
    let server = this.predictors.get(id)
    if (!server || !server.alive) {
      server = new PredictServer(python, out)
      this.predictors.set(id, server)
    }
    const { type: _t, id: _i, ...p } = await server.predict(name, row)
    return p as unknown as Prediction
  }

  async batchPredict(id: string, table: string, output: string, principal: Principal, candidate?: string): Promise<{ table: string; rows: number; path: string }> {
    const { r, name, python, out } = this.finished(id, candidate)
    const ws = this.d.workspacePath()
    if (!ws) throw new AppError('INVALID_STATE', 'Open a workspace folder first: the scored table is saved there')
    const rel = await this.d.lake.catalogRelation(table)
    const tmp = join(this.dir(id), `batch-${randomUUID()}`)
    mkdirSync(tmp, { recursive: true })
    try {
      await this.d.engine.run(`COPY (SELECT * FROM ${rel}) TO ${quoteLiteral(join(tmp, 'in.csv'))} (HEADER, DELIMITER ',')`)
      const res = await this.cmd(id, 'batch', { outDir: out, candidate: name, input: join(tmp, 'in.csv'), output: join(tmp, 'out.csv') }, python)
      const folder = join(ws, 'builder', safeName(r.name))
      mkdirSync(folder, { recursive: true })
      const path = join(folder, `${output}.parquet`)
      if (existsSync(path)) throw new AppError('FILE_EXISTS', `${path} already exists; choose another table name`, { path })
      await this.d.engine.run(`COPY (SELECT * FROM read_csv_auto(${quoteLiteral(join(tmp, 'out.csv'))}, header = true)) TO ${quoteLiteral(path)} (FORMAT parquet)`)
      const src = await this.d.lake.addSource({ kind: 'file', location: path, name: output, format: 'parquet' }, principal)
      return { table: src.name, rows: Number(res.rows), path }
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  }

  async register(id: string, modelName: string, actor: Principal, candidate?: string): Promise<{ name: string; version: number; runId: string }> {
    const { r, name } = this.finished(id, candidate)
    const res = this.readJson<BuildResults>(id, 'out/results.json')!
    const cand = res.leaderboard.find((c) => c.name === name)!
    if (!cand.runId) throw new AppError('INVALID_STATE', 'This candidate was not logged to the tracking server, so it cannot be registered')
    const v = await this.d.registry.createVersionFromRun(
      { name: modelName, runId: cand.runId, artifactPath: 'model', createModel: true, description: `${name.replace(/_/g, ' ')} from the builder's "${r.name}"`, tags: { 'atelier.builder.build': id } },
      actor
    )
    const card = cardDraft(r, res, name, this.readBias(id, name))
    await this.d.registry.cards.save(modelName, v.version, card, actor)
    return { name: modelName, version: v.version, runId: cand.runId }
  }

  private readBias(id: string, candidate: string): BiasReport[] {
    const out = join(this.dir(id), 'out')
    return readdirSync(out)
      .filter((f) => f.startsWith(`bias_${candidate}_`) && f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as BiasReport)
  }

  async notebook(id: string, candidate?: string): Promise<{ path: string }> {
    const { r, name, python, out } = this.finished(id, candidate)
    const ws = this.d.workspacePath()
    if (!ws) throw new AppError('INVALID_STATE', 'Open a workspace folder first: the notebook is saved there')
    const folder = join(ws, 'builder', safeName(r.name))
    mkdirSync(folder, { recursive: true })
    const data = join(folder, 'data.csv')
    copyFileSync(join(this.dir(id), 'data.csv'), data)
    const path = join(folder, `${safeName(r.name)}-${name}.ipynb`)
    await this.cmd(id, 'notebook', { outDir: out, candidate: name, data, output: path, buildName: r.name }, python)
    return { path }
  }

  dispose(): void {
    for (const run of this.running.values()) run.cancel()
    for (const p of this.predictors.values()) p.close()
    this.predictors.clear()
  }
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'build'
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

const pct = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : 'n/a')

/** A model card draft from the build: data, columns, metrics, bias; intended use left to the analyst. */
export function cardDraft(r: BuildRecord | BuildInfo, res: BuildResults, candidate: string, bias: BiasReport[]) {
  const c = res.leaderboard.find((x) => x.name === candidate)
  const test = c?.test ?? {}
  const metrics = Object.entries(test)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `| ${k} | ${pct(v)} |`)
  return {
    trainingData: [
      `Table \`${r.table}\`: ${res.rows.total.toLocaleString('en-US')} rows used (train ${res.rows.train}, validation ${res.rows.validation}, test ${res.rows.test}; seed ${r.settings.split.seed}${r.settings.split.stratify ? ', stratified' : ''}).`,
      `Target: \`${r.settings.target}\` (${res.problemType}).`,
      `Columns used: ${res.features.map((f) => `\`${f}\``).join(', ')}.`,
      res.dropped.length ? `Left out as empty or constant: ${res.dropped.join(', ')}.` : '',
      ...res.notices
    ]
      .filter(Boolean)
      .join('\n\n'),
    evaluation: [`Model: ${candidate.replace(/_/g, ' ')} (best of ${res.leaderboard.length} candidates by validation ${res.objective}).`, '', '| metric (test split) | value |', '| --- | --- |', ...metrics].join('\n'),
    ethicalConsiderations: bias.length
      ? bias
          .map(
            (b) =>
              `Bias report on \`${b.column}\` (threshold ${b.threshold}):\n\n| group | size | positive rate | recall | DI | DPPL | equal opportunity difference |\n| --- | --- | --- | --- | --- | --- | --- |\n` +
              b.groups.map((g) => `| ${g.group} | ${g.size} | ${pct(g.positive_rate)} | ${pct(g.recall)} | ${pct(g.DI)} | ${pct(g.DPPL)} | ${pct(g.equal_opportunity_difference)} |`).join('\n')
          )
          .join('\n\n')
      : 'No bias report was run for this build.',
    limitations: 'Trained on one snapshot of the table; check it again when the data changes.'
  }
}
