/**
 * Shadow evaluation by replay: the last N captured requests (live, answered 200) sent again to
 * scoring servers of the model's last approved versions, started for the occasion beside the
 * endpoint. Per version: agreement with the answers the endpoint served, its own latency, and,
 * where the captured rows carry a label column (scoring servers drop extra columns, so clients may
 * send the truth along), accuracy and mean absolute error beside the served answers'.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { ReplayResult, ReplayVersion } from '../../../shared/endpoints'
import { AppError } from '../../../shared/errors'
import type { EndpointBackend } from './backend'
import { requestRecords, sqlString } from './capture'

export interface ReplayDeps {
  endpoint: string
  model: string
  interpreter: string
  captureDir: string
  backend: EndpointBackend
  connect: () => Promise<DuckDBConnection>
  flushCapture: () => Promise<void>
  /** Versions to compare, newest first, with their aliases. */
  versions: { version: number; aliases: string[] }[]
  modelDir: (version: number) => string
  /** Versions the endpoint serves now. */
  served: number[]
}

interface Captured {
  request: string
  contentType: string
  predictions: unknown[]
  latencyMs: number
  labels: unknown[] | null
}

const quantile = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

const same = (a: unknown, b: unknown): boolean =>
  typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) : JSON.stringify(a) === JSON.stringify(b)

/** Accuracy (exact match) and, where both sides are numbers, mean absolute error, over the labelled rows. */
function labelMetrics(preds: unknown[][], labels: (unknown[] | null)[]): { accuracy: number | null; mae: number | null } {
  let n = 0
  let hits = 0
  let absSum = 0
  let numeric = 0
  preds.forEach((p, i) => {
    const l = labels[i]
    if (!l) return
    p.forEach((y, j) => {
      if (l[j] === null || l[j] === undefined) return
      n++
      if (same(y, l[j]) || String(y) === String(l[j])) hits++
      const a = Number(y)
      const b = Number(l[j])
      if (typeof y !== 'boolean' && Number.isFinite(a) && Number.isFinite(b) && l[j] !== '') {
        numeric++
        absSum += Math.abs(a - b)
      }
    })
  })
  return { accuracy: n ? hits / n : null, mae: numeric ? absSum / numeric : null }
}

async function readCaptured(d: ReplayDeps, n: number, labelColumn: string | null): Promise<Captured[]> {
  await d.flushCapture()
  if (!existsSync(d.captureDir) || !readdirSync(d.captureDir).some((f) => f.endsWith('.parquet'))) return []
  const conn = await d.connect()
  try {
    const r = await conn.runAndReadAll(
      `SELECT request, content_type, response, latency_ms FROM read_parquet(${sqlString(join(d.captureDir, '*.parquet'))})
       WHERE NOT shadow AND status = 200 ORDER BY time DESC LIMIT ${Math.floor(n)}`
    )
    const out: Captured[] = []
    for (const row of (r.getRowObjectsJson() as Record<string, unknown>[]).reverse()) {
      let predictions: unknown[]
      try {
        const body = JSON.parse(String(row.response)) as { predictions?: unknown }
        if (!Array.isArray(body.predictions)) continue
        predictions = body.predictions
      } catch {
        continue
      }
      const contentType = String(row.content_type)
      const records = labelColumn ? requestRecords(String(row.request), contentType) : null
      out.push({
        request: String(row.request),
        contentType,
        predictions,
        latencyMs: Number(row.latency_ms),
        labels: records && records.some((rec) => labelColumn! in rec) ? records.map((rec) => rec[labelColumn!] ?? null) : null
      })
    }
    return out
  } finally {
    conn.closeSync()
  }
}

export async function replay(d: ReplayDeps, p: { n: number; labelColumn?: string }): Promise<ReplayResult> {
  const labelColumn = p.labelColumn?.trim() || null
  const captured = await readCaptured(d, p.n, labelColumn)
  if (captured.length === 0)
    throw new AppError('INVALID_STATE', `Endpoint '${d.endpoint}' has no captured requests answered 200 to replay (turn capture on and send some traffic)`)
  if (d.versions.length === 0) throw new AppError('INVALID_STATE', `Model '${d.model}' has no approved versions to replay against`)
  const labels = captured.map((c) => c.labels)
  const servedMetrics = labelMetrics(
    captured.map((c) => c.predictions),
    labels
  )
  const rows = captured.reduce((a, c) => a + c.predictions.length, 0)
  const versions: ReplayVersion[] = []
  for (const v of d.versions) {
    const base = { version: v.version, aliases: v.aliases, servedNow: d.served.includes(v.version) }
    let runtime
    try {
      runtime = await d.backend.start({ key: `${d.endpoint}--replay--v${v.version}`, modelDir: d.modelDir(v.version), interpreter: d.interpreter, onChange: () => undefined })
      await runtime.ready()
      const target = runtime.target()
      if (!target) throw new Error(runtime.info().error ?? 'the scoring server did not start')
      const url = `http://${target.host}:${target.port}/invocations`
      // one unmeasured request first: a fresh server's first answer pays for lazy imports
      await fetch(url, { method: 'POST', headers: { 'content-type': captured[0].contentType }, body: captured[0].request, signal: AbortSignal.timeout(30_000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined)
      const latencies: number[] = []
      const preds: unknown[][] = []
      let agree = 0
      let errors = 0
      for (const c of captured) {
        const t0 = performance.now()
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': c.contentType }, body: c.request, signal: AbortSignal.timeout(30_000) })
        const text = await r.text()
        latencies.push(performance.now() - t0)
        let got: unknown[] | null = null
        if (r.ok) {
          try {
            const body = JSON.parse(text) as { predictions?: unknown }
            if (Array.isArray(body.predictions)) got = body.predictions
          } catch {
            got = null
          }
        }
        if (!got) {
          errors++
          preds.push(c.predictions.map(() => null))
          continue
        }
        preds.push(got)
        c.predictions.forEach((y, j) => {
          if (same(y, got![j])) agree++
        })
      }
      const m = labelMetrics(preds, labels)
      versions.push({
        ...base,
        state: 'ok',
        agreement: rows ? agree / rows : 0,
        errors,
        p50: quantile(latencies, 0.5),
        p95: quantile(latencies, 0.95),
        accuracy: m.accuracy,
        mae: m.mae,
        accuracyDelta: m.accuracy !== null && servedMetrics.accuracy !== null ? m.accuracy - servedMetrics.accuracy : null,
        maeDelta: m.mae !== null && servedMetrics.mae !== null ? m.mae - servedMetrics.mae : null
      })
    } catch (err) {
      versions.push({ ...base, state: 'failed', error: (err as Error).message, agreement: null, errors: captured.length, p50: null, p95: null, accuracy: null, mae: null, accuracyDelta: null, maeDelta: null })
    } finally {
      await runtime?.stop().catch(() => undefined)
    }
  }
  const servedLatency = captured.map((c) => c.latencyMs)
  return {
    endpoint: d.endpoint,
    model: d.model,
    requests: captured.length,
    rows,
    labelColumn,
    labelled: labels.some((l) => l !== null),
    served: { p50: quantile(servedLatency, 0.5), p95: quantile(servedLatency, 0.95), accuracy: servedMetrics.accuracy, mae: servedMetrics.mae },
    versions
  }
}
