import { useEffect, useState } from 'react'
import { MODEL_NAME_RE, type ModelVersion, type RegisteredModel } from '../../../../shared/registry'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { Field } from '../../components/Field'
import { findModelFolders, suggestModelName } from './logic'
import { useModelsStore } from './useModelsStore'
import { errorText } from './widgets'
import './models.css'

/** Registers a model folder (one holding an MLmodel file) of a run as a new version of a new or existing model. */
export function RegisterModelDialog({ runId, runName, onClose }: { runId: string; runName: string; onClose: () => void }) {
  const [folders, setFolders] = useState<string[] | null>(null)
  const [folder, setFolder] = useState('')
  const [models, setModels] = useState<RegisteredModel[]>([])
  const [choice, setChoice] = useState<'new' | 'existing'>('new')
  const [newName, setNewName] = useState(suggestModelName(runName))
  const [existing, setExisting] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [done, setDone] = useState<ModelVersion | null>(null)

  useEffect(() => {
    let alive = true
    findModelFolders(async (dir) => (await call('tracking.artifacts.list', { runId, path: dir || undefined })).files).then(
      (f) => {
        if (!alive) return
        setFolders(f)
        setFolder(f[0] ?? '')
      },
      (e: unknown) => alive && (setFolders([]), setError(errorText(e)))
    )
    call('registry.models.list', { orderBy: 'name', maxResults: 1000 }).then(
      (p) => {
        if (!alive) return
        setModels(p.models)
        setExisting(p.models[0]?.name ?? '')
      },
      () => undefined
    )
    return () => {
      alive = false
    }
  }, [runId])

  const name = choice === 'new' ? newName.trim() : existing
  const nameError = choice === 'new' && newName && !MODEL_NAME_RE.test(newName) ? 'Letters, digits, space, dot, dash and underscore; not starting with a space, dot or dash.' : null
  const taken = choice === 'new' && models.some((m) => m.name === name)

  const submit = async () => {
    setBusy(true)
    setError(null)
    try {
      const v = await call('registry.versions.create', { name, runId, artifactPath: folder, createModel: choice === 'new' })
      setDone(v)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  if (done)
    return (
      <Dialog title="Model registered" onClose={onClose}>
        <div className="dialog-body form">
          <p role="status" className="success-box">
            Registered {done.name} version {done.version} from {done.artifactPath}.
          </p>
          <div className="dialog-foot">
            <button type="button" className="btn" onClick={onClose}>
              Close
            </button>
            <button
              type="button"
              className="btn primary"
              onClick={() => {
                onClose()
                useModelsStore.getState().reveal(done.name, done.version)
              }}
            >
              Open in Models
            </button>
          </div>
        </div>
      </Dialog>
    )

  return (
    <Dialog title="Register model" onClose={onClose}>
      <form
        className="dialog-body form"
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        {folders === null ? (
          <p className="muted">Looking for model folders (with an MLmodel file) in the run’s artifacts…</p>
        ) : folders.length === 0 ? (
          <p className="error-box small">This run has no artifact folder with an MLmodel file. Log the model with atelier.models.log_model (or mlflow) first.</p>
        ) : (
          <Field label="Model folder">
            <select value={folder} onChange={(e) => setFolder(e.target.value)}>
              {folders.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </Field>
        )}
        <fieldset className="reg-choice">
          <legend>Register as</legend>
          <label>
            <input type="radio" name="reg-choice" checked={choice === 'new'} onChange={() => setChoice('new')} /> A new model
          </label>
          <label>
            <input type="radio" name="reg-choice" checked={choice === 'existing'} onChange={() => setChoice('existing')} disabled={models.length === 0} /> A new version of an
            existing model
          </label>
        </fieldset>
        {choice === 'new' ? (
          <Field label="Model name">
            <input type="text" value={newName} onChange={(e) => setNewName(e.target.value)} aria-invalid={nameError || taken ? true : undefined} />
          </Field>
        ) : (
          <Field label="Existing model">
            <select value={existing} onChange={(e) => setExisting(e.target.value)}>
              {models.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name} ({m.versionCount} versions)
                </option>
              ))}
            </select>
          </Field>
        )}
        {nameError && <p className="field-error">{nameError}</p>}
        {taken && <p className="field-error">A model named {name} exists; choose “A new version of an existing model” to add to it.</p>}
        {error && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy || !folder || !name || !!nameError || taken}>
            Register
          </button>
        </div>
      </form>
    </Dialog>
  )
}
