import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestCore, type TestCore } from '../testing/core'
import { silentLogger } from '../log'
import { hostChecker, startServer, type RunningServer } from './server'
import { parseServeArgs } from './args'
import { jsonTooDeep } from './http'
import WebSocket from 'ws'
import { startTestServer } from '../testing/serve'

/** A raw HTTP POST of `size` bytes (the client keeps writing while the server answers). */
function postLarge(port: number, path: string, size: number, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string; connection: string | undefined; closed: Promise<void> }>((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(size) } })
    req.on('error', rej)
    req.on('response', (r) => {
      let body = ''
      r.setEncoding('utf8')
      r.on('data', (c) => (body += c))
      const closed = new Promise<void>((done) => req.socket!.once('close', () => done()))
      r.on('end', () => res({ status: r.statusCode!, body, connection: r.headers.connection, closed }))
    })
    const chunk = Buffer.alloc(1024 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent)
        sent += n
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)

let core: TestCore
let server: RunningServer
let base: string
const TOKEN = 'hardening-token-456'

beforeAll(async () => {
  core = await createTestCore()
  server = await startTestServer(core, TOKEN)
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server?.close()
  await core?.cleanup()
})

describe('serve: credentials', () => {
  it('takes the Authorization scheme case-insensitively', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const r = await fetch(`${base}/api/health`, { headers: { Authorization: `${scheme} ${TOKEN}` } })
      expect(r.status, scheme).toBe(200)
    }
    const mlflow = await fetch(`${base}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: { Authorization: `bearer ${TOKEN}` } })
    expect(mlflow.status).toBe(200)
    expect((await fetch(`${base}/api/health`, { headers: { Authorization: `Basic ${TOKEN}` } })).status).toBe(401)
  })

  it('keeps the Host check on when bound to every interface; --allowed-host admits a name', () => {
    const wild = hostChecker('0.0.0.0')
    expect(wild('127.0.0.1:80', 80)).toBe(true)
    expect(wild('localhost:80', 80)).toBe(true)
    expect(wild('evil.example:80', 80)).toBe(false)
    expect(wild('atelier.lab:80', 80)).toBe(false)
    const named = hostChecker('::', ['atelier.lab'])
    expect(named('atelier.lab:80', 80)).toBe(true)
    expect(named('ATELIER.lab:80', 80)).toBe(true)
    expect(named('atelier.lab:81', 80)).toBe(false)
    expect(named('evil.example:80', 80)).toBe(false)
    expect(hostChecker('127.0.0.1')('atelier.lab:80', 80)).toBe(false)
  })

  it('refuses a foreign Host on a server bound to 0.0.0.0 and admits an --allowed-host name', async () => {
    const wide = await startServer({
      core,
      host: '0.0.0.0',
      port: 0,
      token: TOKEN,
      rendererDir: join(core.dataDir, 'renderer'),
      log: silentLogger,
      mounts: [],
      allowedHosts: ['atelier.lab']
    })
    try {
      const get = (host: string) =>
        new Promise<number>((res, rej) => {
          request({ host: '127.0.0.1', port: wide.port, path: '/', headers: { Host: host } }, (r) => {
            r.resume()
            res(r.statusCode!)
          })
            .on('error', rej)
            .end()
        })
      expect(await get(`evil.example:${wide.port}`)).toBe(403)
      expect(await get(`atelier.lab:${wide.port}`)).toBe(200)
      expect(await get(`127.0.0.1:${wide.port}`)).toBe(200)
    } finally {
      await wide.close()
    }
  })

  it('takes the token from ATELIER_TOKEN or --token-file, and --allowed-host repeatedly', () => {
    expect(parseServeArgs([], { ATELIER_TOKEN: 'from-env' }).token).toBe('from-env')
    const dir = mkdtempSync(join(tmpdir(), 'atelier-token-'))
    const file = join(dir, 'token')
    writeFileSync(file, 'from-file\n')
    expect(parseServeArgs(['--token-file', file], { ATELIER_TOKEN: 'from-env' }).token).toBe('from-file')
    writeFileSync(join(dir, 'empty'), '\n')
    expect(() => parseServeArgs(['--token-file', join(dir, 'empty')], {})).toThrow(/empty/)
    expect(() => parseServeArgs(['--token-file', join(dir, 'missing')], {})).toThrow(/missing/)
    expect(parseServeArgs(['--allowed-host', 'a.lab', '--allowed-host=B.lab'], {}).allowedHosts).toEqual(['a.lab', 'b.lab'])
    expect(() => parseServeArgs(['--allowed-host', 'a.lab:80'], {})).toThrow(/without port/)
  })

  it('keeps the data dir 0700 and the database files 0600', async () => {
    await core.router.dispatch('settings.set', { key: 'probe', value: 1 })
    expect(statSync(core.dataDir).mode & 0o777).toBe(0o700)
    for (const f of ['atelier.db', 'atelier.db-wal', 'atelier.db-shm']) {
      expect(statSync(join(core.dataDir, f)).mode & 0o777, f).toBe(0o600)
    }
  })
})

describe('serve: request limits', () => {
  const auth = { Authorization: `Bearer ${TOKEN}` }

  it('answers an oversized /api/rpc body with 413 and a JSON error, then closes (no reset)', async () => {
    const r = await postLarge(server.port, '/api/rpc', 40 * 1024 * 1024, auth)
    expect(r.status).toBe(413)
    expect(JSON.parse(r.body).error).toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/too large/) })
    expect(r.connection).toBe('close')
    await r.closed
  })

  it('answers an oversized MLflow body with 413 in MLflow error shape, then closes', async () => {
    const r = await postLarge(server.port, '/api/2.0/mlflow/runs/log-batch', 40 * 1024 * 1024, auth)
    expect(r.status).toBe(413)
    expect(JSON.parse(r.body)).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/too large/) })
    expect(r.connection).toBe('close')
    await r.closed
  })

  it('scans JSON depth without recursion, strings and escapes included', () => {
    expect(jsonTooDeep(deep(256))).toBe(false)
    expect(jsonTooDeep(deep(257))).toBe(true)
    expect(jsonTooDeep(JSON.stringify({ a: '[[[[' + '\\"' + '[[[' }), 2)).toBe(false)
    expect(jsonTooDeep(deep(1_000_000))).toBe(true)
  })

  it('refuses JSON nested deeper than 256 with 400 at /api/rpc, the WebSocket and MLflow REST', async () => {
    const nested = (n: number) => `{"method":"settings.set","params":{"key":"deep","value":${deep(n)}}}`
    const rpc = await fetch(`${base}/api/rpc`, { method: 'POST', headers: auth, body: nested(10_000) })
    expect(rpc.status).toBe(400)
    expect((await rpc.json()).error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/deeper than 256/) })
    const fine = await fetch(`${base}/api/rpc`, { method: 'POST', headers: auth, body: nested(200) })
    expect(fine.status).toBe(200)

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${TOKEN}`)
    await new Promise((res, rej) => (ws.on('open', res), ws.on('error', rej)))
    const reply = await new Promise<any>((res) => {
      ws.once('message', (d) => res(JSON.parse(String(d))))
      ws.send(`{"id":1,"method":"settings.set","params":{"key":"deep","value":${deep(10_000)}}}`)
    })
    expect(reply.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/deeper than 256/) })
    ws.close()

    const ml = await fetch(`${base}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: auth, body: `{"name":"x","tags":${deep(10_000)}}` })
    expect(ml.status).toBe(400)
    expect(await ml.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/deeper than 256/) })
  })

  it('caps settings.set values at 1 MiB serialized', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024)
    await expect(core.router.dispatch('settings.set', { key: 'big', value: big })).rejects.toMatchObject({ code: 'TOO_LARGE' })
    const r = await fetch(`${base}/api/rpc`, { method: 'POST', headers: auth, body: JSON.stringify({ method: 'settings.set', params: { key: 'big', value: big } }) })
    expect(r.status).toBe(413)
    expect((await r.json()).error.message).toMatch(/at most 1048576 bytes/)
    expect(await core.router.dispatch('settings.get', { key: 'big' })).toEqual({ value: null })
    await core.router.dispatch('settings.set', { key: 'small', value: 'x'.repeat(1000) })
  })
})
