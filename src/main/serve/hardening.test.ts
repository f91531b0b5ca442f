import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestCore, type TestCore } from '../testing/core'
import { silentLogger } from '../log'
import { hostChecker, startServer, type RunningServer } from './server'
import { parseServeArgs } from './args'

let core: TestCore
let server: RunningServer
let base: string
const TOKEN = 'hardening-token-456'

beforeAll(async () => {
  core = await createTestCore()
  const rendererDir = join(core.dataDir, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Atelier</title>')
  server = await startServer({ core, host: '127.0.0.1', port: 0, token: TOKEN, rendererDir, log: silentLogger })
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
