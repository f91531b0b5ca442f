import { readdir, stat, open } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { AppError } from '../../../shared/errors'
import type { FileFormat, SourceKind } from '../../../shared/api'
import { quoteLiteral } from './sql'

const EXT_FORMAT: Record<string, FileFormat> = {
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.json': 'json',
  '.ndjson': 'json',
  '.jsonl': 'json'
}

/** Format from the name, looking through a compression suffix (`x.csv.gz`). */
export function formatFromName(name: string): FileFormat | undefined {
  const lower = name.toLowerCase().replace(/\.(gz|zst)$/, '')
  return EXT_FORMAT[extname(lower)]
}

/** Format from the first bytes, for files without a telling extension. */
export async function sniffFormat(file: string): Promise<FileFormat | undefined> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(512)
    const { bytesRead } = await fh.read(buf, 0, 512, 0)
    const head = buf.subarray(0, bytesRead)
    if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet'
    const text = head.toString('utf8').trimStart()
    if (text.startsWith('{') || text.startsWith('[')) return 'json'
    if (/[,;\t|]/.test(text.split('\n')[0] ?? '')) return 'csv'
    return undefined
  } finally {
    await fh.close()
  }
}

export interface FolderScan {
  format: FileFormat
  files: number
  hive: boolean
  /** Extension glob used for the folder, e.g. `**\/*.parquet`. */
  pattern: string
}

/** Finds the dominant data format under a folder and whether it uses hive `key=value` directories. */
export async function scanFolder(root: string, maxFiles = 100_000): Promise<FolderScan> {
  const counts = new Map<string, { format: FileFormat; n: number }>()
  let hive = false
  let seen = 0
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 12 || seen > maxFiles) return
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue
      const full = join(dir, e.name)
      if (e.isDirectory()) {
        if (/^[^=]+=[^=]*$/.test(e.name)) hive = true
        await walk(full, depth + 1)
      } else if (e.isFile()) {
        seen++
        const fmt = formatFromName(e.name)
        if (!fmt) continue
        const ext = e.name.toLowerCase().match(/\.[a-z]+(\.(gz|zst))?$/)?.[0] ?? ''
        const cur = counts.get(ext) ?? { format: fmt, n: 0 }
        cur.n++
        counts.set(ext, cur)
      }
    }
  }
  await walk(root, 0)
  const best = [...counts.entries()].sort((a, b) => b[1].n - a[1].n)[0]
  if (!best) {
    throw new AppError('FILE_ERROR', `No Parquet, CSV or JSON files found in ${root}`, { path: root })
  }
  return { format: best[1].format, files: best[1].n, hive, pattern: `**/*${best[0]}` }
}

/**
 * The table function that reads a file or glob in a given format. Columns are unified by name only
 * where the location can match several files (a glob): for one file there is nothing to unify, and
 * DuckDB would still read its schema once more on every query.
 */
export function readerSql(format: FileFormat, location: string, hive: boolean): string {
  const loc = quoteLiteral(location)
  const hiveOpt = hive ? ', hive_partitioning = true' : ''
  const opts = hiveOpt + (/[*?[{]/.test(location) ? ', union_by_name = true' : '')
  switch (format) {
    case 'parquet':
      return `read_parquet(${loc}${opts})`
    case 'csv':
      return `read_csv(${loc}${opts})`
    case 'json':
      return `read_json_auto(${loc}${hiveOpt})`
  }
}

export interface ResolvedSource {
  kind: SourceKind
  /** What the view reads (a file path, a glob, a URL). */
  target: string
  format?: FileFormat
  hive: boolean
  /** Extensions DuckDB needs for this source. */
  extensions: string[]
}

/** Checks a local location exists and is of the right shape; works out format and glob. */
export async function resolveSource(
  kind: SourceKind,
  location: string,
  format: FileFormat | undefined,
  hivePartitioning: boolean | undefined
): Promise<ResolvedSource> {
  switch (kind) {
    case 'file': {
      const info = await statOrThrow(location)
      if (!info.isFile()) throw new AppError('FILE_ERROR', `Not a file: ${location}`, { path: location })
      const fmt = format ?? formatFromName(location) ?? (await sniffFormat(location))
      if (!fmt) {
        throw new AppError('FILE_ERROR', `Cannot tell the format of ${location}; choose Parquet, CSV or JSON`, { path: location })
      }
      return { kind, target: location, format: fmt, hive: false, extensions: [] }
    }
    case 'folder': {
      const info = await statOrThrow(location)
      if (!info.isDirectory()) throw new AppError('FILE_ERROR', `Not a folder: ${location}`, { path: location })
      const scan = await scanFolder(location)
      const fmt = format ?? scan.format
      const pattern = format && format !== scan.format ? `**/*.${format}` : scan.pattern
      return { kind, target: join(location, pattern), format: fmt, hive: hivePartitioning ?? scan.hive, extensions: [] }
    }
    case 'duckdb':
    case 'sqlite': {
      const info = await statOrThrow(location)
      if (!info.isFile()) throw new AppError('FILE_ERROR', `Not a database file: ${location}`, { path: location })
      return { kind, target: location, hive: false, extensions: [] }
    }
    case 's3': {
      if (!/^s3:\/\/[^/]+/.test(location)) {
        throw new AppError('INVALID_REQUEST', 'An S3 location looks like s3://bucket/path/*.parquet', { location })
      }
      const fmt = format ?? formatFromName(location) ?? 'parquet'
      return { kind, target: location, format: fmt, hive: hivePartitioning ?? false, extensions: ['httpfs'] }
    }
    case 'iceberg':
      return { kind, target: location, hive: false, extensions: remote(location) ? ['httpfs', 'iceberg'] : ['iceberg'] }
    case 'delta':
      return { kind, target: location, hive: false, extensions: remote(location) ? ['httpfs', 'delta'] : ['delta'] }
  }
}

function remote(location: string): boolean {
  return /^(s3|gs|gcs|az|abfss|https?):\/\//i.test(location)
}

async function statOrThrow(path: string) {
  try {
    return await stat(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new AppError(code === 'ENOENT' ? 'NOT_FOUND' : 'FILE_ERROR', `Cannot open ${path}: ${code === 'ENOENT' ? 'no such file or folder' : code}`, {
      path
    })
  }
}
