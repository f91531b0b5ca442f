/** Metric definitions (name + regex with one capture group) applied to each new log line → run metrics; step = occurrence count. */
import type { JobSpec } from '../../../shared/jobs'
import type { Logger } from '../../log'
import type { TrackingService } from '../tracking/TrackingService'
import type { JobRow } from './store'

export function logRegexMetrics(d: { tracking: TrackingService; log: Logger }, r: JobRow, lines: string[], steps: Record<string, number>): void {
  const defs = (JSON.parse(r.spec) as JobSpec).metricDefinitions ?? []
  if (defs.length === 0 || !r.run_id) return
  const res = defs.map((d) => ({ name: d.name, re: new RegExp(d.regex) }))
  const points: { key: string; value: number; timestamp: number; step: number }[] = []
  const t = Date.now()
  for (const line of lines) {
    for (const { name, re } of res) {
      const m = re.exec(line)
      const v = m ? Number(m[1]) : NaN
      if (!m || !Number.isFinite(v)) continue
      const step = steps[name] ?? 0
      steps[name] = step + 1
      points.push({ key: name, value: v, timestamp: t, step })
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
