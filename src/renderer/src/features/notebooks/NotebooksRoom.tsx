import { useEffect, useState } from 'react'
import './notebooks.css'
import { NotebookView } from './NotebookView'
import { useNotebookStore } from './useNotebookStore'

function KernelBar() {
  const interpreters = useNotebookStore((s) => s.interpreters)
  const python = useNotebookStore((s) => s.python)
  const status = useNotebookStore((s) => s.kernelStatus)
  const kernelId = useNotebookStore((s) => s.kernelId)
  const busy = useNotebookStore((s) => s.busy)
  const dirty = useNotebookStore((s) => s.dirty)
  const hasDoc = useNotebookStore((s) => !!s.doc)
  const { setPython, startKernel, interrupt, restart, runAll, save } = useNotebookStore.getState()
  const text = status === 'none' ? 'No kernel' : `Kernel ${status}`
  return (
    <div className="nb-toolbar" role="toolbar" aria-label="Notebook">
      <label className="nb-field">
        <span>Interpreter</span>
        <select aria-label="Interpreter" value={python ?? ''} onChange={(e) => setPython(e.target.value)}>
          {!python && <option value="">(none found)</option>}
          {interpreters.map((i) => (
            <option key={i.path} value={i.path} disabled={!i.usable}>
              {i.path} {i.version ? `(${i.version})` : ''} {i.usable ? '' : '— no jupyter'}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn small" disabled={!python || !!busy} onClick={() => void startKernel()}>
        {kernelId ? 'Change kernel' : 'Start kernel'}
      </button>
      <span role="status" aria-live="polite" className={`nb-badge ${status}`}>
        {busy ?? text}
      </span>
      <button type="button" className="btn small" disabled={!kernelId} onClick={() => void interrupt()}>
        Interrupt
      </button>
      <button type="button" className="btn small" disabled={!kernelId} onClick={() => void restart()}>
        Restart
      </button>
      <span className="nb-sep" />
      <button type="button" className="btn small" disabled={!hasDoc} onClick={() => void runAll()}>
        Run all
      </button>
      <button type="button" className="btn small primary" disabled={!hasDoc} onClick={() => void save()}>
        Save{dirty ? ' ●' : ''}
      </button>
    </div>
  )
}

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

function Variables() {
  const vars = useNotebookStore((s) => s.variables)
  return (
    <aside className="nb-vars" aria-label="Variables">
      <h3>Variables</h3>
      {vars.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Shape</th>
            </tr>
          </thead>
          <tbody>
            {vars.map((v) => (
              <tr key={v.name}>
                <td>{v.name}</td>
                <td>{v.type}</td>
                <td>{v.shape ? v.shape.join(' × ') : v.size ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted small">No variables.</p>
      )}
    </aside>
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

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 's') {
        e.preventDefault()
        void useNotebookStore.getState().save()
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
        <NotebookView />
      </section>
      <Variables />
    </div>
  )
}
