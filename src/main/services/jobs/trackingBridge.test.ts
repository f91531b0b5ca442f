import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../log'
import { TrackingBridge } from './trackingBridge'

/** Stands in for the app's tracking door: answers with what it received. */
async function upstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ path: req.url, host: req.headers.host, auth: req.headers.authorization ?? null }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as AddressInfo).port }
}

/** One request on a fresh connection (a job's client, not a pooled keep-alive socket of the test). */
function httpGet(url: string, headers: Record<string, string>): Promise<{ status: number; json(): Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: async () => JSON.parse(body) }))
    })
    req.on('error', reject)
    req.end()
  })
}

function memorySecrets() {
  const m = new Map<string, string>()
  return { get: (k: string) => m.get(k), set: (k: string, v: string) => void m.set(k, v), map: m }
}

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

describe('TrackingBridge relay (jobs on this machine log across app restarts)', () => {
  it('forwards with the app door as it is now, refuses wrong tokens and foreign Host headers, and keeps its port and token across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-relay-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'jobs', 'tracking-relay.json')
    const secrets = memorySecrets()
    let door = await upstream()
    cleanups.push(() => door.server.close())
    let appToken = 'app-token-1'
    const tracking = { trackingEnv: () => ({ MLFLOW_TRACKING_URI: `http://127.0.0.1:${door.port}`, MLFLOW_TRACKING_TOKEN: appToken }) }

    const first = new TrackingBridge(tracking, silentLogger, secrets, file)
    const r1 = await first.relay()
    expect(r1.token).toHaveLength(48)
    // the token is a secret: kept in the secret store, not in the relay file
    expect(secrets.map.get('jobs.trackingRelay.token')).toBe(r1.token)
    expect(readFileSync(file, 'utf8')).not.toContain(r1.token)

    const get = (uri: string, token: string, host?: string) =>
      httpGet(`${uri}/api/2.0/mlflow/runs/get?run_id=1`, { Authorization: `Bearer ${token}`, ...(host ? { Host: host } : {}) })
    const ok = await get(r1.uri, r1.token)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ path: '/api/2.0/mlflow/runs/get?run_id=1', host: `127.0.0.1:${door.port}`, auth: 'Bearer app-token-1' })
    expect((await get(r1.uri, 'x'.repeat(48))).status).toBe(403)
    expect((await get(r1.uri, '')).status).toBe(403)
    expect((await get(r1.uri, r1.token, 'evil.example:80')).status).toBe(403)
    first.close()

    // the app restarts: its door has a new port and token; the relay comes back where it was
    door.server.close()
    door = await upstream()
    appToken = 'app-token-2'
    const second = new TrackingBridge(tracking, silentLogger, secrets, file)
    cleanups.push(() => second.close())
    const r2 = await second.relay()
    expect(r2).toEqual(r1)
    const again = await get(r2.uri, r2.token)
    expect(await again.json()).toMatchObject({ host: `127.0.0.1:${door.port}`, auth: 'Bearer app-token-2' })
  })

  it('answers 503 in MLflow shape while the tracking door is not up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-relay-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const bridge = new TrackingBridge({ trackingEnv: () => ({}) }, silentLogger, memorySecrets(), join(dir, 'relay.json'))
    cleanups.push(() => bridge.close())
    const r = await bridge.relay()
    const res = await httpGet(`${r.uri}/api/2.0/mlflow/experiments/search`, { Authorization: `Bearer ${r.token}` })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' })
  })
})
