import { Field } from '../../../components/Field'
import { useEffect, useState } from 'react'
import type { ExportResult } from '../../../../../shared/api'
import { call, onEvent, serveToken } from '../../../api/client'
import { ProgressBar } from '../../../components/ProgressBar'
import { toUiError } from '../../../lib/errors'
import { newId } from '../../../lib/ids'
import { formatBytes, formatCount, formatDuration, plural } from '../../../lib/format'
import { useWorkspaceStore } from '../../workspace/useWorkspaceStore'
import type { QueryState } from '../query/useQueryStore'

function joinPath(dir: string, name: string) {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/'
  return dir.endsWith(sep) ? dir + name : dir + sep + name
}

/** Fetches a finished export with the session's token and hands it to the browser as a download. */
async function downloadExport(url: string, path: string): Promise<void> {
  const token = serveToken()
  const r = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, credentials: 'same-origin' })
  if (!r.ok) {
    const body = (await r.json().catch(() => null)) as { message?: string } | null
    throw new Error(body?.message ?? `Download failed (HTTP ${r.status})`)
  }
  const href = URL.createObjectURL(await r.blob())
  const a = document.createElement('a')
  a.href = href
  a.download = path.split(/[\\/]/).pop() || 'export'
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
}

export function ExportPanel({ query }: { query: QueryState | undefined }) {
  const ws = useWorkspaceStore((s) => s.path)
  const [format, setFormat] = useState<'csv' | 'parquet'>('parquet')
  const [path, setPath] = useState('')
  const [touched, setTouched] = useState(false)
  const [running, setRunning] = useState<{ exportId: string; percent: number | null } | null>(null)
  const [result, setResult] = useState<ExportResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [downloading, setDownloading] = useState(false)
  const inBrowser = serveToken() !== null
  /** The path of a file that exists: the user may choose to replace it. */
  const [exists, setExists] = useState<string | null>(null)

  // default path follows the workspace and the format until the user edits it
  useEffect(() => {
    if (!touched) setPath(ws ? joinPath(ws, `export.${format}`) : `export.${format}`)
  }, [ws, format, touched])

  useEffect(
    () =>
      onEvent('export.progress', (e) =>
        setRunning((r) => (r && r.exportId === e.exportId ? { ...r, percent: e.done ? 100 : e.percent ?? r.percent } : r))
      ),
    []
  )

  const ready = query?.status === 'done' && (query.columns?.length ?? 0) > 0
  const start = async (overwrite = false) => {
    if (!query) return
    const exportId = newId()
    setRunning({ exportId, percent: null })
    setResult(null)
    setError(null)
    setExists(null)
    try {
      const res = await call('lake.export', { exportId, queryId: query.queryId, format, path: path.trim(), ...(overwrite ? { overwrite } : {}) })
      setResult(res)
    } catch (err) {
      const e = toUiError(err)
      if (e.code === 'FILE_EXISTS') {
        const existing = String(e.details?.path ?? path.trim())
        setExists(existing)
        setError(`${existing} already exists. Choose another path, or replace the file.`)
      } else setError(e.message)
    } finally {
      setRunning(null)
    }
  }

  return (
    <div className="export-panel">
      <form
        className="panel-bar export-form"
        onSubmit={(e) => {
          e.preventDefault()
          void start()
        }}
      >
        <Field label="Export format" className="inline-field">
          <select
            value={format}
            onChange={(e) => {
              const f = e.target.value as 'csv' | 'parquet'
              setFormat(f)
              if (touched) setPath((p) => p.replace(/\.(csv|parquet)$/i, `.${f}`))
            }}
          >
            <option value="parquet">parquet</option>
            <option value="csv">csv</option>
          </select>
        </Field>
        <Field label="Export path" className="inline-field grow">
          <input
            type="text"
            value={path}
            spellCheck={false}
            onChange={(e) => {
              setTouched(true)
              setPath(e.target.value)
            }}
          />
        </Field>
        <button type="submit" className="btn primary small" disabled={!ready || !!running || !path.trim()}>
          Export
        </button>
      </form>
      {!ready && <p className="muted empty-note">Run a query to export its result.</p>}
      {running && <ProgressBar label="Export progress" percent={running.percent} className="export-progress" />}
      {error && (
        <div role="alert" className="error-box">
          {error}
          {exists && (
            <button type="button" className="btn small" style={{ marginLeft: 8 }} onClick={() => void start(true)}>
              Replace file
            </button>
          )}
        </div>
      )}
      {result && (
        <p role="status" className="success-box">
          Exported {plural(result.rows, 'row')} to {result.path}
          <span className="muted">
            {' '}
            · {formatBytes(result.bytes)} · {formatDuration(result.elapsedMs)}
          </span>
          {inBrowser && result.download && (
            <button
              type="button"
              className="btn small"
              disabled={downloading}
              title="The file was written on the server; this saves a copy through the browser"
              onClick={() => {
                setDownloading(true)
                downloadExport(result.download!, result.path)
                  .catch((err) => setError(toUiError(err).message))
                  .finally(() => setDownloading(false))
              }}
            >
              Download {result.path.split(/[\\/]/).pop()}
            </button>
          )}
          {inBrowser && !result.download && (
            <span className="muted"> · written on the server only (outside the workspace, so not offered for download)</span>
          )}
        </p>
      )}
    </div>
  )
}
