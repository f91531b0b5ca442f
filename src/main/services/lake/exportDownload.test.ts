import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Principal } from '../../../shared/auth'
import { createExportDownloads, type DownloadableExport } from './exportDownload'

const who = (id: string): Principal => ({ id, name: id, role: 'scientist', via: 'session' })
let dir: string
let server: Server
let base: string
const exports = new Map<string, DownloadableExport>()

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'atelier-dl-')))
  mkdirSync(join(dir, 'ws', 'exports'), { recursive: true })
  mkdirSync(join(dir, 'elsewhere'))
  writeFileSync(join(dir, 'ws', 'exports', 'top.csv'), 'origin,n\nORD,166341\n')
  writeFileSync(join(dir, 'elsewhere', 'secret.csv'), 'x\n1\n')
  exports.set('mine', { path: join(dir, 'ws', 'exports', 'top.csv'), format: 'csv', bytes: 21, owner: 'alice' })
  exports.set('moved', { path: join(dir, 'elsewhere', 'secret.csv'), format: 'csv', bytes: 4, owner: 'alice' })
  const mount = createExportDownloads({ find: (id) => exports.get(id), roots: () => [join(dir, 'ws'), null] })
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    void mount.handle(req, res, url, { principal: who(String(req.headers['x-who'])) })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/lake/exports/`
})
afterAll(() => {
  server?.close()
  rmSync(dir, { recursive: true, force: true })
})

const get = (id: string, as: string) => fetch(base + id, { headers: { 'x-who': as } })

describe('export downloads', () => {
  it('serves the export to the principal who made it, as an attachment', async () => {
    const r = await get('mine', 'alice')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-disposition')).toContain('filename="top.csv"')
    expect(await r.text()).toBe('origin,n\nORD,166341\n')
  })
  it('refuses other principals, unknown ids, path-like ids and files outside the allowed folders', async () => {
    expect((await get('mine', 'bob')).status).toBe(404)
    expect((await get('nope', 'alice')).status).toBe(404)
    expect((await get('..%2F..%2Fetc%2Fpasswd', 'alice')).status).toBe(404)
    expect((await get('moved', 'alice')).status).toBe(403)
  })
})
