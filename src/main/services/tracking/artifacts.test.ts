/** The proxied artifact API (mlflow-artifacts), artifacts/list, previews, and path traversal guards. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { parseCsv } from './artifacts'
import { createTrackingHarness, type TrackingHarness } from './testing'

let h: TrackingHarness
let exp: string
let run: any
let prefix: string

beforeAll(async () => {
  h = await createTrackingHarness()
  exp = (await h.api('POST', 'experiments/create', { name: 'arts' })).body.experiment_id
  run = (await h.api('POST', 'runs/create', { experiment_id: exp, start_time: 1 })).body.run
  prefix = `${exp}/${run.info.run_id}/artifacts`
})
afterAll(async () => {
  await h?.cleanup()
})

/** Raw HTTP, so that `..` and `%2e%2e` reach the server as written (fetch would normalise them). */
function raw(method: string, path: string, body?: Buffer | string, token: string | null = h.token): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.server.port, method, path, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c) => parts.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
const ART = '/api/2.0/mlflow-artifacts/artifacts'

describe('mlflow-artifacts proxy', () => {
  it('uploads with PUT, downloads with GET and lists folders, as MLflow’s client expects', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251))
    expect((await raw('PUT', `${ART}/${prefix}/model/weights.bin`, bytes)).status).toBe(200)
    expect((await raw('PUT', `${ART}/${prefix}/notes%20v1.txt`, 'hello')).status).toBe(200)
    const onDisk = join(h.dataDir, 'artifacts', exp, run.info.run_id, 'artifacts', 'model', 'weights.bin')
    expect(readFileSync(onDisk).equals(bytes)).toBe(true)
    const got = await raw('GET', `${ART}/${prefix}/model/weights.bin`)
    expect(got.status).toBe(200)
    expect(got.body.equals(bytes)).toBe(true)

    const list = JSON.parse((await raw('GET', `${ART}?path=${encodeURIComponent(prefix)}`)).body.toString())
    expect(list).toEqual({ files: [{ path: 'model', is_dir: true }, { path: 'notes v1.txt', is_dir: false, file_size: 5 }] })
    const sub = JSON.parse((await raw('GET', `${ART}?path=${encodeURIComponent(prefix + '/model')}`)).body.toString())
    expect(sub.files).toEqual([{ path: 'weights.bin', is_dir: false, file_size: 70_000 }])

    const runList = await h.api('GET', 'artifacts/list', { run_id: run.info.run_id, path: 'model' })
    expect(runList.body).toEqual({ root_uri: run.info.artifact_uri, files: [{ path: 'model/weights.bin', is_dir: false, file_size: 70_000 }] })
    const top = await h.api('GET', 'artifacts/list', { run_id: run.info.run_id })
    expect(top.body.files.map((f: any) => f.path)).toEqual(['model', 'notes v1.txt'])
    // no temp files are left behind
    expect(readdirSync(join(onDisk, '..'))).toEqual(['weights.bin'])

    expect((await raw('GET', `${ART}/${prefix}/nope.txt`)).status).toBe(404)
    expect((await raw('DELETE', `${ART}/${prefix}/notes%20v1.txt`)).status).toBe(200)
    expect((await h.api('GET', 'artifacts/list', { run_id: run.info.run_id })).body.files.map((f: any) => f.path)).toEqual(['model'])
  })

  it('refuses path traversal in every form and writes nothing outside the run', async () => {
    const secret = join(h.dataDir, 'secret.txt')
    writeFileSync(secret, 'top secret')
    for (const path of [
      `${ART}/${prefix}/../../../../secret.txt`,
      `${ART}/${prefix}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt`,
      `${ART}/${prefix}/..%2f..%2f..%2f..%2fsecret.txt`,
      `${ART}/${prefix}/..%5c..%5csecret.txt`,
      `${ART}/${prefix}/a%00b`,
      `${ART}/%2fetc%2fpasswd`
    ]) {
      const get = await raw('GET', path)
      expect(get.status, path).toBeGreaterThanOrEqual(400)
      expect(get.body.toString(), path).not.toContain('top secret')
      expect((await raw('PUT', path, 'pwned')).status, path).toBeGreaterThanOrEqual(400)
    }
    expect(readFileSync(secret, 'utf8')).toBe('top secret')
    expect((await raw('GET', `${ART}?path=${encodeURIComponent('../')}`)).status).toBe(400)
    expect((await raw('GET', `${ART}?path=${encodeURIComponent('/etc')}`)).status).toBe(400)
    expect((await h.api('GET', 'artifacts/list', { run_id: run.info.run_id, path: '../../..' })).status).toBe(400)
    // uploads only into an existing, active run's artifact folder
    expect((await raw('PUT', `${ART}/${exp}/${'f'.repeat(32)}/artifacts/x.txt`, 'x')).status).toBe(404)
    expect((await raw('PUT', `${ART}/0/${run.info.run_id}/artifacts/x.txt`, 'x')).status).toBe(400)
    expect((await raw('PUT', `${ART}/${exp}/${run.info.run_id}/elsewhere/x.txt`, 'x')).status).toBe(400)
    expect((await raw('PUT', `${ART}/${prefix}/x.txt`, 'x', null)).status).toBe(401)
    expect(existsSync(join(h.dataDir, 'artifacts', '0'))).toBe(false)
    // a symlink planted inside the root cannot be used to read outside it
    symlinkSync(secret, join(h.dataDir, 'artifacts', prefix, 'link.txt'))
    const viaLink = await raw('GET', `${ART}/${prefix}/link.txt`)
    expect(viaLink.status).toBe(400)
    expect(viaLink.body.toString()).not.toContain('top secret')
    await expect(h.tracking.readArtifact(run.info.run_id, 'link.txt')).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('refuses an upload through a symlinked folder that leads out of the artifact root, and creates nothing there', async () => {
    const outside = join(h.dataDir, 'outside')
    mkdirSync(outside)
    symlinkSync(outside, join(h.dataDir, 'artifacts', prefix, 'escape'))
    for (const path of [`${ART}/${prefix}/escape/pwned.txt`, `${ART}/${prefix}/escape/deeper/pwned.txt`]) {
      const put = await raw('PUT', path, 'pwned')
      expect(put.status, path).toBe(400)
      expect(JSON.parse(put.body.toString()).error_code).toBe('INVALID_PARAMETER_VALUE')
    }
    expect(readdirSync(outside)).toEqual([])
    // A folder inside the root reached through a link that stays inside is fine.
    mkdirSync(join(h.dataDir, 'artifacts', prefix, 'real'))
    symlinkSync(join(h.dataDir, 'artifacts', prefix, 'real'), join(h.dataDir, 'artifacts', prefix, 'alias'))
    expect((await raw('PUT', `${ART}/${prefix}/alias/ok.txt`, 'ok')).status).toBe(200)
    expect(readFileSync(join(h.dataDir, 'artifacts', prefix, 'real', 'ok.txt'), 'utf8')).toBe('ok')
  })

  it('previews text, CSV and images for the UI, capped in size', async () => {
    const table = 'a,b\n1,"x, y"\n2,"say ""hi"""\n'
    await raw('PUT', `${ART}/${prefix}/table.csv`, table)
    await raw('PUT', `${ART}/${prefix}/log.txt`, 'x'.repeat(5000))
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
    await raw('PUT', `${ART}/${prefix}/plot.png`, png)
    const csv = await h.tracking.readArtifact(run.info.run_id, 'table.csv')
    expect(csv).toMatchObject({ kind: 'csv', rows: [['a', 'b'], ['1', 'x, y'], ['2', 'say "hi"']], truncated: false })
    const log = await h.tracking.readArtifact(run.info.run_id, 'log.txt', 100)
    expect(log).toMatchObject({ kind: 'text', size: 5000, truncated: true })
    expect(log.text).toHaveLength(100)
    const img = await h.tracking.readArtifact(run.info.run_id, 'plot.png')
    expect(img).toMatchObject({ kind: 'image', mime: 'image/png', base64: png.toString('base64') })
    await expect(h.tracking.readArtifact(run.info.run_id, '../../x')).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    await expect(h.tracking.readArtifact(run.info.run_id, 'missing.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const listed = await h.tracking.listArtifacts(run.info.run_id)
    expect(listed.files.find((f) => f.path === 'table.csv')).toEqual({ path: 'table.csv', isDir: false, size: Buffer.byteLength(table) })
  })

  it('parses CSV with quotes and CRLF', () => {
    expect(parseCsv('a,b\r\n"1,2",3\r\n', ',', 10)).toEqual([['a', 'b'], ['1,2', '3']])
    expect(parseCsv('x\ty\n1\t2', '\t', 1)).toEqual([['x', 'y']])
  })
})
