/**
 * The submit form's model (strings, as typed) and its conversion to and from a JobSpec and a
 * SweepConfig. Pure: the dialog renders it, the tests pin it. Field errors use the spec's dotted
 * paths (`resources.gpus`, `hyperparameters.lr`, `metricDefinitions.0.regex`), as `jobs.validate` does.
 */
import { JobSpecSchema, SweepConfigSchema, type FieldError, type JobSpec, type JobTarget, type SweepConfig } from '../../../../shared/jobs'

export interface KeyValueRow {
  key: string
  value: string
}
export interface MetricRow {
  name: string
  regex: string
}
export interface SpaceRow {
  name: string
  mode: 'values' | 'range'
  /** Comma-separated, for mode values. */
  values: string
  min: string
  max: string
  log: boolean
  integer: boolean
}
export type EntryKind = 'script' | 'module' | 'command' | 'notebook'

export interface SweepForm {
  enabled: boolean
  strategy: 'grid' | 'random'
  space: SpaceRow[]
  maxTrials: string
  concurrency: string
  objectiveMetric: string
  goal: 'minimize' | 'maximize'
}

export interface JobForm {
  name: string
  /** 'local', 'slurm-local', or 'target:<id>'. */
  target: string
  entryKind: EntryKind
  entryValue: string
  args: string
  sourceDir: string
  python: string
  envVars: KeyValueRow[]
  /** Module names separated by commas, spaces or new lines. */
  modules: string
  hyperparameters: KeyValueRow[]
  cpus: string
  memoryMb: string
  gpus: string
  timeLimitMin: string
  partition: string
  nodes: string
  metricDefinitions: MetricRow[]
  experimentName: string
  sweep: SweepForm
  /** SageMaker targets: instances, image and limits. */
  sagemaker: SageMakerForm
  /** Kubernetes targets: image and PyTorchJob size. */
  kubernetes: KubernetesForm
}

export interface SageMakerForm {
  instanceType: string
  instanceCount: string
  /** A framework from the shipped image table, or 'custom' (imageUri). */
  framework: 'sklearn' | 'pytorch' | 'xgboost' | 'custom'
  imageUri: string
  volumeSizeGb: string
  maxRuntimeMin: string
  spot: boolean
  maxWaitMin: string
}

export interface KubernetesForm {
  image: string
  /** Workers > 0 makes a PyTorchJob (master + workers). */
  workers: string
  nprocPerNode: string
}

export const emptySpaceRow = (): SpaceRow => ({ name: '', mode: 'values', values: '', min: '', max: '', log: false, integer: false })

export function emptyForm(): JobForm {
  return {
    name: '',
    target: 'local',
    entryKind: 'script',
    entryValue: '',
    args: '',
    sourceDir: '',
    python: '',
    envVars: [],
    modules: '',
    hyperparameters: [],
    // defaults that apply are values, sent with the job: no GPUs, one node, the "Jobs" experiment
    cpus: '',
    memoryMb: '',
    gpus: '0',
    timeLimitMin: '',
    partition: '',
    nodes: '1',
    metricDefinitions: [],
    experimentName: 'Jobs',
    sweep: { enabled: false, strategy: 'grid', space: [], maxTrials: '', concurrency: '', objectiveMetric: '', goal: 'minimize' },
    sagemaker: { instanceType: 'ml.m5.large', instanceCount: '1', framework: 'sklearn', imageUri: '', volumeSizeGb: '30', maxRuntimeMin: '60', spot: false, maxWaitMin: '' },
    kubernetes: { image: '', workers: '0', nprocPerNode: '' }
  }
}

/** Splits an argument line like a shell does for quotes and backslashes (no expansion). */
export function splitArgs(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let has = false
  let quote: '"' | "'" | null = null
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === quote) quote = null
      else if (c === '\\' && quote === '"' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i]
      else cur += c
    } else if (c === '"' || c === "'") {
      quote = c
      has = true
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i]
      has = true
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur)
      cur = ''
      has = false
    } else cur += c
  }
  if (has || cur) out.push(cur)
  return out
}

/** The inverse of splitArgs: quotes only what needs it. */
export function joinArgs(args: string[]): string {
  return args.map((a) => (a !== '' && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/** A typed value: numbers and true/false become numbers and booleans, everything else stays text. */
export function parseValue(s: string): string | number | boolean {
  const t = s.trim()
  if (t === 'true') return true
  if (t === 'false') return false
  if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return Number(t)
  return t
}

export function targetValue(target: JobSpec['target']): string {
  if (target.kind === 'local') return 'local'
  if (target.kind === 'slurm' && !target.targetId) return 'slurm-local'
  return `target:${target.targetId}`
}

export function targetFromValue(value: string, targets: JobTarget[]): JobSpec['target'] | null {
  if (value === 'local') return { kind: 'local' }
  if (value === 'slurm-local') return { kind: 'slurm' }
  if (value.startsWith('target:')) {
    const t = targets.find((x) => x.id === value.slice(7))
    return t ? { kind: t.kind, targetId: t.id } : null
  }
  return null
}

/** True when the chosen target runs Slurm (Slurm-only fields apply). */
export function isSlurmTarget(value: string, targets: JobTarget[]): boolean {
  return targetFromValue(value, targets)?.kind === 'slurm'
}

function intField(errors: FieldError[], field: string, label: string, raw: string): number | undefined {
  const t = raw.trim()
  if (t === '') return undefined
  if (!/^\d+$/.test(t)) {
    errors.push({ field, message: `${label} must be a whole number` })
    return undefined
  }
  return Number(t)
}

function rowsToRecord<V>(errors: FieldError[], field: string, rows: KeyValueRow[], value: (s: string) => V): Record<string, V> | undefined {
  const out: Record<string, V> = {}
  let any = false
  for (const r of rows) {
    const k = r.key.trim()
    if (k === '' && r.value.trim() === '') continue
    if (k === '') {
      errors.push({ field, message: `a row has a value but no name` })
      continue
    }
    if (Object.prototype.hasOwnProperty.call(out, k)) errors.push({ field: `${field}.${k}`, message: `${k} is given twice` })
    out[k] = value(r.value)
    any = true
  }
  return any ? out : undefined
}

/** Zod issue paths → the spec's dotted field names. */
export function issuesToFieldErrors(issues: { path: PropertyKey[]; message: string }[], prefix = ''): FieldError[] {
  return issues.map((i) => ({ field: prefix + i.path.map(String).join('.'), message: i.message }))
}

/** The form as a spec, with the errors found on the way (number parsing, duplicates, then the contract's schema). */
export function formToSpec(form: JobForm, targets: JobTarget[]): { spec: JobSpec | null; errors: FieldError[] } {
  const errors: FieldError[] = []
  const target = targetFromValue(form.target, targets)
  if (!target) errors.push({ field: 'target', message: 'choose where the job runs' })
  const args = splitArgs(form.args)
  const v = form.entryValue.trim()
  let entry: JobSpec['entry']
  if (form.entryKind === 'script') entry = { kind: 'script', path: v, ...(args.length ? { args } : {}) }
  else if (form.entryKind === 'module') entry = { kind: 'module', module: v, ...(args.length ? { args } : {}) }
  else if (form.entryKind === 'command') entry = { kind: 'command', command: form.entryValue }
  else entry = { kind: 'notebook', path: v }
  if (v === '') errors.push({ field: 'entry', message: `give the ${form.entryKind === 'notebook' ? 'notebook path' : form.entryKind}` })

  const vars = rowsToRecord(errors, 'env.vars', form.envVars, (s) => s)
  const modules = form.modules.split(/[\s,]+/).filter(Boolean)
  const env = {
    ...(form.python.trim() ? { python: form.python.trim() } : {}),
    ...(vars ? { vars } : {}),
    ...(modules.length ? { modules } : {})
  }
  const hyperparameters = rowsToRecord(errors, 'hyperparameters', form.hyperparameters, parseValue)
  const resources = {
    cpus: intField(errors, 'resources.cpus', 'CPUs', form.cpus),
    memoryMb: intField(errors, 'resources.memoryMb', 'Memory', form.memoryMb),
    gpus: intField(errors, 'resources.gpus', 'GPUs', form.gpus),
    timeLimitMin: intField(errors, 'resources.timeLimitMin', 'Time limit', form.timeLimitMin),
    partition: form.partition.trim() || undefined,
    nodes: intField(errors, 'resources.nodes', 'Nodes', form.nodes)
  }
  const res: Record<string, unknown> = Object.fromEntries(Object.entries(resources).filter(([, x]) => x !== undefined))
  let cloud: { sagemaker?: JobSpec['sagemaker']; kubernetes?: JobSpec['kubernetes'] } = {}
  if (target?.kind === 'sagemaker') {
    const sm = form.sagemaker
    const runtime = intField(errors, 'sagemaker.maxRuntimeSec', 'Max runtime', sm.maxRuntimeMin)
    const wait = intField(errors, 'sagemaker.spot.maxWaitSec', 'Max wait', sm.maxWaitMin)
    if (sm.spot && wait === undefined) errors.push({ field: 'sagemaker.spot.maxWaitSec', message: 'spot training needs a max wait (at least the max runtime)' })
    if (sm.spot && wait !== undefined && runtime !== undefined && wait < runtime) errors.push({ field: 'sagemaker.spot.maxWaitSec', message: 'the max wait must be at least the max runtime' })
    if (sm.framework === 'custom' && !sm.imageUri.trim()) errors.push({ field: 'sagemaker.imageUri', message: 'give the image URI' })
    const count = intField(errors, 'sagemaker.instanceCount', 'Instance count', sm.instanceCount)
    const volume = intField(errors, 'sagemaker.volumeSizeGb', 'Volume', sm.volumeSizeGb)
    // instances stand for CPUs, memory, GPUs and nodes on SageMaker
    for (const k of Object.keys(res)) delete res[k]
    cloud = {
      sagemaker: {
        instanceType: sm.instanceType.trim(),
        ...(sm.framework === 'custom' ? { imageUri: sm.imageUri.trim() } : { framework: sm.framework }),
        ...(count !== undefined ? { instanceCount: count } : {}),
        ...(volume !== undefined ? { volumeSizeGb: volume } : {}),
        ...(runtime !== undefined ? { maxRuntimeSec: runtime * 60 } : {}),
        ...(sm.spot && wait !== undefined ? { spot: { maxWaitSec: wait * 60 } } : {})
      }
    }
  } else if (target?.kind === 'kubernetes') {
    const k = form.kubernetes
    const workers = intField(errors, 'kubernetes.workers', 'Workers', k.workers)
    const nproc = intField(errors, 'resources.torchrun', 'Processes per node', k.nprocPerNode)
    cloud = { kubernetes: { image: k.image.trim(), ...(workers ? { workers } : {}) } }
    if (workers && nproc) res.torchrun = { nprocPerNode: nproc }
  }
  const metricDefinitions: { name: string; regex: string }[] = []
  form.metricDefinitions.forEach((m, i) => {
    if (!m.name.trim() && !m.regex.trim()) return
    if (!m.name.trim()) errors.push({ field: `metricDefinitions.${i}.name`, message: 'give the metric a name' })
    if (m.regex.trim()) {
      try {
        const re = new RegExp(m.regex)
        if (new RegExp(`${re.source}|`).exec('')!.length < 2) errors.push({ field: `metricDefinitions.${i}.regex`, message: 'the regex needs one capture group ( … ) around the number' })
      } catch (e) {
        errors.push({ field: `metricDefinitions.${i}.regex`, message: `not a valid regex: ${(e as Error).message}` })
      }
    }
    metricDefinitions.push({ name: m.name.trim(), regex: m.regex })
  })

  const candidate = {
    name: form.name.trim(),
    target: target ?? { kind: 'local' },
    entry,
    ...(form.sourceDir.trim() ? { sourceDir: form.sourceDir.trim() } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(hyperparameters ? { hyperparameters } : {}),
    ...(Object.keys(res).length ? { resources: res } : {}),
    ...(metricDefinitions.length ? { metricDefinitions } : {}),
    ...(form.experimentName.trim() ? { experimentName: form.experimentName.trim() } : {}),
    ...cloud
  }
  const parsed = JobSpecSchema.safeParse(candidate)
  if (!parsed.success) {
    const seen = new Set(errors.map((e) => e.field))
    for (const e of issuesToFieldErrors(parsed.error.issues)) {
      // one message per field: ours (clearer) first; the schema's for the rest
      const f = e.field.startsWith('entry.') ? 'entry' : e.field
      if (!seen.has(f)) {
        seen.add(f)
        errors.push({ field: f, message: e.message })
      }
    }
  }
  return { spec: parsed.success && errors.length === 0 ? parsed.data : null, errors }
}

export function specToForm(spec: JobSpec, sweep?: SweepConfig): JobForm {
  const f = emptyForm()
  f.name = spec.name
  f.target = targetValue(spec.target)
  f.entryKind = spec.entry.kind
  if (spec.entry.kind === 'script' || spec.entry.kind === 'notebook') f.entryValue = spec.entry.path
  else if (spec.entry.kind === 'module') f.entryValue = spec.entry.module
  else f.entryValue = spec.entry.command
  if ((spec.entry.kind === 'script' || spec.entry.kind === 'module') && spec.entry.args) f.args = joinArgs(spec.entry.args)
  f.sourceDir = spec.sourceDir ?? ''
  f.python = spec.env?.python ?? ''
  f.envVars = Object.entries(spec.env?.vars ?? {}).map(([key, value]) => ({ key, value }))
  f.modules = (spec.env?.modules ?? []).join(', ')
  f.hyperparameters = Object.entries(spec.hyperparameters ?? {}).map(([key, value]) => ({ key, value: String(value) }))
  const r = spec.resources ?? {}
  const s = (n: number | undefined) => (n === undefined ? '' : String(n))
  f.cpus = s(r.cpus)
  f.memoryMb = s(r.memoryMb)
  f.gpus = r.gpus === undefined ? f.gpus : s(r.gpus)
  f.timeLimitMin = s(r.timeLimitMin)
  f.partition = r.partition ?? ''
  f.nodes = r.nodes === undefined ? f.nodes : s(r.nodes)
  f.metricDefinitions = (spec.metricDefinitions ?? []).map((m) => ({ ...m }))
  f.experimentName = spec.experimentName ?? f.experimentName
  if (spec.sagemaker) {
    const sm = spec.sagemaker
    f.sagemaker = {
      instanceType: sm.instanceType,
      instanceCount: s(sm.instanceCount) || '1',
      framework: sm.imageUri ? 'custom' : (sm.framework ?? 'sklearn'),
      imageUri: sm.imageUri ?? '',
      volumeSizeGb: s(sm.volumeSizeGb) || f.sagemaker.volumeSizeGb,
      maxRuntimeMin: sm.maxRuntimeSec === undefined ? '' : String(Math.round(sm.maxRuntimeSec / 60)),
      spot: !!sm.spot,
      maxWaitMin: sm.spot ? String(Math.round(sm.spot.maxWaitSec / 60)) : ''
    }
  }
  if (spec.kubernetes) f.kubernetes = { image: spec.kubernetes.image, workers: s(spec.kubernetes.workers) || '0', nprocPerNode: s(r.torchrun?.nprocPerNode) }
  if (sweep) {
    f.sweep = {
      enabled: true,
      strategy: sweep.strategy,
      space: Object.entries(sweep.space).map(([name, d]) =>
        'values' in d
          ? { ...emptySpaceRow(), name, values: d.values.map(String).join(', ') }
          : { ...emptySpaceRow(), name, mode: 'range' as const, min: String(d.min), max: String(d.max), log: !!d.log, integer: !!d.integer }
      ),
      maxTrials: sweep.maxTrials === undefined ? '' : String(sweep.maxTrials),
      concurrency: sweep.concurrency === undefined ? '' : String(sweep.concurrency),
      objectiveMetric: sweep.objective?.metric ?? '',
      goal: sweep.objective?.goal ?? 'minimize'
    }
  }
  return f
}

/** The sweep part as a SweepConfig; field names are `sweep.<…>` (`sweep.space.<row>`, `sweep.maxTrials`…). */
export function formToSweep(s: SweepForm): { sweep: SweepConfig | null; errors: FieldError[] } {
  const errors: FieldError[] = []
  const space: SweepConfig['space'] = {}
  s.space.forEach((row, i) => {
    const name = row.name.trim()
    const field = `sweep.space.${i}`
    if (!name && !row.values.trim() && !row.min.trim() && !row.max.trim()) return
    if (!name) return errors.push({ field, message: 'give the hyperparameter a name' })
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) return errors.push({ field, message: `${name}: letters, digits, _ . - only, not starting with a digit` })
    if (space[name]) return errors.push({ field, message: `${name} is given twice` })
    if (row.mode === 'values') {
      const values = row.values.split(',').map((x) => x.trim()).filter(Boolean).map(parseValue)
      if (values.length === 0) return errors.push({ field, message: `${name}: give one or more comma-separated values` })
      space[name] = { values }
    } else {
      const min = Number(row.min)
      const max = Number(row.max)
      if (row.min.trim() === '' || !Number.isFinite(min)) return errors.push({ field, message: `${name}: min must be a number` })
      if (row.max.trim() === '' || !Number.isFinite(max)) return errors.push({ field, message: `${name}: max must be a number` })
      if (max <= min) return errors.push({ field, message: `${name}: max must be greater than min` })
      if (row.log && min <= 0) return errors.push({ field, message: `${name}: a log range needs min > 0` })
      if (s.strategy === 'grid') return errors.push({ field, message: `${name}: a grid needs a list of values; ranges are for random search` })
      space[name] = { min, max, ...(row.log ? { log: true } : {}), ...(row.integer ? { integer: true } : {}) }
    }
  })
  if (Object.keys(space).length === 0 && !errors.some((e) => e.field.startsWith('sweep.space'))) errors.push({ field: 'sweep.space', message: 'add at least one hyperparameter to sweep over' })
  const int = (raw: string, field: string, label: string) => {
    const t = raw.trim()
    if (t === '') return undefined
    if (!/^\d+$/.test(t) || Number(t) < 1) {
      errors.push({ field, message: `${label} must be a whole number ≥ 1` })
      return undefined
    }
    return Number(t)
  }
  const maxTrials = int(s.maxTrials, 'sweep.maxTrials', 'Max trials')
  const concurrency = int(s.concurrency, 'sweep.concurrency', 'Concurrency')
  if (s.strategy === 'random' && maxTrials === undefined && !errors.some((e) => e.field === 'sweep.maxTrials')) errors.push({ field: 'sweep.maxTrials', message: 'random search needs a number of trials' })
  const candidate: SweepConfig = {
    strategy: s.strategy,
    space,
    ...(maxTrials !== undefined ? { maxTrials } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(s.objectiveMetric.trim() ? { objective: { metric: s.objectiveMetric.trim(), goal: s.goal } } : {})
  }
  const parsed = SweepConfigSchema.safeParse(candidate)
  if (!parsed.success && errors.length === 0) errors.push(...issuesToFieldErrors(parsed.error.issues, 'sweep.'))
  return { sweep: parsed.success && errors.length === 0 ? parsed.data : null, errors }
}

/** Number of trials a grid sweep runs (product of the value counts, capped by maxTrials). */
export function gridSize(sweep: SweepConfig): number {
  let n = 1
  for (const d of Object.values(sweep.space)) n *= 'values' in d ? d.values.length : 1
  return sweep.maxTrials ? Math.min(n, sweep.maxTrials) : n
}

/** The errors of one field and of everything under it. */
export function errorsUnder(errors: FieldError[], field: string): FieldError[] {
  return errors.filter((e) => e.field === field || e.field.startsWith(field + '.'))
}

/** Strips a trailing `(copy N)` and adds the next one, for clone-and-edit. */
export function cloneName(name: string): string {
  const m = /^(.*?)(?:-copy(\d*))?$/.exec(name)!
  const base = m[1] || name
  const n = m[2] !== undefined ? Number(m[2] || '1') + 1 : 0
  const out = n ? `${base}-copy${n}` : `${base}-copy`
  return out.slice(0, 120)
}

/** A notebook as a job entry: relative to the workspace (the default source dir), else its own folder is the source. */
export function notebookEntry(path: string, workspace: string | null): Pick<JobSpec, 'name' | 'entry' | 'sourceDir'> {
  const norm = path.replace(/\\/g, '/')
  const ws = workspace?.replace(/\\/g, '/').replace(/\/+$/, '')
  const cut = norm.lastIndexOf('/')
  const base = norm.slice(cut + 1)
  const name = base.replace(/\.ipynb$/i, '').replace(/[^A-Za-z0-9._ -]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 120) || 'notebook'
  if (!norm.startsWith('/') && !/^[A-Za-z]:\//.test(norm)) return { name, entry: { kind: 'notebook', path: norm } }
  if (ws && norm.startsWith(ws + '/')) return { name, entry: { kind: 'notebook', path: norm.slice(ws.length + 1) } }
  return { name, entry: { kind: 'notebook', path: base }, sourceDir: path.slice(0, cut) || '/' }
}

/**
 * The name of a resubmitted job: `name-2`, `name-3`… (the next number not taken). A name that is
 * itself a resubmission (`train-2` while `train` exists) continues its family: `train-3`.
 */
export function resubmitName(name: string, existing: Iterable<string>): string {
  const names = new Set(existing)
  const m = /^(.*)-(\d+)$/.exec(name)
  const base = m && names.has(m[1]) ? m[1] : name
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = new RegExp(`^${esc}-(\\d+)$`)
  let n = 1
  for (const x of names) {
    const k = re.exec(x)
    if (k) n = Math.max(n, Number(k[1]))
  }
  const suffix = `-${n + 1}`
  return base.slice(0, 120 - suffix.length) + suffix
}
