import { execFile } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import type { InterpreterInfo, InterpreterReport } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'

/** One short script, valid in Python 2 and 3: version and whether the Jupyter modules are importable. */
const PROBE = `
import sys, json
def has(m):
    try:
        import importlib.util as u
        return u.find_spec(m) is not None
    except ImportError:
        try:
            import imp
            imp.find_module(m)
            return True
        except Exception:
            return False
    except Exception:
        return False
sys.stdout.write(json.dumps({"version": "%d.%d.%d" % tuple(sys.version_info[:3]), "jupyter_server": has("jupyter_server"), "notebook": has("notebook"), "ipykernel": has("ipykernel")}))
`

export const INSTALL_HINT =
  'No Python found here can run Jupyter. Install it with one of: `sudo apt install python3-jupyter-server python3-ipykernel` ' +
  '(Debian/Ubuntu system Python), `<python> -m pip install jupyter_server ipykernel` (a Python you manage: pyenv, conda, a venv), ' +
  'or create a workspace venv from any Python 3 (kernels.createVenv).'

type Source = InterpreterInfo['source']
interface Probe {
  version: string | null
  jupyterServer: boolean
  notebook: boolean
  ipykernel: boolean
  error?: string
}

/** Where probe results survive a restart (the settings table in the app). */
export interface ProbeCache {
  get(key: string): Record<string, Probe & { mtimeMs: number }> | undefined
  set(key: string, value: Record<string, Probe & { mtimeMs: number }>): void
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Runs a program, never throws; stdout/stderr kept (capped) for error messages. */
export function run(file: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs, env: opts.env, cwd: opts.cwd ?? tmpdir(), maxBuffer: 8 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr) || (e && typeof e.code === 'string' ? `${e.code}: ${e.message}` : ''),
          timedOut: Boolean(e?.killed)
        })
      }
    )
  })
}

const tail = (text: string, lines = 6) => text.trim().split('\n').slice(-lines).join('\n')

export interface InterpreterServiceOptions {
  workspace: { readonly path: string | null }
  log: Logger
  cache?: ProbeCache
  /** Environment to search (PATH) and to run pip with; default process.env. */
  env?: NodeJS.ProcessEnv
  home?: string
  /** The user's choice, remembered (settings). */
  selection?: { get(): string | undefined; set(path: string): void }
  probeTimeoutMs?: number
  /** System locations always looked at (default /usr/bin/python3, /usr/local/bin/python3). */
  systemPaths?: string[]
}

/**
 * Finds the Pythons on this machine (PATH, system, pyenv, conda, the workspace venv), probes each
 * once per path and mtime, and says which can run a local Jupyter server.
 */
export class InterpreterService {
  private readonly memo = new Map<string, Probe & { mtimeMs: number }>()
  private last: InterpreterInfo[] | null = null

  constructor(private readonly o: InterpreterServiceOptions) {
    const saved = o.cache?.get('kernels.interpreterProbes')
    if (saved) for (const [k, v] of Object.entries(saved)) this.memo.set(k, v)
  }

  private get env() {
    return this.o.env ?? process.env
  }

  /** Candidate paths in preference order, with where each came from. */
  async candidates(): Promise<{ path: string; source: Source }[]> {
    const home = this.o.home ?? homedir()
    const out: { path: string; source: Source }[] = []
    const add = (path: string, source: Source) => out.push({ path, source })
    const ws = this.o.workspace.path
    if (ws) for (const d of ['.venv', 'venv']) add(join(ws, d, 'bin', 'python'), 'workspace-venv')
    for (const dir of (this.env.PATH ?? '').split(delimiter)) {
      if (!dir || dir.includes(`${join('.pyenv', 'shims')}`)) continue // shims resolve to a pyenv version listed below
      const names = await fs.readdir(dir).catch(() => [] as string[])
      for (const n of names.filter((n) => /^python(3(\.\d+)?)?$/.test(n)).sort()) add(join(dir, n), 'path')
    }
    for (const p of this.o.systemPaths ?? ['/usr/bin/python3', '/usr/local/bin/python3']) add(p, 'system')
    const pyenvRoot = this.env.PYENV_ROOT ?? join(home, '.pyenv')
    for (const v of (await fs.readdir(join(pyenvRoot, 'versions')).catch(() => [] as string[])).sort()) {
      add(join(pyenvRoot, 'versions', v, 'bin', 'python'), 'pyenv')
    }
    const condaPrefixes: string[] = []
    const envTxt = await fs.readFile(join(home, '.conda', 'environments.txt'), 'utf8').catch(() => '')
    condaPrefixes.push(...envTxt.split('\n').map((l) => l.trim()).filter(Boolean))
    for (const base of [join(home, 'miniconda3'), join(home, 'anaconda3'), join(home, 'miniforge3'), join(home, 'mambaforge'), '/opt/conda']) {
      condaPrefixes.push(base)
      for (const e of (await fs.readdir(join(base, 'envs')).catch(() => [] as string[])).sort()) condaPrefixes.push(join(base, 'envs', e))
    }
    for (const p of condaPrefixes) add(join(p, 'bin', 'python'), 'conda')
    return out
  }

  /** Every interpreter found (deduplicated by real path; a venv counts as itself), probed. */
  async discover(refresh = false): Promise<InterpreterInfo[]> {
    if (this.last && !refresh) return this.last
    const seen = new Set<string>()
    const found: { path: string; realPath: string; source: Source; mtimeMs: number; key: string }[] = []
    for (const c of await this.candidates()) {
      let realPath: string
      let mtimeMs: number
      try {
        realPath = await fs.realpath(c.path)
        const st = await fs.stat(realPath)
        if (!st.isFile()) continue
        await fs.access(realPath, 1)
        mtimeMs = st.mtimeMs
      } catch {
        continue
      }
      const venv = existsSync(join(dirname(dirname(c.path)), 'pyvenv.cfg')) ? dirname(dirname(c.path)) : null
      const key = venv ? `venv:${venv}` : realPath
      if (seen.has(key)) continue
      seen.add(key)
      found.push({ ...c, realPath, mtimeMs, key })
    }
    const results: InterpreterInfo[] = new Array(found.length)
    let next = 0
    const worker = async () => {
      while (next < found.length) {
        const i = next++
        const f = found[i]
        const probe = await this.probe(f.path, f.mtimeMs, refresh)
        results[i] = {
          path: f.path,
          realPath: f.realPath,
          source: f.source,
          version: probe.version,
          jupyterServer: probe.jupyterServer,
          notebook: probe.notebook,
          ipykernel: probe.ipykernel,
          usable: (probe.jupyterServer || probe.notebook) && probe.ipykernel,
          ...(probe.error ? { error: probe.error } : {})
        }
      }
    }
    await Promise.all([worker(), worker(), worker()])
    this.o.cache?.set('kernels.interpreterProbes', Object.fromEntries(this.memo))
    this.last = results
    return results
  }

  private async probe(path: string, mtimeMs: number, refresh: boolean): Promise<Probe> {
    const cached = this.memo.get(path)
    if (cached && cached.mtimeMs === mtimeMs && !refresh) return cached
    const r = await run(path, ['-c', PROBE], { timeoutMs: this.o.probeTimeoutMs ?? 8000, env: this.env })
    let probe: Probe
    try {
      const j = JSON.parse(r.stdout) as { version: string; jupyter_server: boolean; notebook: boolean; ipykernel: boolean }
      probe = { version: j.version, jupyterServer: j.jupyter_server, notebook: j.notebook, ipykernel: j.ipykernel }
    } catch {
      const why = r.timedOut ? 'the probe timed out' : tail(r.stderr, 2) || `exit code ${r.code}`
      probe = { version: null, jupyterServer: false, notebook: false, ipykernel: false, error: `Could not run ${path}: ${why}` }
    }
    if (!r.timedOut) this.memo.set(path, { ...probe, mtimeMs })
    return probe
  }

  async report(refresh = false): Promise<InterpreterReport> {
    const interpreters = await this.discover(refresh)
    const selected = this.pick(interpreters)
    return { interpreters, selected: selected?.path ?? null, hint: selected ? null : INSTALL_HINT }
  }

  private pick(list: InterpreterInfo[]): InterpreterInfo | undefined {
    const chosen = this.o.selection?.get()
    return list.find((i) => i.path === chosen && i.usable) ?? list.find((i) => i.usable)
  }

  /** The interpreter to start the local Jupyter server with: the user's choice, else the first usable one. */
  async selected(explicit?: string): Promise<InterpreterInfo> {
    if (explicit) return this.select(explicit, false)
    const list = await this.discover()
    const usable = this.pick(list) ?? this.pick(await this.discover(true))
    if (!usable) throw new AppError('JUPYTER_UNAVAILABLE', INSTALL_HINT, { interpreters: list.map((i) => i.path) })
    return usable
  }

  async select(path: string, remember = true): Promise<InterpreterInfo> {
    let info = (await this.discover()).find((i) => i.path === path || i.realPath === path)
    if (!info) info = await this.describe(path, 'path')
    if (!info.usable) {
      const missing = [!(info.jupyterServer || info.notebook) && 'jupyter_server', !info.ipykernel && 'ipykernel'].filter(Boolean).join(' and ')
      throw new AppError(
        'JUPYTER_UNAVAILABLE',
        info.error ?? `${path} (Python ${info.version ?? '?'}) lacks ${missing}: install them with \`${path} -m pip install jupyter_server ipykernel\`.`,
        { path, missing }
      )
    }
    if (remember) this.o.selection?.set(info.path)
    return info
  }

  /** Probes one interpreter given by path (outside discovery). */
  async describe(path: string, source: Source): Promise<InterpreterInfo> {
    let realPath: string
    let mtimeMs: number
    try {
      realPath = await fs.realpath(path)
      mtimeMs = (await fs.stat(realPath)).mtimeMs
    } catch {
      throw new AppError('NOT_FOUND', `No Python at ${path}`, { path })
    }
    const p = await this.probe(path, mtimeMs, true)
    return {
      path,
      realPath,
      source,
      version: p.version,
      jupyterServer: p.jupyterServer,
      notebook: p.notebook,
      ipykernel: p.ipykernel,
      usable: (p.jupyterServer || p.notebook) && p.ipykernel,
      ...(p.error ? { error: p.error } : {})
    }
  }

  /**
   * `python -m venv --system-site-packages <dir>` then `pip install jupyter_server ipykernel` in it.
   * A package index that cannot be reached gives JUPYTER_UNAVAILABLE saying so (the venv stays).
   */
  async createVenv(basePython: string, dir?: string): Promise<InterpreterInfo> {
    const ws = this.o.workspace.path
    const target = dir ?? (ws ? join(ws, '.venv') : null)
    if (!target) throw new AppError('INVALID_REQUEST', 'Open a workspace first, or give the folder for the venv.')
    const made = await run(basePython, ['-m', 'venv', '--system-site-packages', target], { timeoutMs: 180_000, env: this.env })
    if (made.code !== 0) {
      const err = tail(made.stderr || made.stdout)
      const debian = /ensurepip is not available|python3-venv/.test(err)
      throw new AppError(
        'JUPYTER_UNAVAILABLE',
        `Could not create a venv at ${target} with ${basePython}${debian ? ' (install python3-venv: `sudo apt install python3-venv`)' : ''}: ${err}`,
        { path: target, stderr: err }
      )
    }
    const python = join(target, 'bin', 'python')
    const pip = await run(
      python,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--retries', '0', '--timeout', '15', 'jupyter_server', 'ipykernel'],
      { timeoutMs: 600_000, env: this.env }
    )
    if (pip.code !== 0) {
      const err = tail(pip.stderr || pip.stdout)
      const offline =
        pip.timedOut ||
        /Could not find a version|No matching distribution|NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Connection refused|Network is unreachable|ProxyError|Max retries exceeded|ConnectTimeout/i.test(
          err
        )
      throw new AppError(
        'JUPYTER_UNAVAILABLE',
        offline
          ? `Created the venv at ${target}, but pip could not reach the package index to install jupyter_server and ipykernel. ` +
              'Connect to the network (or set PIP_INDEX_URL to a reachable index) and retry, or install the system packages ' +
              '(`sudo apt install python3-jupyter-server python3-ipykernel`) and recreate the venv, which sees them through --system-site-packages.'
          : `Created the venv at ${target}, but installing jupyter_server and ipykernel failed: ${err}`,
        { path: target, offline, stderr: err }
      )
    }
    this.last = null
    return this.describe(python, 'workspace-venv')
  }
}
