/**
 * Who may touch which files and run which SQL. Enforced in the services (every door reaches them),
 * decided from the caller's role: admins keep full power (the desktop's own user is one); every
 * other role is confined to the open workspace folder, as Jupyter's contents API confines to its
 * root_dir: real paths are resolved (a symlink or `..` that leads out is refused) and hidden files
 * stay hidden. Viewers and reviewers may read data but never write it: their SQL runs on a locked,
 * read-only DuckDB (see lake/readOnly.ts).
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { Principal, Role } from '../../../shared/auth'
import { LOCAL_PRINCIPAL } from '../../../shared/auth'
import { AppError } from '../../../shared/errors'

export interface PathAccess {
  /** Paths must resolve inside the workspace folder. */
  confined: boolean
  /** Hidden files and folders (a name starting with '.') may be listed and opened. */
  hidden: boolean
}

export const FULL_PATH_ACCESS: PathAccess = Object.freeze({ confined: false, hidden: true })

/** What a role may do with paths. */
export function pathAccess(principal: Principal = LOCAL_PRINCIPAL): PathAccess {
  return principal.role === 'admin' ? FULL_PATH_ACCESS : { confined: true, hidden: false }
}

/** Roles whose SQL runs read-only (no writes, no files outside the sources, no settings). */
export function isReadOnlyRole(role: Role): boolean {
  return role === 'viewer' || role === 'reviewer'
}

/**
 * The absolute path for `p` (relative paths are taken from the workspace), checked against the
 * access: for a confined caller it must resolve, through every symlink, inside the workspace, and
 * name nothing hidden. Paths that do not exist yet (a new file) are checked through their nearest
 * existing folder. Returns the path as given (made absolute), so a link inside the workspace stays
 * a link for the caller.
 */
export function checkPath(workspace: string | null, p: string, access: PathAccess, what = 'path'): string {
  if (!access.confined) {
    if (isAbsolute(p)) return resolve(p)
    if (!workspace) throw new AppError('INVALID_REQUEST', `Open a workspace first, or give an absolute path (${p})`)
    return resolve(workspace, p)
  }
  if (!workspace) throw new AppError('PATH_FORBIDDEN', 'Open a workspace first: files are reached only inside the workspace folder', { path: p })
  const root = realpathSync(workspace)
  const abs = isAbsolute(p) ? resolve(p) : resolve(workspace, p)
  const lexical = relative(resolve(workspace), abs)
  const real = realPathOf(abs)
  const rel = relative(root, real)
  if (rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
    throw new AppError('PATH_FORBIDDEN', `The ${what} ${p} is outside the workspace folder ${workspace}`, { path: p, workspace })
  }
  if (!access.hidden && [...lexical.split(sep), ...rel.split(sep)].some((part) => part.startsWith('.') && part !== '.' && part !== '..')) {
    throw new AppError('PATH_FORBIDDEN', `The ${what} ${p} is hidden (its name or a folder's starts with '.')`, { path: p })
  }
  return abs
}

/** realpath of the path, or of its nearest existing folder joined with the rest (following dangling links). */
function realPathOf(abs: string, depth = 0): string {
  try {
    return realpathSync(abs)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err
    if (depth > 40) throw new AppError('PATH_FORBIDDEN', `Too many symbolic links at ${abs}`, { path: abs })
    const link = (() => {
      try {
        return lstatSync(abs).isSymbolicLink() ? readlinkSync(abs) : null
      } catch {
        return null
      }
    })()
    if (link !== null) return realPathOf(resolve(dirname(abs), link), depth + 1)
    const parent = dirname(abs)
    if (parent === abs) return abs
    return join(realPathOf(parent, depth + 1), basename(abs))
  }
}

/** True when a name is shown to this caller in listings. */
export function visibleName(name: string, access: PathAccess, showHidden = false): boolean {
  return !name.startsWith('.') || (access.hidden && showHidden)
}
