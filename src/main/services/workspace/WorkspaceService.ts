import { readdir, stat } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { homedir } from 'node:os'
import { AppError } from '../../../shared/errors'
import type { FsEntry } from '../../../shared/api'
import type { AppDatabase } from '../../db'
import { checkPath, FULL_PATH_ACCESS, visibleName, type PathAccess } from './access'

type Listener = (workspace: { id: number; path: string }) => void

/** The open workspace folder, the recent list, and a directory lister for the in-app file picker. */
export class WorkspaceService {
  private current: { id: number; path: string } | null = null
  private listeners = new Set<Listener>()

  constructor(private readonly db: AppDatabase) {}

  get path(): string | null {
    return this.current?.path ?? null
  }

  get id(): number | null {
    return this.current?.id ?? null
  }

  onChange(l: Listener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  /**
   * Opens a folder as the workspace (for every caller of this app). Confined callers (see access.ts)
   * may not move the workspace, only reopen the current one: it is the root that confines them.
   */
  async open(path: string, opts: { create?: boolean } = {}, access: PathAccess = FULL_PATH_ACCESS): Promise<{ path: string }> {
    const abs = resolve(path)
    if (access.confined && abs !== this.path) {
      throw new AppError('PATH_FORBIDDEN', 'Only an admin may open another workspace folder', { path: abs, workspace: this.path })
    }
    if (opts.create) mkdirSync(abs, { recursive: true })
    let info
    try {
      info = await stat(abs)
    } catch {
      throw new AppError('NOT_FOUND', `Folder not found: ${abs}`, { path: abs })
    }
    if (!info.isDirectory()) throw new AppError('FILE_ERROR', `Not a folder: ${abs}`, { path: abs })
    const row = this.db
      .prepare(
        `INSERT INTO workspaces (path) VALUES (?)
         ON CONFLICT(path) DO UPDATE SET opened_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         RETURNING id`
      )
      .get(abs) as { id: number }
    this.current = { id: row.id, path: abs }
    for (const l of this.listeners) l(this.current)
    return { path: abs }
  }

  recent(limit = 20): { path: string; openedAt: string }[] {
    return this.db
      .prepare('SELECT path, opened_at AS openedAt FROM workspaces ORDER BY opened_at DESC LIMIT ?')
      .all(limit) as { path: string; openedAt: string }[]
  }

  /** Most recently opened workspace that still exists. */
  lastOpened(): string | null {
    return this.recent(1)[0]?.path ?? null
  }

  /**
   * A folder's entries. A confined caller (see access.ts) lists only inside the workspace: no parent
   * above it, no hidden names, no links that lead out.
   */
  async list(
    path: string | undefined,
    showHidden = false,
    access: PathAccess = FULL_PATH_ACCESS
  ): Promise<{ path: string; parent: string | null; entries: FsEntry[] }> {
    const dir = access.confined ? checkPath(this.path, path ?? this.path ?? '.', access, 'folder') : resolve(path ?? this.path ?? homedir())
    let names
    try {
      names = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      throw new AppError('FILE_ERROR', `Cannot list ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { path: dir })
    }
    const entries: FsEntry[] = []
    for (const d of names) {
      if (!visibleName(d.name, access, showHidden)) continue
      const full = join(dir, d.name)
      if (access.confined && d.isSymbolicLink()) {
        try {
          checkPath(this.path, full, access)
        } catch {
          continue
        }
      }
      let size = 0
      let isDir = d.isDirectory()
      if (d.isSymbolicLink() || d.isFile()) {
        try {
          const s = await stat(full)
          size = s.size
          isDir = s.isDirectory()
        } catch {
          continue
        }
      }
      entries.push({ name: d.name, path: full, kind: isDir ? 'dir' : 'file', size })
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1))
    const atTop = dirname(dir) === dir || (access.confined && this.path !== null && resolve(dir) === resolve(this.path))
    const parent = atTop ? null : dirname(dir)
    return { path: dir, parent, entries }
  }
}
