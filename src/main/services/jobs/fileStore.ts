/**
 * MLflow's file store as a way home for a job's metrics. Where the tracking server cannot be
 * reached from where a job runs (a compute node with no route back, or an app that is closed),
 * the job's MLFLOW_TRACKING_URI is `file:<job folder>/mlruns`: the real `mlflow` client and
 * `atelier.tracking` write MLflow's layout there
 *
 *   mlruns/<experiment id>/meta.yaml
 *   mlruns/<experiment id>/<run id>/meta.yaml
 *   mlruns/<experiment id>/<run id>/metrics/<key>   one `<timestamp ms> <value> <step>` line per point
 *   mlruns/<experiment id>/<run id>/params/<key>    the value
 *   mlruns/<experiment id>/<run id>/tags/<key>      the value
 *
 * and the app ingests it into the job's run: each metrics file from the byte offset it had read
 * to, whole lines only (a line still being written waits for its newline), params and tags when
 * their size changed. Offsets are stored with the points in one transaction, so reading again,
 * after a crash or an app restart, never adds a point twice nor skips one.
 */
import { createHash } from 'node:crypto'
import { lstat, readdir, readFile } from 'node:fs/promises'
import { join, posix } from 'node:path'
import type { MetricIn } from '../tracking/validate'
import { q } from './spec'
import type { Runner } from './types'

/** How far a run's files have been read: bytes per metrics file, sizes of params/tags files (keys relative to the run folder). */
export interface FileStoreOffsets {
  metrics: Record<string, number>
  params: Record<string, number>
  tags: Record<string, number>
}

export const emptyOffsets = (): FileStoreOffsets => ({ metrics: {}, params: {}, tags: {} })

export function parseOffsets(json: string | null | undefined): FileStoreOffsets {
  try {
    const o = JSON.parse(json ?? '{}') as Partial<FileStoreOffsets>
    return { metrics: o.metrics ?? {}, params: o.params ?? {}, tags: o.tags ?? {} }
  } catch {
    return emptyOffsets()
  }
}

const yamlStr = (s: string) => `'${s.replace(/'/g, "''")}'`

/**
 * The run folder a tuning trial's store is seeded with. A tuning job runs one definition for all its
 * trials, so none can be handed its run's id: the launcher renames this folder (and the id in its
 * meta.yaml) to `trialRunId` of the training job SageMaker started, which the app knows once it lists
 * the tuning job's training jobs.
 */
export const TRIAL_RUN = 'TRIAL_RUN'

/** The run id a tuning trial writes its store under: the MD5 of its training job's name, as 32 hex digits (an MLflow run id's shape). */
export const trialRunId = (trainingJobName: string): string => createHash('md5').update(trainingJobName).digest('hex')

/**
 * The experiment's and run's meta.yaml (as MLflow's FileStore writes them), so that `mlflow.start_run()`
 * with MLFLOW_RUN_ID set continues this run in the file store. Paths are relative to the job folder.
 */
export function fileStoreSeed(o: { mlruns: string; experimentId: string; experimentName: string; runs: { runId: string; runName: string }[]; now: number; user?: string }): Record<string, string> {
  const exp = posix.join(o.mlruns, o.experimentId)
  const files: Record<string, string> = {
    [`mlruns/${o.experimentId}/meta.yaml`]: [
      `artifact_location: ${yamlStr(`file://${exp}`)}`,
      `creation_time: ${o.now}`,
      `experiment_id: ${yamlStr(o.experimentId)}`,
      `last_update_time: ${o.now}`,
      'lifecycle_stage: active',
      `name: ${yamlStr(o.experimentName)}`,
      ''
    ].join('\n')
  }
  for (const r of o.runs) {
    files[`mlruns/${o.experimentId}/${r.runId}/meta.yaml`] = [
      `artifact_uri: ${yamlStr(`file://${posix.join(exp, r.runId, 'artifacts')}`)}`,
      'end_time: null',
      "entry_point_name: ''",
      `experiment_id: ${yamlStr(o.experimentId)}`,
      'lifecycle_stage: active',
      `run_id: ${r.runId}`,
      `run_name: ${yamlStr(r.runName)}`,
      `run_uuid: ${r.runId}`,
      "source_name: ''",
      'source_type: 4',
      "source_version: ''",
      `start_time: ${o.now}`,
      'status: 1',
      'tags: []',
      `user_id: ${yamlStr(o.user ?? 'atelier')}`,
      ''
    ].join('\n')
  }
  return files
}

const NUMBER = /^[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)$/

/** A metric value as MLflow's file store writes it (`repr(float)`, nan, inf, -inf). */
function parseValue(s: string): number | null {
  const l = s.toLowerCase()
  if (l === 'nan') return NaN
  if (l === 'inf' || l === 'infinity' || l === '+inf') return Infinity
  if (l === '-inf' || l === '-infinity') return -Infinity
  return NUMBER.test(s) ? Number(s) : null
}

/**
 * The points in a metrics file's bytes read from some offset: complete lines only (`bytes` is how
 * far they reach; a last line without its newline is left for the next read). Lines that are not
 * `<timestamp> <value> [<step>]` are skipped and counted.
 */
export function parseMetricLines(key: string, chunk: Buffer): { points: MetricIn[]; bytes: number; bad: number } {
  const end = chunk.lastIndexOf(0x0a)
  if (end < 0) return { points: [], bytes: 0, bad: 0 }
  const points: MetricIn[] = []
  let bad = 0
  for (const raw of chunk.subarray(0, end).toString('utf8').split('\n')) {
    const line = raw.trim()
    if (line === '') continue
    const [ts, v, step, ...rest] = line.split(/\s+/)
    const timestamp = Number(ts)
    const value = v === undefined ? null : parseValue(v)
    const st = step === undefined ? 0 : Number(step)
    if (rest.length > 0 || !Number.isSafeInteger(timestamp) || value === null || !Number.isSafeInteger(st)) {
      bad++
      continue
    }
    points.push({ key, value, timestamp, step: st })
  }
  return { points, bytes: end + 1, bad }
}

export interface ListedFile {
  /** Relative to the run folder: `metrics/loss`, `params/lr`, `tags/x/y`. */
  path: string
  size: number
}

/** Files under a run folder's metrics/, params/ and tags/ (with sizes): the local file system, or one `find` over the runner. */
export async function listRunFiles(runner: Runner, runDir: string): Promise<ListedFile[]> {
  if (runner.local) {
    const out: ListedFile[] = []
    const walk = async (rel: string): Promise<void> => {
      let entries
      try {
        entries = await readdir(join(runDir, rel), { withFileTypes: true })
      } catch {
        return
      }
      for (const e of entries) {
        const p = `${rel}/${e.name}`
        if (e.isDirectory()) await walk(p)
        else if (e.isFile() && !/\.tmp-\d+$/.test(e.name)) out.push({ path: p, size: (await lstat(join(runDir, p))).size })
      }
    }
    for (const d of ['metrics', 'params', 'tags']) await walk(d)
    return out
  }
  const r = await runner.sh(`cd ${q(runDir)} 2>/dev/null || exit 0\nfind metrics params tags -type f -printf '%s\\t%p\\n' 2>/dev/null; exit 0`)
  if (r.code !== 0) throw new Error(`listing ${runDir} on ${runner.label} failed: ${(r.stderr || r.stdout).trim()}`)
  return r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([size, p]) => p && /^\d+$/.test(size) && !/\.tmp-\d+$/.test(p))
    .map(([size, p]) => ({ path: p, size: Number(size) }))
}

/** A file's bytes from `from` to `to` (at most), through the runner; whole files for params/tags. */
async function readRange(runner: Runner, path: string, from: number, to: number): Promise<Buffer> {
  if (runner.local && from === 0) return readFile(path).catch(() => Buffer.alloc(0))
  return runner.read(path, from, Math.max(0, to - from))
}

/** What is new in a run's file store since `offsets`: points, params and tags, and the offsets after them. */
export async function readNew(
  runner: Runner,
  runDir: string,
  offsets: FileStoreOffsets,
  maxBytes = 8 << 20
): Promise<{ metrics: MetricIn[]; params: { key: string; value: string }[]; tags: { key: string; value: string }[]; offsets: FileStoreOffsets; bad: number; more: boolean }> {
  const next: FileStoreOffsets = { metrics: { ...offsets.metrics }, params: { ...offsets.params }, tags: { ...offsets.tags } }
  const metrics: MetricIn[] = []
  const params: { key: string; value: string }[] = []
  const tags: { key: string; value: string }[] = []
  let bad = 0
  let budget = maxBytes
  let more = false
  for (const f of await listRunFiles(runner, runDir)) {
    const [kind, ...rest] = f.path.split('/')
    const key = rest.join('/')
    if (!key) continue
    if (kind === 'metrics') {
      const from = next.metrics[key] ?? 0
      if (f.size <= from) continue
      if (budget <= 0) {
        more = true
        continue
      }
      const to = Math.min(f.size, from + budget)
      const chunk = await readRange(runner, posix.join(runDir, f.path), from, to)
      const parsed = parseMetricLines(key, chunk.subarray(0, to - from))
      budget -= parsed.bytes
      if (to < f.size) more = true
      metrics.push(...parsed.points)
      bad += parsed.bad
      if (parsed.bytes > 0) next.metrics[key] = from + parsed.bytes
    } else if (kind === 'params' || kind === 'tags') {
      const seen = next[kind][key]
      if (seen === f.size) continue
      const buf = await readRange(runner, posix.join(runDir, f.path), 0, f.size)
      ;(kind === 'params' ? params : tags).push({ key, value: buf.toString('utf8') })
      next[kind][key] = buf.length
    }
  }
  return { metrics, params, tags, offsets: next, bad, more }
}
