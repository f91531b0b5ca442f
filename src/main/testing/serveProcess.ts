/**
 * Starts the built headless door (`out/main/serve.js`) as a child process and waits for its one
 * ready line. Shared by the e2e support and the benchmarks (each passes the repository root, since
 * one runs from e2e/ and the other from a bundle in out/main).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export interface ServeProcess {
  url: string
  proc: ChildProcess
}

export async function spawnServe(o: {
  root: string
  token: string
  dataDir: string
  workspace: string
  env?: Record<string, string>
  /** Let serve's log through to this process's stderr (benchmarks); by default it is kept for errors. */
  inheritStderr?: boolean
}): Promise<ServeProcess> {
  const proc = spawn(
    process.execPath,
    [join(o.root, 'out/main/serve.js'), '--host', '127.0.0.1', '--port', '0', '--token', o.token, '--data-dir', o.dataDir, '--workspace', o.workspace],
    // a closed loopback port as the extension repository: nothing leaves the machine
    { stdio: ['ignore', 'pipe', o.inheritStderr ? 'inherit' : 'pipe'], env: { ...process.env, ATELIER_DUCKDB_EXTENSION_REPOSITORY: 'http://127.0.0.1:9', ...o.env } }
  )
  let stderr = ''
  proc.stderr?.on('data', (d) => (stderr += d))
  const url = await new Promise<string>((res, rej) => {
    let out = ''
    const timer = setTimeout(() => rej(new Error(`serve did not start: ${stderr}`)), 30_000)
    proc.stdout!.on('data', (d) => {
      out += d
      const m = /^Atelier serving at (\S+)$/m.exec(out)
      if (m) {
        clearTimeout(timer)
        res(m[1])
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      rej(new Error(`serve exited ${code}: ${stderr}`))
    })
  })
  return { url, proc }
}
