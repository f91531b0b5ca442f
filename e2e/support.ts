import type { ChildProcess } from 'node:child_process'
import { expect, type Browser } from '@playwright/test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawnServe } from '../src/main/testing/serveProcess'

export const ROOT = resolve(__dirname, '..')
export const FLIGHTS = join(ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet')
export const CHROMIUM = process.env.ATELIER_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic'
]

export interface ServeHandle {
  url: string
  origin: string
  token: string
  workspace: string
  dataDir: string
  proc: ChildProcess
  rpc<T = any>(method: string, params?: unknown): Promise<T>
  stop(): Promise<number | null>
}

/**
 * Starts the built `serve` on a free loopback port with a fresh data dir and workspace.
 * `env` is added to the serve process's environment (e.g. `SLURM_CONF` of a test cluster).
 */
export async function startServe(opts: { workspace?: string; dataDir?: string; token?: string; env?: Record<string, string> } = {}): Promise<ServeHandle> {
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-e2e-'))
  const workspace = opts.workspace ?? join(tmp, 'workspace')
  const dataDir = opts.dataDir ?? join(tmp, 'data')
  const token = opts.token ?? 'e2e-' + Math.random().toString(36).slice(2)
  const { url, proc } = await spawnServe({ root: ROOT, token, dataDir, workspace, env: opts.env })
  const origin = new URL(url).origin
  return {
    url,
    origin,
    token,
    workspace,
    dataDir,
    proc,
    async rpc(method, params = {}) {
      const r = await fetch(`${origin}/api/rpc`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method, params })
      })
      const body = (await r.json()) as { result?: any; error?: { message: string } }
      if (body.error) throw new Error(body.error.message)
      return body.result
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        stopRecordedJupyter(dataDir)
        return proc.exitCode
      }
      const done = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
      proc.kill('SIGTERM')
      const code = await done
      // serve keeps its Jupyter server running for the next start: the tests do not leave it behind
      stopRecordedJupyter(dataDir)
      if (!opts.workspace) rmSync(tmp, { recursive: true, force: true })
      return code
    }
  }
}

/** Kills the Jupyter server a serve recorded in its data dir (and the kernels under it). */
export function stopRecordedJupyter(dataDir: string): void {
  const file = join(dataDir, 'jupyter', 'server.json')
  if (!existsSync(file)) return
  try {
    const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number }
    for (const p of [...descendantsOf(pid), pid]) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        // gone
      }
    }
  } catch {
    // unreadable record: nothing to stop
  }
}

/** Every descendant of `pid`, from /proc. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)])
    } catch {
      // ended while we looked
    }
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length) for (const c of children.get(queue.shift()!) ?? []) out.push(c), queue.push(c)
  return out
}

/** The Electron binary if it was downloaded; never triggers a download. */
export function electronBinary(): string | null {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return process.env.ELECTRON_OVERRIDE_DIST_PATH
  const dir = join(ROOT, 'node_modules/electron')
  const pathFile = join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(bin) ? bin : null
}

/** A browser context of its own on `origin`, signed in with the password form. */
export async function signIn(browser: Browser, origin: string, name: string, password: string) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(origin + '/')
  await page.getByRole('textbox', { name: 'User name' }).fill(name)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('group', { name: 'Signed in user' })).toContainText(name)
  return { context, page }
}
