/**
 * Per-variant request metrics over the last hour, in 10-second buckets: counts, errors and a
 * bounded reservoir of latencies per bucket (percentiles are read from the reservoirs).
 */
import type { MetricPoint, VariantMetrics } from '../../../shared/endpoints'

export const BUCKET_MS = 10_000
const BUCKETS = 360 // one hour
const RESERVOIR = 512

interface Bucket {
  t: number
  requests: number
  errors: number
  seen: number
  lat: number[]
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export class VariantRecorder {
  private readonly buckets: Bucket[] = []

  constructor(private readonly now: () => number = Date.now) {}

  record(latencyMs: number, error: boolean): void {
    const t = Math.floor(this.now() / BUCKET_MS) * BUCKET_MS
    let b = this.buckets[this.buckets.length - 1]
    if (!b || b.t !== t) {
      b = { t, requests: 0, errors: 0, seen: 0, lat: [] }
      this.buckets.push(b)
      while (this.buckets.length > BUCKETS) this.buckets.shift()
    }
    b.requests++
    if (error) b.errors++
    b.seen++
    if (b.lat.length < RESERVOIR) b.lat.push(latencyMs)
    else {
      const j = Math.floor(Math.random() * b.seen)
      if (j < RESERVOIR) b.lat[j] = latencyMs
    }
  }

  snapshot(variant: string, shadow: boolean): VariantMetrics {
    const now = this.now()
    const live = this.buckets.filter((b) => b.t > now - BUCKETS * BUCKET_MS)
    const series: MetricPoint[] = live.map((b) => {
      const s = [...b.lat].sort((x, y) => x - y)
      return { t: b.t, requests: b.requests, errors: b.errors, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) }
    })
    const all = live.flatMap((b) => b.lat).sort((x, y) => x - y)
    const requests = live.reduce((a, b) => a + b.requests, 0)
    const errors = live.reduce((a, b) => a + b.errors, 0)
    const lastMinute = live.filter((b) => b.t >= now - 60_000)
    const span = Math.max(1, Math.min(60, (now - (lastMinute[0]?.t ?? now)) / 1000))
    return {
      variant,
      shadow,
      requests,
      errors,
      errorRate: requests ? errors / requests : 0,
      rps: lastMinute.reduce((a, b) => a + b.requests, 0) / span,
      p50: percentile(all, 50),
      p95: percentile(all, 95),
      p99: percentile(all, 99),
      series
    }
  }
}
