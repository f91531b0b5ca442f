import { Field } from '../../../components/Field'
import { useState } from 'react'
import type { AddSourceParams, FileFormat, SourceKind } from '../../../../../shared/api'
import { Dialog } from '../../../components/Dialog'
import { FileBrowser } from '../../../components/FileBrowser'
import { toUiError } from '../../../lib/errors'
import { useWorkspaceStore } from '../../workspace/useWorkspaceStore'
import { useCatalogStore } from './useCatalogStore'

const KINDS: { value: SourceKind; label: string }[] = [
  { value: 'file', label: 'file (Parquet, CSV, JSON)' },
  { value: 'folder', label: 'folder of files' },
  { value: 'duckdb', label: 'duckdb database' },
  { value: 'sqlite', label: 'sqlite database' },
  { value: 's3', label: 's3 (object storage)' },
  { value: 'iceberg', label: 'iceberg table' },
  { value: 'delta', label: 'delta table' }
]

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

function guess(path: string, isDir: boolean): { kind?: SourceKind; format?: FileFormat } {
  const p = path.toLowerCase()
  if (isDir) return { kind: 'folder' }
  if (/\.(duckdb|ddb)$/.test(p)) return { kind: 'duckdb' }
  if (/\.(sqlite3?|db)$/.test(p)) return { kind: 'sqlite' }
  if (/\.parquet$/.test(p)) return { kind: 'file', format: 'parquet' }
  if (/\.(csv|tsv)(\.gz)?$/.test(p)) return { kind: 'file', format: 'csv' }
  if (/\.(json|ndjson|jsonl)(\.gz)?$/.test(p)) return { kind: 'file', format: 'json' }
  return {}
}

export function AddSourceDialog() {
  const showAdd = useCatalogStore((s) => s.showAdd)
  const add = useCatalogStore((s) => s.add)
  const ws = useWorkspaceStore((s) => s.path)
  const [kind, setKind] = useState<SourceKind>('file')
  const [location, setLocation] = useState('')
  const [name, setName] = useState('')
  const [format, setFormat] = useState<FileFormat | ''>('')
  const [hive, setHive] = useState(false)
  const [s3, setS3] = useState({ region: '', endpoint: '', accessKeyId: '', secretAccessKey: '', urlStyle: '' })
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const isFiles = kind === 'file' || kind === 'folder' || kind === 's3'
  const isRemote = kind === 's3' || ((kind === 'iceberg' || kind === 'delta') && /^s3:\/\//i.test(location))

  const submit = async () => {
    setError(null)
    if (!location.trim()) return setError('Enter a location.')
    if (name && !NAME_RE.test(name)) return setError('Table name: use letters, digits and underscores, not starting with a digit.')
    const params: AddSourceParams = { kind, location: location.trim() }
    if (name) params.name = name
    if (isFiles && format) params.format = format
    if (isFiles && hive) params.hivePartitioning = true
    if (isRemote) {
      const o: NonNullable<AddSourceParams['s3']> = {}
      if (s3.region) o.region = s3.region
      if (s3.endpoint) o.endpoint = s3.endpoint
      if (s3.accessKeyId) o.accessKeyId = s3.accessKeyId
      if (s3.secretAccessKey) o.secretAccessKey = s3.secretAccessKey
      if (s3.urlStyle === 'path' || s3.urlStyle === 'vhost') o.urlStyle = s3.urlStyle
      if (Object.keys(o).length) params.s3 = o
    }
    setBusy(true)
    try {
      await add(params)
      showAdd(false)
    } catch (err) {
      setError(toUiError(err).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog title="Add source" onClose={() => showAdd(false)} className="wide">
      <form
        className="dialog-body form"
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <div className="form-row">
          <Field label="Kind" className="field">
            <select value={kind} onChange={(e) => setKind(e.target.value as SourceKind)}>
              {KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Location" className="field grow">
            <input
              type="text"
              value={location}
              onChange={(e) => setLocation(e.target.value)}
              placeholder={kind === 's3' ? 's3://bucket/path/*.parquet' : kind === 'iceberg' || kind === 'delta' ? 'folder or s3:// URL of the table' : 'path to a file or folder'}
              spellCheck={false}
              autoFocus
            />
          </Field>
        </div>
        {kind !== 's3' && (
          <FileBrowser
            start={ws ?? undefined}
            label="Files"
            onPick={(e) => {
              setLocation(e.path)
              const g = guess(e.path, e.kind === 'dir')
              // iceberg/delta tables are folders too: only switch between the plain kinds
              if (g.kind && kind !== 'iceberg' && kind !== 'delta') setKind(g.kind)
              if (g.format) setFormat(g.format)
            }}
          />
        )}
        <div className="form-row">
          <Field label="Table name" className="field">
            <input
              type="text"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="derived from the location"
              spellCheck={false}
              aria-invalid={name !== '' && !NAME_RE.test(name)}
            />
          </Field>
          {isFiles && (
            <Field label="Format" className="field">
              <select value={format} onChange={(e) => setFormat(e.target.value as FileFormat | '')}>
                <option value="">auto-detect</option>
                <option value="parquet">parquet</option>
                <option value="csv">csv</option>
                <option value="json">json</option>
              </select>
            </Field>
          )}
          {isFiles && (
            <label className="check">
              <input type="checkbox" checked={hive} onChange={(e) => setHive(e.target.checked)} />
              <span>Hive partitioning</span>
            </label>
          )}
        </div>
        {isRemote && (
          <fieldset className="s3-fields">
            <legend>S3 settings</legend>
            <Field label="Region" className="field">
              <input type="text" value={s3.region} onChange={(e) => setS3({ ...s3, region: e.target.value })} placeholder="us-east-1" />
            </Field>
            <Field label="Endpoint" className="field">
              <input type="text" value={s3.endpoint} onChange={(e) => setS3({ ...s3, endpoint: e.target.value })} placeholder="s3.amazonaws.com" />
            </Field>
            <Field label="Access key ID" className="field">
              <input type="text" value={s3.accessKeyId} onChange={(e) => setS3({ ...s3, accessKeyId: e.target.value })} autoComplete="off" />
            </Field>
            <Field label="Secret access key" className="field">
              <input
                type="password"
                value={s3.secretAccessKey}
                onChange={(e) => setS3({ ...s3, secretAccessKey: e.target.value })}
                autoComplete="off"
              />
            </Field>
            <Field label="URL style" className="field">
              <select value={s3.urlStyle} onChange={(e) => setS3({ ...s3, urlStyle: e.target.value })}>
                <option value="">default</option>
                <option value="vhost">vhost</option>
                <option value="path">path</option>
              </select>
            </Field>
          </fieldset>
        )}
        {error && (
          <div role="alert" className="error-box">
            {error}
          </div>
        )}
        <footer className="dialog-foot">
          <button type="button" className="btn" onClick={() => showAdd(false)}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy} aria-busy={busy}>
            Add
          </button>
        </footer>
      </form>
    </Dialog>
  )
}
