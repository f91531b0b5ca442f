import { Field } from '../../components/Field'
import { useEffect, useState } from 'react'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { FileBrowser } from '../../components/FileBrowser'
import { toUiError } from '../../lib/errors'
import { useWorkspaceStore } from './useWorkspaceStore'

export function OpenWorkspaceDialog() {
  const current = useWorkspaceStore((s) => s.path)
  const open = useWorkspaceStore((s) => s.open)
  const showDialog = useWorkspaceStore((s) => s.showDialog)
  const [path, setPath] = useState(current ?? '')
  const [recent, setRecent] = useState<{ path: string; openedAt: string }[]>([])
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    call('workspace.recent', {}).then(setRecent, () => setRecent([]))
  }, [])

  const submit = async (p: string) => {
    if (!p.trim()) {
      setError('Choose a folder for the workspace.')
      return
    }
    setBusy(true)
    setError(null)
    try {
      await open(p.trim())
    } catch (err) {
      setError(toUiError(err).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog title="Open workspace" onClose={() => showDialog(false)} className="wide">
      <form
        className="dialog-body form"
        onSubmit={(e) => {
          e.preventDefault()
          void submit(path)
        }}
      >
        <Field label="Workspace folder" className="field">
          <input type="text" value={path} onChange={(e) => setPath(e.target.value)} spellCheck={false} autoFocus />
        </Field>
        <FileBrowser start={current ?? undefined} dirsOnly label="Folders" onPick={(e) => setPath(e.path)} />
        {recent.length > 0 && (
          <section aria-label="Recent workspaces" className="recent">
            <h3>Recent</h3>
            <ul>
              {recent.map((r) => (
                <li key={r.path}>
                  <button type="button" className="link-btn" onClick={() => void submit(r.path)} title={r.openedAt}>
                    {r.path}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        {error && (
          <div role="alert" className="error-box">
            {error}
          </div>
        )}
        <footer className="dialog-foot">
          <button type="button" className="btn" onClick={() => showDialog(false)}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy}>
            Open
          </button>
        </footer>
      </form>
    </Dialog>
  )
}
