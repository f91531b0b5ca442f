import { useEffect, useState } from 'react'
import './notebooks.css'
import { KernelBar } from './KernelBar'
import { NotebookView } from './NotebookView'
import { useNotebookStore } from './useNotebookStore'
import { useServerStore } from './useServerStore'
import { VariablesPane } from './VariablesPane'

function FileList() {
  const files = useNotebookStore((s) => s.files)
  const current = useNotebookStore((s) => s.doc?.path)
  const { openNotebook, createNotebook, refreshFiles } = useNotebookStore.getState()
  const [name, setName] = useState('')
  const [creating, setCreating] = useState(false)
  return (
    <nav className="nb-files" aria-label="Notebooks">
      <div className="nb-files-head">
        <button type="button" className="btn small" onClick={() => setCreating((c) => !c)}>
          New notebook
        </button>
        <button type="button" className="btn ghost small" aria-label="Refresh notebooks" onClick={() => void refreshFiles()}>
          ↻
        </button>
      </div>
      {creating && (
        <form
          className="nb-create"
          onSubmit={(e) => {
            e.preventDefault()
            if (!name.trim()) return
            void createNotebook(name.trim()).then(() => setCreating(false))
            setName('')
          }}
        >
          <input aria-label="Notebook name" placeholder="analysis.ipynb" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          <button type="submit" className="btn small primary">
            Create
          </button>
        </form>
      )}
      <ul>
        {files.map((f) => (
          <li key={f.path}>
            <button type="button" className={`nb-file ${f.path === current ? 'active' : ''}`} aria-current={f.path === current ? 'page' : undefined} onClick={() => void openNotebook(f.path)}>
              {f.name}
            </button>
          </li>
        ))}
        {!files.length && <li className="muted small">No notebooks in the workspace.</li>}
      </ul>
    </nav>
  )
}

/** Faults the user must see: a dead kernel (restart offered; edits are kept), a lost server, the file changed on disk. */
function Banners() {
  const reason = useNotebookStore((s) => s.deadReason)
  const diskChanged = useNotebookStore((s) => s.diskChanged)
  const conflict = useNotebookStore((s) => s.conflict)
  const dirty = useNotebookStore((s) => s.dirty)
  const path = useNotebookStore((s) => s.doc?.path)
  const notice = useServerStore((s) => s.notice)
  const kernelNotice = useNotebookStore((s) => s.kernelNotice)
  const st = useNotebookStore.getState()
  return (
    <>
      {kernelNotice && (
        <div role="alert" className="warn-box small nb-banner">
          <span>{kernelNotice}</span>
          <button type="button" className="btn ghost small" onClick={() => useNotebookStore.setState({ kernelNotice: null })}>
            Dismiss
          </button>
        </div>
      )}
      {reason !== null && (
        <div role="alert" className="error-box small nb-banner">
          <span>
            {reason.replace(/\.$/, '')}. Its variables are gone; your cells and unsaved edits are kept.
          </span>
          <button type="button" className="btn small primary" onClick={() => void st.restart()}>
            Restart kernel
          </button>
        </div>
      )}
      {notice && (
        <div role="alert" className="error-box small nb-banner">
          <span>{notice}</span>
          <button type="button" className="btn ghost small" onClick={() => useServerStore.getState().dismiss()}>
            Dismiss
          </button>
        </div>
      )}
      {diskChanged && !conflict && path && (
        <div role="alert" className="warn-box small nb-banner">
          <span>This notebook changed on disk{dirty ? ' and you have unsaved edits' : ''}.</span>
          <button type="button" className="btn small" onClick={() => void st.openNotebook(path)}>
            Reload from disk
          </button>
          <button type="button" className="btn ghost small" onClick={() => useNotebookStore.setState({ diskChanged: false, conflict: true })}>
            Keep my version
          </button>
        </div>
      )}
    </>
  )
}

/** The Notebooks room: notebook files, kernel controls, the notebook, its variables. */
export function NotebooksRoom() {
  const init = useNotebookStore((s) => s.init)
  const doc = useNotebookStore((s) => s.doc)
  const dirty = useNotebookStore((s) => s.dirty)
  const error = useNotebookStore((s) => s.error)
  const conflict = useNotebookStore((s) => s.conflict)

  useEffect(() => {
    void init()
  }, [init])

  // autosave: a dirty notebook is saved every minute, unless the file changed on disk (then the user decides)
  useEffect(() => {
    const t = setInterval(() => {
      const st = useNotebookStore.getState()
      if (st.doc && st.dirty && !st.conflict && !st.diskChanged) void st.save()
    }, 60_000)
    return () => clearInterval(t)
  }, [])

  // notice edits made to the file by something else (another editor, git)
  useEffect(() => {
    const check = () => void useNotebookStore.getState().checkDisk()
    const t = setInterval(check, 4000)
    window.addEventListener('focus', check)
    return () => {
      clearInterval(t)
      window.removeEventListener('focus', check)
    }
  }, [])

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 's') {
        e.preventDefault()
        void useNotebookStore.getState().save()
      }
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'f' && useNotebookStore.getState().doc) {
        e.preventDefault()
        e.stopPropagation()
        useNotebookStore.getState().openFind()
      }
    }
    window.addEventListener('keydown', onKey, true)
    return () => window.removeEventListener('keydown', onKey, true)
  }, [])

  const name = doc?.path.split(/[\\/]/).pop()
  return (
    <div className="nb-room">
      <FileList />
      <section className="nb-main" aria-label="Notebook editor">
        {doc && (
          <div role="tablist" aria-label="Open notebooks" className="nb-tabs">
            <span role="tab" aria-selected="true" className="nb-tab">
              {name}
              {dirty ? ' ●' : ''}
            </span>
          </div>
        )}
        <KernelBar />
        {error && (
          <div role="alert" className="error-box small">
            {error}{' '}
            <button type="button" className="btn ghost small" onClick={() => useNotebookStore.getState().clearError()}>
              Dismiss
            </button>
          </div>
        )}
        <Banners />
        {conflict && (
          <div role="alert" className="error-box small">
            The file changed on disk since it was opened. Overwrite it with this version, or reopen it to discard your changes.{' '}
            <button type="button" className="btn small" onClick={() => void useNotebookStore.getState().save(true)}>
              Overwrite
            </button>
            <button type="button" className="btn ghost small" onClick={() => doc && void useNotebookStore.getState().openNotebook(doc.path)}>
              Reopen
            </button>
          </div>
        )}
        <NotebookView key={doc?.path ?? ''} />
      </section>
      <VariablesPane />
    </div>
  )
}
