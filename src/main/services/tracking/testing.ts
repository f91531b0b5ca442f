/** Test harness: a real SQLite file, the tracking service and its loopback REST server in a temp dir. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Events } from '../../../shared/api'
import { openDatabase, type AppDatabase } from '../../db'
import { silentLogger } from '../../log'
import { TrackingHttpServer } from './TrackingHttpServer'
import { TrackingService } from './TrackingService'

export interface ApiReply {
  status: number
  body: any
}

export interface TrackingHarness {
  root: string
  dataDir: string
  dbFile: string
  db: AppDatabase
  tracking: TrackingService
  server: TrackingHttpServer
  base: string
  token: string
  events: Events['tracking.changed'][]
  /** `api('POST', 'runs/create', {...})` → /api/2.0/mlflow/runs/create; GET bodies go to the query string. */
  api(method: 'GET' | 'POST', endpoint: string, body?: Record<string, unknown>): Promise<ApiReply>
  cleanup(): Promise<void>
}

/** Calls MLflow REST endpoints under `<base>/api/2.0/mlflow/` with the token: GET bodies as query strings (lists repeated). */
export function mlflowApi(base: string, token: string) {
  return async function api(method: 'GET' | 'POST', endpoint: string, body: Record<string, unknown> = {}): Promise<ApiReply> {
    let url = `${base}/api/2.0/mlflow/${endpoint}`
    const init: RequestInit = { method, headers: { Authorization: `Bearer ${token}` } }
    if (method === 'GET') {
      const q = new URLSearchParams()
      for (const [k, v] of Object.entries(body)) {
        if (Array.isArray(v)) for (const x of v) q.append(k, String(x))
        else if (v !== undefined) q.append(k, String(v))
      }
      url += `?${q}`
    } else {
      init.body = JSON.stringify(body)
      ;(init.headers as Record<string, string>)['Content-Type'] = 'application/json'
    }
    const r = await fetch(url, init)
    const text = await r.text()
    return { status: r.status, body: text ? JSON.parse(text) : null }
  }
}

export async function createTrackingHarness(opts: { throttleMs?: number } = {}): Promise<TrackingHarness> {
  const root = mkdtempSync(join(tmpdir(), 'atelier-tracking-'))
  const dataDir = join(root, 'data')
  const dbFile = join(dataDir, 'atelier.db')
  const db = openDatabase(dbFile)
  const events: Events['tracking.changed'][] = []
  const tracking = new TrackingService({
    db,
    dataDir,
    log: silentLogger,
    throttleMs: opts.throttleMs,
    emit: (event, payload) => {
      if (event === 'tracking.changed') events.push(payload as Events['tracking.changed'])
    }
  })
  const server = await TrackingHttpServer.start({ tracking, log: silentLogger })
  const base = server.url
  const token = server.token
  const api = mlflowApi(base, token)
  return {
    root,
    dataDir,
    dbFile,
    db,
    tracking,
    server,
    base,
    token,
    events,
    api,
    async cleanup() {
      await server.close()
      tracking.dispose()
      db.close()
      rmSync(root, { recursive: true, force: true })
    }
  }
}
