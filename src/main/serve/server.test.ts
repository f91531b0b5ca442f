import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import { createTestCore, FLIGHTS, type TestCore } from '../testing/core'
import { silentLogger } from '../log'
import { startServer, type RunningServer } from './server'
import { parseServeArgs } from './args'

let core: TestCore
let server: RunningServer
let base: string
const TOKEN = 'test-token-123'

beforeAll(async () => {
  core = await createTestCore()
  const rendererDir = join(core.dataDir, 'renderer')
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Atelier</title>')
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(core.dataDir, 'secret.txt'), 'do not serve')
  server = await startServer({ core, host: '127.0.0.1', port: 0, token: TOKEN, rendererDir, log: silentLogger })
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server?.close()
  await core?.cleanup()
})

function openWs(headers: Record<string, string> = {}, token: string | null = TOKEN): Promise<WebSocket> {
  const q = token === null ? '' : `?token=${token}`
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws${q}`, { headers })
    ws.on('open', () => res(ws))
    ws.on('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)))
    ws.on('error', rej)
  })
}

function rpc(ws: WebSocket, id: number, method: string, params: unknown): Promise<any> {
  return new Promise((res) => {
    const onMsg = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data))
      if (m.id === id) {
        ws.off('message', onMsg)
        res(m)
      }
    }
    ws.on('message', onMsg)
    ws.send(JSON.stringify({ id, method, params }))
  })
}

describe('serve: HTTP and WebSocket doors', () => {
  it('prints its URL with the token', () => {
    expect(server.url).toBe(`${base}/?token=${TOKEN}`)
  })

  it('refuses API requests without the token (401) or with a wrong one (403)', async () => {
    expect((await fetch(`${base}/api/health`)).status).toBe(401)
    expect((await fetch(`${base}/api/health`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(403)
    expect((await fetch(`${base}/api/rpc`, { method: 'POST', body: '{}' })).status).toBe(401)
    expect((await fetch(`${base}/api/health`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
  })

  it('refuses WebSocket upgrades without the token or from a foreign Origin', async () => {
    await expect(openWs({}, null)).rejects.toThrow('HTTP 401')
    await expect(openWs({}, 'wrong')).rejects.toThrow('HTTP 403')
    await expect(openWs({ Origin: 'http://evil.example' })).rejects.toThrow('HTTP 403')
    await expect(openWs({ Origin: `http://127.0.0.1:${server.port + 1}` })).rejects.toThrow('HTTP 403')
    const ok = await openWs({ Origin: base })
    ok.close()
  })

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const http = await import('node:http')
    const status = await new Promise<number>((res) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/', headers: { Host: 'evil.example' } }, (r) => res(r.statusCode!))
    })
    expect(status).toBe(403)
  })

  it('serves the renderer with a strict CSP and never a file outside it', async () => {
    const r = await fetch(`${base}/`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect((await fetch(`${base}/assets/app.js`)).headers.get('content-type')).toContain('javascript')
    expect((await fetch(`${base}/..%2fsecret.txt`)).status).toBe(403)
    expect((await fetch(`${base}/%2e%2e/secret.txt`)).status).not.toBe(200)
  })

  it('validates every WebSocket call and answers in {code, message, details}', async () => {
    const ws = await openWs({ Origin: base })
    const unknown = await rpc(ws, 1, 'nope.method', {})
    expect(unknown.error.code).toBe('UNKNOWN_METHOD')
    const bad = await rpc(ws, 2, 'lake.query', { queryId: 'x', sql: 42 })
    expect(bad.error.code).toBe('INVALID_REQUEST')
    expect(bad.error.details.issues[0].path).toBe('sql')
    const extra = await rpc(ws, 3, 'lake.page', { queryId: 'x', offset: 0, limit: 1, evil: true })
    expect(extra.error.code).toBe('INVALID_REQUEST')
    const junk = await new Promise<any>((res) => {
      ws.once('message', (d) => res(JSON.parse(String(d))))
      ws.send('not json')
    })
    expect(junk.error.code).toBe('INVALID_REQUEST')
    ws.close()
  })

  it('runs a query over the WebSocket and pushes progress events', async () => {
    await core.router.dispatch('lake.sources.add', { kind: 'file', location: FLIGHTS, name: 'flights' })
    const ws = await openWs({ Origin: base })
    const events: any[] = []
    ws.on('message', (d) => {
      const m = JSON.parse(String(d))
      if (m.event === 'query.progress') events.push(m.payload)
    })
    const r = await rpc(ws, 10, 'lake.query', {
      queryId: 'ws1',
      sql: 'select origin, count(*) n from flights group by 1 order by n desc limit 5'
    })
    expect(r.result.first.columns[0][0]).toBe('ORD')
    await new Promise((res) => setTimeout(res, 100))
    expect(events.some((e) => e.queryId === 'ws1' && e.phase === 'done')).toBe(true)
    ws.close()
  })
})

describe('serve arguments', () => {
  it('defaults to loopback, a free port and a random token', () => {
    const a = parseServeArgs([])
    expect(a.host).toBe('127.0.0.1')
    expect(a.port).toBeNull()
    expect(a.token).toMatch(/^[0-9a-f]{48}$/)
    expect(parseServeArgs([]).token).not.toBe(a.token)
  })
  it('parses every option and rejects unknown ones', () => {
    expect(parseServeArgs(['--host', '0.0.0.0', '--port=8080', '--token', 't', '--data-dir', '/d', '--workspace', '/w'])).toEqual({
      host: '0.0.0.0',
      port: 8080,
      token: 't',
      dataDir: '/d',
      workspace: '/w',
      allowedHosts: []
    })
    expect(() => parseServeArgs(['--port', 'x'])).toThrow(/port/)
    expect(() => parseServeArgs(['--bogus'])).toThrow(/Unknown option/)
  })
})
