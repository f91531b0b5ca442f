/** Pure display helpers of the Jobs room: states, durations, values (no API, no DOM). */
import type { JobInfo, JobState, SweepTrial } from '../../../../shared/jobs'

export const ACTIVE_STATES: readonly JobState[] = ['queued', 'starting', 'running']

export function isActive(state: JobState | 'pending'): boolean {
  return state === 'pending' || (ACTIVE_STATES as readonly string[]).includes(state)
}

/** A glyph next to the state word, so that state never relies on colour alone. */
export const STATE_GLYPH: Record<JobState | 'pending', string> = {
  pending: '○',
  queued: '◷',
  starting: '◔',
  running: '▶',
  succeeded: '✓',
  failed: '✕',
  cancelled: '⊘',
  lost: '?'
}

/** `1:02:03`, `4:05`, `0:07`; null when it never started. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—'
  const s = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const two = (n: number) => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`
}

/** How long a job ran (or has been running, at `now`). Queued time is not counted. */
export function jobDurationMs(job: Pick<JobInfo, 'startedAt' | 'endedAt' | 'state'>, now: number): number | null {
  if (!job.startedAt) return null
  const start = Date.parse(job.startedAt)
  const end = job.endedAt ? Date.parse(job.endedAt) : isActive(job.state) ? now : null
  return end === null ? null : end - start
}

export function formatTimestamp(iso: string | null): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

export function formatHp(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))
  return String(v)
}

export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(5)))
}

/** Index of the best finished trial by its objective, or null. */
export function bestTrialIndex(trials: SweepTrial[], goal: 'minimize' | 'maximize'): number | null {
  let best: SweepTrial | null = null
  for (const t of trials) {
    if (t.objective === null || !Number.isFinite(t.objective)) continue
    if (!best || (goal === 'minimize' ? t.objective < best.objective! : t.objective > best.objective!)) best = t
  }
  return best ? best.index : null
}

/** Jobs newest first, filtered by a state filter: 'all', 'active', or one state. */
export function filterJobs(jobs: JobInfo[], filter: string): JobInfo[] {
  const keep =
    filter === 'all' ? () => true : filter === 'active' ? (j: JobInfo) => isActive(j.state) : (j: JobInfo) => j.state === filter
  return jobs.filter(keep).sort((a, b) => (a.submittedAt < b.submittedAt ? 1 : a.submittedAt > b.submittedAt ? -1 : a.id < b.id ? 1 : -1))
}
