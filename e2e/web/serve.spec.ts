import { test, expect } from '@playwright/test'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, startServe } from '../support'

test('serve prints exactly one line, refuses requests without the token and stops cleanly on SIGTERM', async () => {
  const s = await startServe()
  let stdout = ''
  s.proc.stdout!.on('data', (d) => (stdout += d))
  expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=e2e-/)
  expect((await fetch(`${s.origin}/api/health`)).status).toBe(401)
  expect((await fetch(`${s.origin}/api/health`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(403)
  expect((await fetch(`${s.origin}/api/health`, { headers: { Authorization: `Bearer ${s.token}` } })).status).toBe(200)
  const t0 = Date.now()
  expect(await s.stop()).toBe(0)
  expect(Date.now() - t0).toBeLessThan(10_000)
  expect(stdout).toBe('')
})

test('serve with no options picks loopback, a free port and a random token', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atelier-e2e-defaults-'))
  const proc = spawn(process.execPath, [join(ROOT, 'out/main/serve.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ATELIER_DATA_DIR: dataDir, ATELIER_DUCKDB_EXTENSION_REPOSITORY: 'http://127.0.0.1:9' }
  })
  let out = ''
  await new Promise<void>((res) =>
    proc.stdout!.on('data', (d) => {
      out += d
      if (out.includes('\n')) res()
    })
  )
  const lines = out.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^Atelier serving at http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/)
  const exit = new Promise((r) => proc.on('exit', r))
  proc.kill('SIGINT')
  expect(await exit).toBe(0)
})
