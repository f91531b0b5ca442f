/**
 * Metric definitions (name + regex with one capture group) applied to each new log line → run metrics;
 * step = occurrence count per series. Multi-host logs prefix each line with its host (`[algo-2] `,
 * `[job-worker-0] `): the primary host's values (SageMaker's algo-1, a PyTorchJob's master-0) keep the
 * metric's name, every other host gets its own series `<name>/<host>`, so hosts never interleave into
 * one zigzagging curve.
 */
import type { JobSpec } from '../../../shared/jobs'
import type { Logger } from '../../log'
import type { TrackingService } from '../tracking/TrackingService'
import type { JobRow } from './store'

const HOST_PREFIX = /^\[([A-Za-z0-9][A-Za-z0-9._-]*)\] /
const PRIMARY_HOST = /^algo-1$|(^|-)master-0$/

export function logRegexMetrics(d: { tracking: TrackingService; log: Logger }, r: JobRow, lines: string[], steps: Record<string, number>): void {
  const defs = (JSON.parse(r.spec) as JobSpec).metricDefinitions ?? []
  if (defs.length === 0 || !r.run_id) return
  const res = defs.map((d) => ({ name: d.name, re: new RegExp(d.regex) }))
  const points: { key: string; value: number; timestamp: number; step: number }[] = []
  const t = Date.now()
  for (const line of lines) {
    const host = HOST_PREFIX.exec(line)?.[1]
    const suffix = host && !PRIMARY_HOST.test(host) ? `/${host}` : ''
    for (const { name, re } of res) {
      const m = re.exec(line)
      const v = m ? Number(m[1]) : NaN
      if (!m || !Number.isFinite(v)) continue
      const key = name + suffix
      const step = steps[key] ?? 0
      steps[key] = step + 1
      points.push({ key, value: v, timestamp: t, step })
    }
  }
  if (points.length === 0) return
  try {
    for (let i = 0; i < points.length; i += 1000) d.tracking.runs.logBatch(r.run_id, points.slice(i, i + 1000), [], [])
    d.tracking.changed(r.experiment_id ?? '0', r.run_id)
  } catch (err) {
    d.log.warn(`metrics of job ${r.id} not logged`, err)
  }
}
