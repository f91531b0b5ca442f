import { useEffect, useRef, useState } from 'react'
import type { ArtifactPreview as Preview, TrackingArtifact, TrackingRun } from '../../../../shared/api'
import { call } from '../../api/client'
import { NOTE_TAG, RunNotes } from './RunNotes'
import { formatValue, useExperimentsStore } from './useExperimentsStore'
import { KeyValueTable } from '../../components/KeyValueTable'
import { ArtifactPreview } from '../../components/ArtifactPreview'
import { RegisterModelDialog } from '../models/RegisterModelDialog'
import { useCan } from '../models/widgets'
import { errorText } from '../../lib/errors'

/** Params, latest metrics, tags and artifacts of one run. */
export function RunDetails() {
  const runId = useExperimentsStore((s) => s.detailRunId)
  const showDetails = useExperimentsStore((s) => s.showDetails)
  const revision = useExperimentsStore((s) => s.revision)
  const setRunsDeleted = useExperimentsStore((s) => s.setRunsDeleted)
  const [reload, setReload] = useState(0)
  const [run, setRun] = useState<TrackingRun | null>(null)
  const [dir, setDir] = useState('')
  const [files, setFiles] = useState<TrackingArtifact[]>([])
  const [preview, setPreview] = useState<Preview | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [registering, setRegistering] = useState(false)
  const canWrite = useCan('write')
  const previewBox = useRef<HTMLDivElement>(null)
  // a preview opens below the file list: scroll the details pane (only it, not the page) to its top
  useEffect(() => {
    const el = previewBox.current
    const pane = el?.closest('.exp-detail-pane')
    if (!el || !pane) return
    pane.scrollTop += el.getBoundingClientRect().top - pane.getBoundingClientRect().top - 8
  }, [preview])

  useEffect(() => {
    setDir('')
    setPreview(null)
  }, [runId])

  useEffect(() => {
    if (!runId) return setRun(null)
    let alive = true
    call('tracking.run.get', { runId }).then(
      (r) => alive && (setRun(r), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [runId, revision, reload])

  useEffect(() => {
    if (!runId) return setFiles([])
    let alive = true
    call('tracking.artifacts.list', { runId, path: dir || undefined }).then(
      (r) => alive && setFiles(r.files),
      () => alive && setFiles([])
    )
    return () => {
      alive = false
    }
  }, [runId, dir, revision])

  if (!runId) return <p className="empty-note muted">Choose a run name to see its details.</p>
  if (error)
    return (
      <div role="alert" className="error-box">
        {error}
      </div>
    )
  if (!run) return <p className="muted">Loading…</p>

  const open = (f: TrackingArtifact) => {
    if (f.isDir) return setDir(f.path)
    call('tracking.artifacts.read', { runId, path: f.path }).then(setPreview, (e: unknown) =>
      setError(errorText(e))
    )
  }
  const toggleDeleted = async () => {
    await setRunsDeleted([runId], run.lifecycleStage !== 'deleted')
    setReload((n) => n + 1)
  }

  return (
    <section className="exp-details" aria-label={`Run ${run.runName}`}>
      <div className="exp-toolbar">
        <h2 className="exp-title">{run.runName || run.runId}</h2>
        <span className="badge">{run.status}</span>
        {run.lifecycleStage === 'deleted' && <span className="badge exp-deleted-badge">deleted</span>}
        <span className="spacer" />
        {run.lifecycleStage === 'active' && canWrite && (
          <button type="button" className="btn small" onClick={() => setRegistering(true)}>
            Register model
          </button>
        )}
        <button type="button" className="btn small ghost" onClick={() => void toggleDeleted()}>
          {run.lifecycleStage === 'deleted' ? 'Restore run' : 'Delete run'}
        </button>
        <button type="button" className="icon-btn small" aria-label="Close details" onClick={() => showDetails(null)}>
          ×
        </button>
      </div>
      <p className="muted mono exp-id">{run.runId}</p>
      <RunNotes runId={run.runId} note={run.tags[NOTE_TAG] ?? ''} editable={run.lifecycleStage === 'active'} onSaved={() => setReload((n) => n + 1)} />
      <KeyValueTable className="exp-kv" title="Parameters" entries={Object.entries(run.params).sort()} />
      <KeyValueTable
        className="exp-kv"
        title="Metrics"
        entries={run.metrics.map((m) => [m.key, m.value === null ? (m.nonFinite ?? 'NaN') : `${formatValue(m.value, 'metrics')} (step ${m.step})`] as [string, string])}
      />
      <KeyValueTable className="exp-kv" title="Tags" entries={Object.entries(run.tags).filter(([k]) => k !== 'mlflow.runName' && k !== NOTE_TAG).sort()} />
      <section className="kv-section exp-kv" aria-label="Artifacts">
        <h3>Artifacts{dir ? ` / ${dir}` : ''}</h3>
        {dir && (
          <button type="button" className="link-btn" onClick={() => setDir(dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '')}>
            Up one folder
          </button>
        )}
        {files.length === 0 ? (
          <p className="muted">None</p>
        ) : (
          <ul className="exp-files" aria-label="Artifact files">
            {files.map((f) => (
              <li key={f.path}>
                <button type="button" className="link-btn" onClick={() => open(f)} aria-label={`${f.isDir ? 'Open folder' : 'Preview'} ${f.path}`}>
                  {f.path.split('/').pop()}
                  {f.isDir ? '/' : ''}
                </button>
                {f.size !== null && <span className="muted"> {f.size.toLocaleString()} B</span>}
              </li>
            ))}
          </ul>
        )}
        {preview && (
          <div ref={previewBox} className="exp-preview-wrap" aria-label={`Artifact ${preview.path}`} role="region">
            <div className="muted">
              {preview.path}
              {preview.truncated ? ' (truncated)' : ''}
            </div>
            <ArtifactPreview p={preview} />
          </div>
        )}
      </section>
      {registering && <RegisterModelDialog runId={run.runId} runName={run.runName} onClose={() => setRegistering(false)} />}
    </section>
  )
}
