/**
 * From a job spec to what runs: meaning checks (field errors before anything is submitted), the
 * source files to ship (honouring .gitignore), the entry command line with hyperparameters, and
 * the notebook → script conversion.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, normalize, relative } from 'node:path'
import type { FieldError, JobSpec } from '../../../shared/jobs'

export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** HP_LEARNING_RATE for learning-rate / learning.rate. */
export const hpEnvName = (name: string) => 'HP_' + name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')

export interface ValidationContext {
  sourceDir: string | null
  /** GPUs the target can offer (null: unknown, e.g. a Slurm cluster whose gres we don't know). */
  gpus: number | null
  backend: JobSpec['target']['kind']
  targetExists: boolean
}

/** Meaning checks over a spec that already passed the schema. Empty when it may be submitted. */
export function checkSpec(spec: JobSpec, ctx: ValidationContext): FieldError[] {
  const errors: FieldError[] = []
  const add = (field: string, message: string) => errors.push({ field, message })
  if (!ctx.targetExists) add('target.targetId', 'no saved target has this id')
  const src = ctx.sourceDir
  if (!src) add('sourceDir', 'choose a source folder (no workspace is open)')
  else if (!isAbsolute(src)) add('sourceDir', 'must be an absolute path')
  else if (!existsSync(src) || !statSync(src).isDirectory()) add('sourceDir', `${src} is not a folder`)
  const inside = (p: string, field: string, ext?: string) => {
    if (!src || !existsSync(src)) return
    if (isAbsolute(p) || normalize(p).startsWith('..')) return add(field, 'must be a path inside the source folder')
    const full = join(src, p)
    if (!existsSync(full) || !statSync(full).isFile()) return add(field, `${p} does not exist in ${src}`)
    if (ext && !p.endsWith(ext)) add(field, `must be a ${ext} file`)
  }
  if (spec.entry.kind === 'script') inside(spec.entry.path, 'entry.path')
  if (spec.entry.kind === 'notebook') inside(spec.entry.path, 'entry.path', '.ipynb')
  const r = spec.resources ?? {}
  if ((r.gpus ?? 0) > 0 && ctx.gpus !== null && (r.gpus ?? 0) > ctx.gpus) {
    add('resources.gpus', ctx.gpus === 0 ? `${ctx.backend === 'local' ? 'this machine' : 'the target'} has no GPUs` : `only ${ctx.gpus} GPU(s) available`)
  }
  if (ctx.backend !== 'slurm') {
    if ((r.nodes ?? 1) > 1) add('resources.nodes', 'several nodes need a Slurm target')
    if (r.torchrun && ctx.backend !== 'kubernetes') add('resources.torchrun', 'multi-node torchrun needs a Slurm or Kubernetes target')
    if (r.partition) add('resources.partition', 'partitions exist on Slurm targets only')
    if (spec.env?.modules?.length) add('env.modules', 'module load lines apply to Slurm targets only')
  }
  if (ctx.backend === 'kubernetes' && !spec.kubernetes?.image) add('kubernetes.image', 'give the container image the job runs in')
  if (r.torchrun && spec.entry.kind !== 'script' && spec.entry.kind !== 'module') add('resources.torchrun', 'torchrun runs a script or a module')
  for (const [i, m] of (spec.metricDefinitions ?? []).entries()) {
    try {
      const re = new RegExp(m.regex)
      if (new RegExp(`${re.source}|`).exec('')!.length < 2) add(`metricDefinitions.${i}.regex`, 'needs one capture group for the value')
    } catch (err) {
      add(`metricDefinitions.${i}.regex`, `not a valid regular expression: ${(err as Error).message}`)
    }
  }
  for (const [i, p] of (spec.inputs ?? []).entries()) if (!isAbsolute(p) && src && !existsSync(join(src, p))) add(`inputs.${i}`, `${p} does not exist in the source folder`)
  return errors
}

const SKIP = new Set(['.git', 'node_modules', '.venv', 'venv', '__pycache__', '.ipynb_checkpoints', '.mypy_cache', '.pytest_cache'])

/** The files to ship: `git ls-files -co --exclude-standard` in a repository, else a walk skipping caches and VCS folders. */
export async function sourceFiles(dir: string, limit = 20_000): Promise<string[]> {
  const git = await gitOut(dir, ['ls-files', '-co', '--exclude-standard', '-z'])
  if (git !== null) {
    return git
      .split('\0')
      .filter((f) => f && existsSync(join(dir, f)) && statSync(join(dir, f)).isFile())
      .slice(0, limit)
  }
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (out.length >= limit) return
      if (SKIP.has(e.name)) continue
      const full = join(d, e.name)
      if (e.isDirectory()) walk(full)
      else if (e.isFile()) out.push(relative(dir, full))
    }
  }
  walk(dir)
  return out
}

function gitOut(dir: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', ['-C', dir, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => resolve(err ? null : String(stdout)))
  })
}

/** HEAD of the source folder when it is a git repository (with `-dirty` when it has changes). */
export async function gitCommit(dir: string): Promise<string | null> {
  const head = (await gitOut(dir, ['rev-parse', 'HEAD']))?.trim()
  if (!head) return null
  const dirty = (await gitOut(dir, ['status', '--porcelain', '--untracked-files=no']))?.trim()
  return dirty ? `${head}-dirty` : head
}

export const NOTEBOOK_SCRIPT = '_atelier_notebook.py'

/** A notebook's code cells in order; IPython magics (`%`, `%%`) and shell escapes (`!`) commented out. */
export function notebookToScript(ipynb: string, name: string): string {
  const nb = JSON.parse(ipynb) as { cells?: { cell_type: string; source: string | string[] }[] }
  const parts = [`# Converted by Atelier from ${name}: code cells in order; magics and shell escapes commented out.`]
  for (const [i, cell] of (nb.cells ?? []).entries()) {
    if (cell.cell_type !== 'code') continue
    const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source
    const lines = src.split('\n').map((l) => (/^\s*[%!]/.test(l) ? `# ${l}` : l))
    parts.push(`# %% cell ${i + 1}`, lines.join('\n'))
  }
  return parts.join('\n\n') + '\n'
}

export function readNotebookScript(sourceDir: string, path: string): string {
  return notebookToScript(readFileSync(join(sourceDir, path), 'utf8'), path)
}

/** `--name value` arguments, in key order. */
export function hpArgs(hp: Record<string, string | number | boolean>): string[] {
  return Object.entries(hp).flatMap(([k, v]) => [`--${k}`, String(v)])
}

export function hpEnv(hp: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(hp).map(([k, v]) => [hpEnvName(k), String(v)]))
}

/** The interpreter invocation (conda env wrapped with `conda run`). */
export function pythonOf(spec: JobSpec, fallback: string): string {
  const py = q(spec.env?.python ?? fallback)
  return spec.env?.condaEnv ? `conda run --no-capture-output -n ${q(spec.env.condaEnv)} ${py}` : py
}

/** The program and its arguments for the entry (without the interpreter for torchrun). */
export function entryArgs(spec: JobSpec, hp: Record<string, string | number | boolean>): { kind: 'python' | 'shell'; args: string[] } {
  const e = spec.entry
  switch (e.kind) {
    case 'script':
      return { kind: 'python', args: [e.path, ...(e.args ?? []), ...hpArgs(hp)] }
    case 'module':
      return { kind: 'python', args: ['-m', e.module, ...(e.args ?? []), ...hpArgs(hp)] }
    case 'notebook':
      return { kind: 'python', args: [NOTEBOOK_SCRIPT, ...hpArgs(hp)] }
    case 'command':
      return { kind: 'shell', args: [e.command] }
  }
}

/** The shell line that runs the entry, in the job's source copy. */
export function entryCommand(spec: JobSpec, hp: Record<string, string | number | boolean>, python: string): string {
  const { kind, args } = entryArgs(spec, hp)
  if (kind === 'shell') return `bash -c ${q(args[0])}`
  return `${pythonOf(spec, python)} -u ${args.map(q).join(' ')}`
}

/** `export K='v'` lines. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${q(v)}`)
    .join('\n')
}
