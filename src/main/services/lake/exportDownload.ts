import { createReadStream, realpathSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { basename, relative, isAbsolute } from 'node:path'
import type { CallContext } from '../../../shared/auth'
import type { HttpMount } from '../../serve/server'

/** Where a finished export may be downloaded from over HTTP. */
export const EXPORT_DOWNLOAD_PREFIX = '/api/lake/exports/'

/** A finished export that may be downloaded: its own file, nothing else. */
export interface DownloadableExport {
  /** Real path of the exported file when it was written. */
  path: string
  format: 'csv' | 'parquet'
  bytes: number
  /** The principal id that exported it: the only one who may download it. */
  owner: string
}

/** True when `file` (a real path) lies inside one of `roots` (each resolved to its real path). */
export function isInside(file: string, roots: readonly (string | null | undefined)[]): boolean {
  return roots.some((root) => {
    if (!root) return false
    let real: string
    try {
      real = realpathSync(root)
    } catch {
      return false
    }
    const rel = relative(real, file)
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
  })
}

const TYPES = { csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet' }

/**
 * `GET /api/lake/exports/<exportId>`: the file a finished export wrote, as an attachment. `serve`
 * routes it after its token/session check (full-scope credentials only); it serves only the path
 * recorded for that export, to the principal who made it, and only while it is still the same
 * regular file inside the allowed folders.
 */
export function createExportDownloads(o: {
  find(exportId: string): DownloadableExport | undefined
  roots(): (string | null | undefined)[]
}): HttpMount {
  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.statusCode = status
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ code, message }))
  }
  return {
    prefixes: [EXPORT_DOWNLOAD_PREFIX],
    handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx: CallContext) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void fail(res, 405, 'INVALID_REQUEST', 'Method not allowed')
      const id = decodeURIComponent(url.pathname.slice(EXPORT_DOWNLOAD_PREFIX.length))
      const x = /^[\w-]{1,100}$/.test(id) ? o.find(id) : undefined
      if (!x || x.owner !== ctx.principal.id) return void fail(res, 404, 'NOT_FOUND', 'No finished export with this id')
      let real: string
      let size: number
      try {
        real = realpathSync(x.path)
        const st = statSync(real)
        if (!st.isFile()) throw new Error('not a file')
        size = st.size
      } catch {
        return void fail(res, 404, 'NOT_FOUND', 'The exported file is no longer there')
      }
      if (real !== x.path || !isInside(real, o.roots())) return void fail(res, 403, 'UNAUTHORIZED', 'The exported file moved out of the workspace')
      const name = basename(real)
      res.statusCode = 200
      res.setHeader('Content-Type', TYPES[x.format])
      res.setHeader('Content-Length', String(size))
      res.setHeader('Content-Disposition', `attachment; filename="${name.replace(/["\\\r\n]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`)
      res.setHeader('Cache-Control', 'no-store')
      if (req.method === 'HEAD') {
        res.end()
        return
      }
      const stream = createReadStream(real)
      stream.on('error', () => res.destroy())
      stream.pipe(res)
    }
  }
}
