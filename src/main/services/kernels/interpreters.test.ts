import { afterAll, describe, expect, it } from 'vitest'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { INSTALL_HINT, InterpreterService, type ProbeCache } from './interpreters'

const root = mkdtempSync(join(tmpdir(), 'atelier-interp-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function memoryCache(): ProbeCache & { data: Record<string, any> } {
  const data: Record<string, any> = {}
  return { data, get: (k) => data[k], set: (k, v) => (data[k] = JSON.parse(JSON.stringify(v))) }
}

/** A fake `python3` on a PATH dir: counts its runs and answers the probe as a Python with or without Jupyter. */
function fakePython(dir: string, opts: { jupyter: boolean; sleep?: number }): { path: string; runs: () => number } {
  mkdirSync(dir, { recursive: true })
  const counter = join(dir, 'runs')
  const path = join(dir, 'python3')
  const j = opts.jupyter ? 'true' : 'false'
  writeFileSync(
    path,
    `#!/bin/sh\necho x >> ${counter}\n${opts.sleep ? `/bin/sleep ${opts.sleep}\n` : ''}printf '{"version": "3.99.0", "jupyter_server": ${j}, "notebook": false, "ipykernel": ${j}}'\n`
  )
  chmodSync(path, 0o755)
  return { path, runs: () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0) }
}

describe('interpreter discovery on this machine', () => {
  it('finds /usr/bin/python3 with jupyter_server and ipykernel, and the bare pyenv Pythons without', async () => {
    const svc = new InterpreterService({ workspace: { path: null }, log: silentLogger })
    const list = await svc.discover()
    const debian = list.find((i) => i.realPath === realpathSync('/usr/bin/python3'))
    if (!existsSync('/usr/bin/python3')) return console.warn('skipped: no /usr/bin/python3 here')
    expect(debian, JSON.stringify(list, null, 1)).toBeDefined()
    expect(debian).toMatchObject({ jupyterServer: true, ipykernel: true, usable: true })
    expect(debian!.version).toMatch(/^3\.\d+\.\d+$/)
    // Deduplicated by real path: /usr/bin/python3 and /usr/bin/python3.11 are one interpreter.
    expect(list.filter((i) => i.realPath === debian!.realPath)).toHaveLength(1)
    const pyenvDir = join(homedir(), '.pyenv', 'versions')
    if (existsSync(pyenvDir) && readdirSync(pyenvDir).length > 0) {
      const pyenv = list.filter((i) => i.source === 'pyenv')
      expect(pyenv.length).toBeGreaterThan(0)
      const bare = pyenv.find((i) => i.version?.startsWith('3.11'))
      if (bare) expect(bare).toMatchObject({ jupyterServer: false, usable: false })
    } else console.warn('pyenv part skipped: no ~/.pyenv/versions here')
    const report = await svc.report()
    expect(report.hint).toBeNull()
    expect(list.find((i) => i.path === report.selected)?.usable).toBe(true)
  })
})

describe('interpreter discovery (controlled PATH)', () => {
  it('probes once per path and mtime, across instances through the cache', async () => {
    const fake = fakePython(join(root, 'bin1'), { jupyter: true })
    const cache = memoryCache()
    const opts = { workspace: { path: null }, log: silentLogger, cache, env: { PATH: join(root, 'bin1') }, home: join(root, 'nohome'), systemPaths: [] }
    const a = new InterpreterService(opts)
    const list = await a.discover()
    expect(list.map((i) => [i.path, i.source, i.usable, i.version])).toEqual([[fake.path, 'path', true, '3.99.0']])
    await a.discover(false)
    await new InterpreterService(opts).discover()
    expect(fake.runs()).toBe(1)
    utimesSync(fake.path, new Date(), new Date(Date.now() + 5000))
    await new InterpreterService(opts).discover()
    expect(fake.runs()).toBe(2)
  })

  it('says what to install when no Python has Jupyter, and times out a hanging probe', async () => {
    fakePython(join(root, 'bin2'), { jupyter: false })
    const slow = fakePython(join(root, 'bin3'), { jupyter: true, sleep: 30 })
    const svc = new InterpreterService({
      workspace: { path: null },
      log: silentLogger,
      env: { PATH: [join(root, 'bin2'), join(root, 'bin3')].join(':') },
      home: join(root, 'nohome'),
      systemPaths: [],
      probeTimeoutMs: 1500
    })
    const t = Date.now()
    const report = await svc.report()
    expect(Date.now() - t).toBeLessThan(10_000)
    expect(report.selected).toBeNull()
    expect(report.hint).toBe(INSTALL_HINT)
    expect(report.hint).toContain('apt install python3-jupyter-server python3-ipykernel')
    expect(report.hint).toContain('pip install jupyter_server ipykernel')
    expect(report.interpreters.find((i) => i.path === slow.path)?.error).toMatch(/timed out/)
    await expect(svc.selected()).rejects.toMatchObject({ code: 'JUPYTER_UNAVAILABLE' })
    await expect(svc.select(join(root, 'bin2', 'python3'))).rejects.toMatchObject({
      code: 'JUPYTER_UNAVAILABLE',
      message: expect.stringContaining('pip install jupyter_server ipykernel')
    })
  })

  it('finds a workspace .venv as itself (not as the Python it links to)', async () => {
    const ws = join(root, 'ws')
    fakePython(join(ws, '.venv', 'bin'), { jupyter: true })
    writeFileSync(join(ws, '.venv', 'bin', 'python'), readFileSync(join(ws, '.venv', 'bin', 'python3')))
    chmodSync(join(ws, '.venv', 'bin', 'python'), 0o755)
    writeFileSync(join(ws, '.venv', 'pyvenv.cfg'), 'home = /usr/bin\n')
    const svc = new InterpreterService({ workspace: { path: ws }, log: silentLogger, env: { PATH: '' }, home: join(root, 'nohome'), systemPaths: ['/usr/bin/python3'] })
    const list = await svc.discover()
    expect(list[0]).toMatchObject({ path: join(ws, '.venv', 'bin', 'python'), source: 'workspace-venv', usable: true })
  })

  const bare = join(homedir(), '.pyenv', 'versions', '3.11.7', 'bin', 'python')
  it.skipIf(!existsSync(bare))('create venv: a clear error when the package index is unreachable', async () => {
    const ws = join(root, 'venvws')
    mkdirSync(ws)
    const svc = new InterpreterService({
      workspace: { path: ws },
      log: silentLogger,
      // Only loopback: a closed port as the index; no pip config, local mirror or wheel folder.
      env: {
        ...process.env,
        PIP_CONFIG_FILE: '/dev/null',
        PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
        PIP_EXTRA_INDEX_URL: '',
        PIP_FIND_LINKS: '',
        PIP_NO_CACHE_DIR: '1'
      }
    })
    const err = await svc.createVenv(bare).catch((e) => e)
    expect(err.code).toBe('JUPYTER_UNAVAILABLE')
    expect(err.message).toMatch(/could not reach the package index/)
    expect(err.details.offline).toBe(true)
    expect(existsSync(join(ws, '.venv', 'bin', 'python'))).toBe(true)
  }, 240_000)
})
