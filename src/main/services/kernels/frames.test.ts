import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DuckDBInstance } from '@duckdb/node-api'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { createKernelTestCore, findJupyterPython, streamText, type KernelTestCore } from './testing'

const python = await findJupyterPython()
if (!python) console.warn('frame tests skipped: no interpreter with jupyter_server (or notebook) and ipykernel was found')

const FRAME = `import pandas as pd
n = 4000
df = pd.DataFrame({
    'id': range(n),
    'price': [i * 0.25 for i in range(n)],
    'ok': [i % 2 == 0 for i in range(n)],
    'at': pd.date_range('2024-01-01', periods=n, freq='h'),
    'city': ['Lima' if i % 3 else 'Oslo' for i in range(n)],
})
big = pd.DataFrame({'s': ['x' * 200] * 5000})`

async function describe_(sql: string): Promise<{ types: Record<string, string>; rows: number }> {
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  const d = await conn.runAndReadAll(`DESCRIBE ${sql}`)
  const types = Object.fromEntries(d.getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]))
  const c = await conn.runAndReadAll(`SELECT count(*) AS n FROM (${sql})`)
  const rows = Number(c.getRowObjects()[0].n)
  conn.closeSync()
  return { types, rows }
}

describe.skipIf(!python)('Open in Data: a kernel frame written here, per kernel, typed', () => {
  let core: KernelTestCore
  beforeAll(async () => {
    core = await createKernelTestCore({ frameChunkBytes: 64 * 1024, frameLimitBytes: 600_000 })
    await core.call('kernels.startLocal', {})
  }, 120_000)
  afterAll(async () => core?.cleanup())

  it('a local kernel writes into its own 0700 folder under the data dir (not a shared temp path); says which format; removed at shutdown', async () => {
    const k = await core.call('kernels.start', {})
    await core.run(k.kernelId, FRAME)
    const f = await core.call('kernels.openFrame', { kernelId: k.kernelId, name: 'df' })
    const dir = join(core.root, 'data', 'frames', k.kernelId)
    expect(f.path.startsWith(dir)).toBe(true)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(f.rows).toBe(4000)
    // this interpreter has neither pyarrow nor duckdb: CSV, and it says so; types survive through the SQL
    expect(f.format).toMatch(/^(parquet-pyarrow|parquet-duckdb|csv)$/)
    if (f.format === 'csv') expect(f.description).toMatch(/CSV \(neither pyarrow nor duckdb/)
    const d = await describe_(f.sql)
    expect(d.rows).toBe(4000)
    expect(d.types).toMatchObject({ id: 'BIGINT', price: 'DOUBLE', ok: 'BOOLEAN', city: 'VARCHAR' })
    expect(d.types.at).toMatch(/^TIMESTAMP/)
    // the user's frame is untouched, its namespace too
    const r = await core.run(k.kernelId, "print(list(df.columns), 'obj' in dir(), 'folder' in dir())")
    expect(streamText(r.events)).toBe("['id', 'price', 'ok', 'at', 'city'] False False\n")
    await core.call('kernels.shutdown', { kernelId: k.kernelId })
    expect(existsSync(dir)).toBe(false)
  }, 60_000)

  it('a remote kernel starts in the notebook folder, and its frame comes back in chunks with progress; over the limit it is refused', async () => {
    mkdirSync(join(core.workspaceDir, 'sub'), { recursive: true })
    const ep = core.kernels.servers.endpointOf('local')!
    const remote = await core.call('kernels.connect', { baseUrl: ep.baseUrl, token: ep.token, name: 'as remote' })
    const k = await core.call('kernels.start', { serverId: remote.id, path: join(core.workspaceDir, 'sub', 'churn.ipynb') })
    expect(k.folder).toBe('sub')
    const cwd = await core.run(k.kernelId, 'import os\nprint(os.getcwd())')
    expect(streamText(cwd.events).trim()).toBe(join(core.workspaceDir, 'sub'))
    await core.run(k.kernelId, FRAME)
    const t0 = Date.now()
    const f = await core.call('kernels.openFrame', { kernelId: k.kernelId, name: 'df' })
    expect(f.path.startsWith(join(core.root, 'data', 'frames', k.kernelId))).toBe(true)
    expect(statSync(f.path).size).toBe(f.bytes)
    const progress = core.seen.filter((e) => e.at >= t0 && e.name === 'kernel.frameProgress').map((e) => e.payload)
    expect(progress.length).toBeGreaterThan(2)
    expect(progress.at(-1)).toMatchObject({ name: 'df', bytes: f.bytes, total: f.bytes })
    expect((await describe_(f.sql)).rows).toBe(4000)
    // the copy on the kernel's side is gone
    const remoteDir = join(tmpdir(), `atelier-${userInfo().username.replace(/\W/g, '_')}-frames-${k.kernelId}`)
    expect(existsSync(remoteDir) ? readdirSync(remoteDir) : []).toEqual([])
    const refused = await core.call('kernels.openFrame', { kernelId: k.kernelId, name: 'big' }).catch((e) => e)
    expect(refused).toMatchObject({ code: 'INVALID_REQUEST' })
    expect(refused.message).toMatch(/over the 0 MB limit|over the \d+ MB limit/)
    await core.call('kernels.shutdown', { kernelId: k.kernelId })
    await core.call('kernels.disconnect', { serverId: remote.id, forget: true })
  }, 90_000)
})
