import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import type { NotebookDocument, NotebookFileEntry, NotebookJson } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import type { WorkspaceService } from '../workspace/WorkspaceService'
import { isDeepStrictEqual } from 'node:util'
import { checkPath, FULL_PATH_ACCESS, type PathAccess } from '../workspace/access'
import { newNotebook, parseNotebook, serializeNotebook, validateNotebook } from './nbformat'

export interface SaveOptions {
  expectedHash?: string
  force?: boolean
  /** Where the caller may write (default: anywhere, as the desktop's own user). */
  access?: PathAccess
}

export interface SaveResult {
  path: string
  hash: string
  mtimeMs: number
  size: number
  /** False when the notebook equals the file on disk, which is then left untouched. */
  written: boolean
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const SKIP_DIRS = new Set(['node_modules', '.git', '.ipynb_checkpoints', '__pycache__', '.venv', 'venv'])

/**
 * The user's notebooks: read and validated as nbformat 4 (a failed read never touches the file),
 * written as Jupyter writes them and atomically (temp file in the same folder, fsync, rename), with
 * a changed-on-disk check against the hash given at open.
 */
export class NotebookService {
  private readonly locks = new KeyedMutex()

  constructor(private readonly deps: { workspace: Pick<WorkspaceService, 'path'> & Partial<Pick<WorkspaceService, 'onChange'>>; log: Logger }) {
    void this.sweepStaleTemps()
    deps.workspace.onChange?.((w) => void this.sweepStaleTemps(w.path))
  }

  /** Absolute path: relative paths are taken from the workspace; a confined caller stays inside it. */
  resolve(p: string, access: PathAccess = FULL_PATH_ACCESS): string {
    return checkPath(this.deps.workspace.path, p, access, 'notebook')
  }

  async open(p: string, access: PathAccess = FULL_PATH_ACCESS): Promise<NotebookDocument> {
    const file = this.resolve(p, access)
    const bytes = await readFileOrFail(file)
    const st = await fs.stat(file)
    const { notebook } = parseNotebook(decodeUtf8(bytes, file), file)
    return { path: file, notebook, hash: sha256(bytes), mtimeMs: st.mtimeMs, size: st.size }
  }

  /**
   * Writes the notebook. The changed-on-disk check and the write are one critical section per file
   * (the link's target for a symlink), so of two saves made against the same hash exactly one wins
   * and the other gets NOTEBOOK_CONFLICT naming the hash now on disk.
   */
  async save(p: string, value: unknown, opts: SaveOptions = {}): Promise<SaveResult> {
    const file = this.resolve(p, opts.access)
    const nb = validateNotebook(value, file)
    const target = await realTarget(file)
    // A link inside the workspace whose target was swapped for one outside: refused like the path itself.
    if (opts.access?.confined) checkPath(this.deps.workspace.path, target, opts.access, 'notebook')
    return this.locks.run(target, () => this.saveLocked(file, target, nb, opts))
  }

  private async saveLocked(file: string, target: string, nb: NotebookJson, opts: SaveOptions): Promise<SaveResult> {
    let current: Buffer | null = null
    try {
      current = await fs.readFile(target)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, file)
    }
    if (current && !opts.force) {
      const hash = sha256(current)
      if (opts.expectedHash === undefined) {
        throw new AppError('FILE_CHANGED', `${basename(file)} already exists; save with force to overwrite it.`, {
          path: file,
          expectedHash: null,
          actualHash: hash
        })
      }
      if (opts.expectedHash !== hash) {
        const st = await fs.stat(target)
        throw new AppError(
          'NOTEBOOK_CONFLICT',
          `${basename(file)} was changed on disk since it was opened (now ${hash.slice(0, 12)}); reload it, or save with force to overwrite the changes.`,
          { path: file, expectedHash: opts.expectedHash, actualHash: hash, mtimeMs: st.mtimeMs }
        )
      }
    }
    let previous: ReturnType<typeof parseNotebook> | undefined
    if (current) {
      try {
        previous = parseNotebook(decodeUtf8(current, file), file)
      } catch {
        previous = undefined // the file on disk is not a notebook (forced overwrite): write fresh
      }
      if (previous && isDeepStrictEqual(previous.notebook, nb)) {
        const st = await fs.stat(target)
        return { path: file, hash: sha256(current), mtimeMs: st.mtimeMs, size: st.size, written: false }
      }
    }
    const data = Buffer.from(serializeNotebook(nb, previous), 'utf8')
    if (current && data.equals(current)) {
      const st = await fs.stat(target)
      return { path: file, hash: sha256(current), mtimeMs: st.mtimeMs, size: st.size, written: false }
    }
    await atomicWrite(target, data)
    const st = await fs.stat(target)
    return { path: file, hash: sha256(data), mtimeMs: st.mtimeMs, size: st.size, written: true }
  }

  /**
   * Removes temp files (`.<name>.<pid>.<hex>.tmp`) that a save interrupted by a crash left behind:
   * only those whose writer process is gone. Returns the paths removed.
   */
  async sweepStaleTemps(dir = this.deps.workspace.path): Promise<string[]> {
    if (!dir) return []
    const removed: string[] = []
    const walk = async (d: string, depth: number): Promise<void> => {
      if (depth > 8) return
      let entries: import('node:fs').Dirent[]
      try {
        entries = await fs.readdir(d, { withFileTypes: true })
      } catch {
        return
      }
      for (const e of entries) {
        const full = join(d, e.name)
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) await walk(full, depth + 1)
          continue
        }
        const m = TEMP_NAME.exec(e.name)
        if (!m || !e.isFile()) continue
        const pid = Number(m[1])
        if (pid === process.pid || processAlive(pid)) continue
        await fs.rm(full, { force: true }).then(
          () => removed.push(full),
          () => {}
        )
      }
    }
    await walk(resolve(dir), 0)
    if (removed.length) this.deps.log.info(`notebooks: removed ${removed.length} temp file(s) left by an interrupted save`)
    return removed
  }

  async create(
    p: string,
    kernel?: { name?: string; displayName?: string; language?: string },
    access: PathAccess = FULL_PATH_ACCESS
  ): Promise<NotebookDocument> {
    const file = this.resolve(p.endsWith('.ipynb') ? p : `${p}.ipynb`, access)
    const exists = await fs.stat(file).then(
      () => true,
      () => false
    )
    if (exists) throw new AppError('FILE_CHANGED', `${basename(file)} already exists.`, { path: file })
    await fs.mkdir(dirname(file), { recursive: true })
    await this.save(file, newNotebook(kernel), { access })
    return this.open(file, access)
  }

  /** Notebooks under `dir` (default: the workspace), skipping hidden and dependency folders. */
  async list(dir?: string, maxFiles = 5000, access: PathAccess = FULL_PATH_ACCESS): Promise<NotebookFileEntry[]> {
    const root = dir ? this.resolve(dir, access) : this.deps.workspace.path
    if (!root) return []
    const out: NotebookFileEntry[] = []
    const walk = async (d: string, depth: number): Promise<void> => {
      if (depth > 8 || out.length >= maxFiles) return
      let entries: import('node:fs').Dirent[]
      try {
        entries = await fs.readdir(d, { withFileTypes: true })
      } catch {
        return
      }
      for (const e of entries) {
        if (e.name.startsWith('.') || out.length >= maxFiles) continue
        const full = join(d, e.name)
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name)) await walk(full, depth + 1)
        } else if (e.isFile() && e.name.endsWith('.ipynb')) {
          const st = await fs.stat(full).catch(() => null)
          if (st) out.push({ path: full, name: relative(root, full), size: st.size, mtimeMs: st.mtimeMs })
        }
      }
    }
    await walk(root, 0)
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }
}

/** Temp files written by atomicWrite: `.<name>.<pid>.<hex>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Runs tasks one at a time per key, in call order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const result = prev.then(task, task)
    const tail = result.catch(() => {})
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }
}

/** The file a write must replace: a symlink's final target (so the link stays a link), else the path itself. */
async function realTarget(file: string): Promise<string> {
  try {
    return await fs.realpath(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, file)
  }
  // A dangling link: write where it points. A new file: in the real folder.
  const link = await fs.readlink(file).catch(() => null)
  if (link !== null) return realTarget(resolve(dirname(file), link))
  const dir = await fs.realpath(dirname(file)).catch(() => dirname(file))
  return join(dir, basename(file))
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** The file's text; NOTEBOOK_INVALID (nothing replaced by U+FFFD) when it is not valid UTF-8. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return UTF8.decode(bytes)
  } catch {
    const lossy = bytes.toString('utf8')
    const at = Buffer.byteLength(lossy.slice(0, Math.max(0, lossy.indexOf('\uFFFD'))), 'utf8')
    throw new AppError('NOTEBOOK_INVALID', `The notebook ${file} is not valid UTF-8 text (near byte ${at}); it was left untouched.`, {
      path: file,
      offset: at
    })
  }
}

async function readFileOrFail(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file)
  } catch (err) {
    throw fileError(err, file)
  }
}

function fileError(err: unknown, file: string): AppError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new AppError('NOT_FOUND', `No such notebook: ${file}`, { path: file })
  return new AppError('FILE_ERROR', `Cannot read ${file}: ${(err as Error).message}`, { path: file, errno: code })
}

/** Temp file in the same folder, fsync, rename over the target, fsync the folder; keeps the file's mode. */
export async function atomicWrite(file: string, data: Buffer): Promise<void> {
  const dir = dirname(file)
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const mode = await fs.stat(file).then(
    (s) => s.mode & 0o777,
    () => 0o644
  )
  let handle: import('node:fs/promises').FileHandle | undefined
  try {
    handle = await fs.open(tmp, 'wx', mode)
    await handle.writeFile(data)
    await handle.sync()
    await handle.close()
    handle = undefined
    await fs.rename(tmp, file)
  } catch (err) {
    await handle?.close().catch(() => {})
    await fs.rm(tmp, { force: true }).catch(() => {})
    throw new AppError('FILE_ERROR', `Cannot write ${file}: ${(err as Error).message}`, { path: file })
  }
  try {
    const dh = await fs.open(dir, 'r')
    await dh.sync().catch(() => {})
    await dh.close()
  } catch {
    // some file systems cannot fsync a directory; the rename is still atomic
  }
}

export type { NotebookJson }
