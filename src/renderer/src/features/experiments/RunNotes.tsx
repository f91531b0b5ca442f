import { useEffect, useState } from 'react'
import { call } from '../../api/client'
import { errorText } from '../../lib/errors'

export const NOTE_TAG = 'mlflow.note.content'

/** The run's note (MLflow's `mlflow.note.content` tag): shown, and editable in place. */
export function RunNotes({ runId, note, editable, onSaved }: { runId: string; note: string; editable: boolean; onSaved(): void }) {
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState(note)
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    setEditing(false)
    setError(null)
  }, [runId])
  useEffect(() => {
    if (!editing) setDraft(note)
  }, [note, editing])

  const save = async () => {
    setSaving(true)
    try {
      await call('tracking.run.setNote', { runId, note: draft })
      setEditing(false)
      setError(null)
      onSaved()
    } catch (e) {
      // the draft stays in the box, so nothing typed is lost
      setError(errorText(e))
    } finally {
      setSaving(false)
    }
  }

  return (
    <section className="kv-section exp-kv exp-notes" aria-label="Notes">
      <h3>Notes</h3>
      {editing ? (
        <>
          <textarea
            aria-label="Run note"
            rows={5}
            value={draft}
            maxLength={8000}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void save()
              if (e.key === 'Escape') setEditing(false)
            }}
          />
          <div className="exp-note-actions">
            <button type="button" className="btn small primary" disabled={saving || draft === note} onClick={() => void save()}>
              {saving ? 'Saving…' : 'Save note'}
            </button>
            <button type="button" className="btn small ghost" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <>
          {note ? <p className="exp-note-text">{note}</p> : <p className="muted">No note.</p>}
          {editable && (
            <button type="button" className="btn small ghost" onClick={() => setEditing(true)}>
              {note ? 'Edit note' : 'Add note'}
            </button>
          )}
        </>
      )}
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
    </section>
  )
}
