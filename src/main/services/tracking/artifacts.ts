/**
 * Run artifacts as files under `<dataDir>/artifacts/<experiment>/<run>/artifacts/…`, the layout the
 * proxied `mlflow-artifacts:/<experiment>/<run>/artifacts` URIs name. Every path is checked: no
 * `..`, no absolute or backslashed paths, no NUL, and the resolved file (symlinks followed) must stay
 * under the root. Uploads go to a temp file that is renamed into place once complete.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { invalid, notFound } from './errors'
import type { ArtifactPreview } from '../../../shared/api'

export interface ArtifactFile {
  path: string
  is_dir: boolean
  file_size?: number
}

/** Splits a relative artifact path into safe segments, or throws INVALID_PARAMETER_VALUE. */
export function safeSegments(path: string): string[] {
  if (path.includes('\0') || path.includes('\\')) throw invalid(`Invalid artifact path: '${path}'`)
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw invalid(`Invalid artifact path: '${path}'. It must be relative.`)
  const parts = path.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.some((p) => p === '..')) throw invalid(`Invalid artifact path: '${path}'. It must not contain '..'.`)
  return parts
}

const TEXT = new Set(['.txt', '.log', '.md', '.json', '.yaml', '.yml', '.py', '.ipynb', '.toml', '.ini', '.cfg', '.xml', '.html', '.sh', '.sql', '.r'])
const TABLE = new Set(['.csv', '.tsv'])
const IMAGE: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.bmp': 'image/bmp'
}

export class ArtifactStore {
  readonly root: string
  constructor(root: string) {
    this.root = resolve(root)
  }

  /** The absolute path for a path relative to the root (lexically checked). */
  resolve(rel: string): string {
    const parts = safeSegments(rel)
    const file = join(this.root, ...parts)
    if (file !== this.root && !file.startsWith(this.root + sep)) throw invalid(`Invalid artifact path: '${rel}'`)
    return file
  }

  /** Resolves and follows symlinks, refusing anything that lands outside the root. */
  private async resolveExisting(rel: string): Promise<string> {
    const file = this.resolve(rel)
    let real: string
    try {
      real = await realpath(file)
    } catch {
      throw notFound(`Artifact not found: '${rel}'`)
    }
    const rootReal = await realpath(this.root).catch(() => this.root)
    if (real !== rootReal && !real.startsWith(rootReal + sep)) throw invalid(`Invalid artifact path: '${rel}'`)
    return real
  }

  async write(rel: string, body: Readable): Promise<number> {
    const file = this.resolve(rel)
    if (file === this.root) throw invalid('An artifact path is required')
    const dir = join(file, '..')
    // Symlinks are followed on write too: the folder must really be under the root, checked on its
    // nearest existing ancestor before anything is created and again once the folder exists.
    await mkdir(this.root, { recursive: true })
    const rootReal = await realpath(this.root)
    await this.assertInside(await realExisting(dir), rootReal, rel)
    await mkdir(dir, { recursive: true })
    await this.assertInside(await realpath(dir), rootReal, rel)
    const existing = await lstat(file).catch(() => null)
    if (existing?.isDirectory()) throw invalid(`Artifact path '${rel}' is a directory`)
    const tmp = join(dir, `.${randomBytes(6).toString('hex')}.upload`)
    try {
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }))
      const fh = await open(tmp, 'r')
      await fh.sync()
      await fh.close()
      await rename(tmp, file)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    return (await stat(file)).size
  }

  private async assertInside(real: string, rootReal: string, rel: string): Promise<void> {
    if (real !== rootReal && !real.startsWith(rootReal + sep)) throw invalid(`Invalid artifact path: '${rel}'. It leads outside the artifact root.`)
  }

  async open(rel: string): Promise<{ size: number; stream: Readable }> {
    const file = await this.resolveExisting(rel)
    const s = await stat(file)
    if (!s.isFile()) throw notFound(`Artifact not found: '${rel}'`)
    return { size: s.size, stream: createReadStream(file) }
  }

  async remove(rel: string): Promise<void> {
    const file = await this.resolveExisting(rel)
    if (file === (await realpath(this.root))) throw invalid('Cannot delete the artifact root')
    await rm(file, { recursive: true, force: true })
  }

  /** Direct children of a folder, names relative to `prefix` (sorted; temp uploads hidden). */
  async list(rel: string, prefix = ''): Promise<ArtifactFile[]> {
    let dir: string
    try {
      dir = await this.resolveExisting(rel)
    } catch {
      return []
    }
    const s = await stat(dir)
    if (!s.isDirectory()) return []
    const entries = await readdir(dir, { withFileTypes: true })
    const out: ArtifactFile[] = []
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.endsWith('.upload') && e.name.startsWith('.')) continue
      const path = prefix ? `${prefix}/${e.name}` : e.name
      if (e.isDirectory()) out.push({ path, is_dir: true })
      else if (e.isFile()) out.push({ path, is_dir: false, file_size: (await stat(join(dir, e.name))).size })
    }
    return out
  }

  /** A size-capped preview for the UI: text, CSV rows, or an image as base64. */
  async preview(rel: string, displayPath: string, maxBytes: number): Promise<ArtifactPreview> {
    const file = await this.resolveExisting(rel)
    const s = await stat(file)
    if (!s.isFile()) throw notFound(`Artifact not found: '${displayPath}'`)
    const ext = extname(file).toLowerCase()
    const fh = await open(file, 'r')
    const buf = Buffer.alloc(Math.min(s.size, maxBytes))
    try {
      await fh.read(buf, 0, buf.length, 0)
    } finally {
      await fh.close()
    }
    const truncated = s.size > maxBytes
    const base = { path: displayPath, size: s.size, truncated }
    if (IMAGE[ext]) {
      return truncated ? { ...base, kind: 'image', mime: IMAGE[ext] } : { ...base, kind: 'image', mime: IMAGE[ext], base64: buf.toString('base64') }
    }
    const looksText = TEXT.has(ext) || TABLE.has(ext) || !buf.subarray(0, 8000).includes(0)
    if (!looksText) return { ...base, kind: 'binary', mime: 'application/octet-stream' }
    let text = buf.toString('utf8')
    if (truncated) text = text.replace(/\uFFFD$/, '')
    if (TABLE.has(ext)) return { ...base, kind: 'csv', mime: 'text/csv', text, rows: parseCsv(text, ext === '.tsv' ? '\t' : ',', 200) }
    return { ...base, kind: 'text', mime: 'text/plain', text }
  }
}

/** The real path of the nearest existing ancestor of `path` (itself included). */
async function realExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return await realpath(p)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw err
      // A dangling link is not a folder that may be created: its target decides.
      if ((await lstat(p).catch(() => null))?.isSymbolicLink()) throw invalid(`Invalid artifact path: a link at '${p}' leads nowhere`)
    }
  }
}

/** A small RFC 4180 reader for previews (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string, delimiter: string, maxRows: number): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === delimiter) {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if ((field !== '' || row.length > 0) && rows.length < maxRows) rows.push([...row, field])
  return rows
}
