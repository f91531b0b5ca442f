import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import type { NotebookDocument, NotebookFileEntry, NotebookJson } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import type { Logger } from '../../log'
import type { WorkspaceService } from '../workspace/WorkspaceService'
import { isDeepStrictEqual } from 'node:util'
import { newNotebook, parseNotebook, serializeNotebook, validateNotebook } from './nbformat'

export interface SaveOptions {
  expectedHash?: string
  force?: boolean
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
  constructor(private readonly deps: { workspace: Pick<WorkspaceService, 'path'>; log: Logger }) {}

  /** Absolute path: relative paths are taken from the workspace. */
  resolve(p: string): string {
    if (isAbsolute(p)) return resolve(p)
    const ws = this.deps.workspace.path
    if (!ws) throw new AppError('INVALID_REQUEST', `Open a workspace first, or give an absolute path (${p})`)
    return resolve(ws, p)
  }

  async open(p: string): Promise<NotebookDocument> {
    const file = this.resolve(p)
    const bytes = await readFileOrFail(file)
    const st = await fs.stat(file)
    const { notebook } = parseNotebook(bytes.toString('utf8'), file)
    return { path: file, notebook, hash: sha256(bytes), mtimeMs: st.mtimeMs, size: st.size }
  }

  async save(p: string, value: unknown, opts: SaveOptions = {}): Promise<SaveResult> {
    const file = this.resolve(p)
    const nb = validateNotebook(value, file)
    let current: Buffer | null = null
    try {
      current = await fs.readFile(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, file)
    }
    if (current && !opts.force) {
      const hash = sha256(current)
      if (opts.expectedHash === undefined || opts.expectedHash !== hash) {
        const st = await fs.stat(file)
        throw new AppError(
          'FILE_CHANGED',
          opts.expectedHash === undefined
            ? `${basename(file)} already exists; save with force to overwrite it.`
            : `${basename(file)} was changed on disk since it was opened; reload it, or save with force to overwrite the changes.`,
          { path: file, expectedHash: opts.expectedHash ?? null, actualHash: hash, mtimeMs: st.mtimeMs }
        )
      }
    }
    let previous: ReturnType<typeof parseNotebook> | undefined
    if (current) {
      try {
        previous = parseNotebook(current.toString('utf8'), file)
      } catch {
        previous = undefined // the file on disk is not a notebook (forced overwrite): write fresh
      }
      if (previous && isDeepStrictEqual(previous.notebook, nb)) {
        const st = await fs.stat(file)
        return { path: file, hash: sha256(current), mtimeMs: st.mtimeMs, size: st.size, written: false }
      }
    }
    const data = Buffer.from(serializeNotebook(nb, previous), 'utf8')
    await atomicWrite(file, data)
    const st = await fs.stat(file)
    return { path: file, hash: sha256(data), mtimeMs: st.mtimeMs, size: st.size, written: true }
  }

  async create(p: string, kernel?: { name?: string; displayName?: string; language?: string }): Promise<NotebookDocument> {
    const file = this.resolve(p.endsWith('.ipynb') ? p : `${p}.ipynb`)
    const exists = await fs.stat(file).then(
      () => true,
      () => false
    )
    if (exists) throw new AppError('FILE_CHANGED', `${basename(file)} already exists.`, { path: file })
    await fs.mkdir(dirname(file), { recursive: true })
    await this.save(file, newNotebook(kernel))
    return this.open(file)
  }

  /** Notebooks under `dir` (default: the workspace), skipping hidden and dependency folders. */
  async list(dir?: string, maxFiles = 5000): Promise<NotebookFileEntry[]> {
    const root = dir ? this.resolve(dir) : this.deps.workspace.path
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
