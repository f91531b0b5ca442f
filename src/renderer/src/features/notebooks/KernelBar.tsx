import { useEffect, useState } from 'react'
import { call } from '../../api/client'
import { ConnectDialog } from './ConnectDialog'
import { describeInterpreter, groupInterpreters, installHint } from './interpreters'
import { useNotebookStore } from './useNotebookStore'
import { useServerStore } from './useServerStore'
import { errorText } from '../../lib/errors'

/** Where kernels run (interpreter for the local server, or a remote server), kernel status and controls. */
export function KernelBar() {
  const interpreters = useNotebookStore((s) => s.interpreters)
  const python = useNotebookStore((s) => s.python)
  const status = useNotebookStore((s) => s.kernelStatus)
  const kernelId = useNotebookStore((s) => s.kernelId)
  const busy = useNotebookStore((s) => s.busy)
  const dirty = useNotebookStore((s) => s.dirty)
  const hasDoc = useNotebookStore((s) => !!s.doc)
  const servers = useServerStore((s) => s.servers)
  const target = useServerStore((s) => s.target)
  const [connecting, setConnecting] = useState(false)
  const [venvBusy, setVenvBusy] = useState(false)
  const { setPython, startKernel, interrupt, restart, runAll, save } = useNotebookStore.getState()
  useEffect(() => void useServerStore.getState().load(), [])

  const remote = servers.filter((s) => s.kind !== 'local')
  const isLocal = target === 'local' || !remote.some((s) => s.id === target)
  const chosen = interpreters.find((i) => i.path === python)
  const grouped = groupInterpreters(interpreters)
  const hint = chosen ? installHint(chosen) : null
  const dead = useNotebookStore((s) => s.deadReason !== null)
  const folder = useNotebookStore((s) => s.kernelFolder)
  const kernelServer = useNotebookStore((s) => s.kernelServerKind)
  const shown = dead ? 'dead' : status
  const text = shown === 'none' ? 'No kernel' : `Kernel ${shown}`

  const createVenv = async () => {
    if (!chosen) return
    setVenvBusy(true)
    try {
      const v = await call('kernels.createVenv', { basePython: chosen.path })
      await useNotebookStore.getState().init()
      setPython(v.path)
    } catch (e) {
      useNotebookStore.setState({ error: errorText(e) })
    } finally {
      setVenvBusy(false)
    }
  }

  return (
    <>
      <div className="nb-toolbar" role="toolbar" aria-label="Notebook">
        <label className="nb-field">
          <span>Server</span>
          <select aria-label="Jupyter server" value={isLocal ? 'local' : target} onChange={(e) => useServerStore.getState().setTarget(e.target.value)}>
            <option value="local">Local (started by Atelier)</option>
            {remote.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.kind === 'ssh' ? `ssh ${s.ssh?.username}@${s.ssh?.host}` : s.baseUrl}) — {s.state}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn small" onClick={() => setConnecting(true)}>
          Connect to server…
        </button>
        {isLocal && (
          <label className="nb-field">
            <span>Interpreter</span>
            <select aria-label="Interpreter" value={python ?? ''} onChange={(e) => setPython(e.target.value)}>
              {!python && <option value="">(none found)</option>}
              {grouped.usable.map((i) => (
                <option key={i.path} value={i.path}>
                  {i.path} {i.version ? `(${i.version})` : ''}
                </option>
              ))}
              {grouped.other.length > 0 && (
                <optgroup label="Other interpreters (need packages)">
                  {grouped.other.map((i) => (
                    <option key={i.path} value={i.path}>
                      {i.path} {i.version ? `(${i.version})` : ''} — needs {installHint(i) ? 'packages' : 'setup'}
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          </label>
        )}
        <button type="button" className="btn small" disabled={(isLocal && !chosen?.usable) || !!busy} onClick={() => void startKernel()}>
          {kernelId ? 'Change kernel' : 'Start kernel'}
        </button>
        <span role="status" aria-live="polite" aria-label="Kernel status" className={`nb-badge ${shown}`}>
          {busy ?? text}
        </span>
        <button type="button" className="btn small" disabled={!kernelId || status === 'dead'} onClick={() => void interrupt()}>
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
      {folder !== null && kernelServer !== 'local' && kernelServer !== null && (
        <div className="nb-interp small" role="note" aria-label="Kernel folder">
          <span>
            The kernel runs on the remote server, in {folder ? <code>{folder}/</code> : 'its root folder'} (the notebook&apos;s folder relative to
            this workspace); files next to the notebook must exist there too.
          </span>
        </div>
      )}
      {isLocal && chosen && (
        <div className="nb-interp small" aria-label="Interpreter details" role="note">
          <span>{describeInterpreter(chosen)}</span>
          {hint && (
            <>
              <span>
                Missing packages. Install them with <code>{hint}</code>
              </span>
              <button type="button" className="btn small" disabled={venvBusy} onClick={() => void createVenv()}>
                {venvBusy ? 'Creating .venv…' : 'Create a workspace .venv with Jupyter'}
              </button>
            </>
          )}
          {chosen.error && <span className="nb-warn">{chosen.error}</span>}
          <LifetimePicker />
        </div>
      )}
      {connecting && <ConnectDialog onClose={() => setConnecting(false)} />}
    </>
  )
}

/** Whether the local Jupyter server (and its kernels) stops with Atelier or keeps running, stopping itself when idle. */
function LifetimePicker() {
  const local = useServerStore((s) => s.servers.find((x) => x.id === 'local'))
  const [saved, setSaved] = useState<{ lifetime: 'stop-with-app' | 'keep-running'; idleHours: number } | null>(null)
  const l = saved ?? local?.lifetime
  if (!l) return null
  const change = async (lifetime: 'stop-with-app' | 'keep-running') => {
    try {
      setSaved(await call('kernels.setLifetime', { lifetime }))
      void useServerStore.getState().load()
    } catch (e) {
      useNotebookStore.setState({ error: errorText(e) })
    }
  }
  return (
    <label className="nb-field" title="Kept kernels are found again when Atelier starts; the Jupyter server stops itself after that long without kernel activity.">
      <span>When Atelier stops</span>
      <select aria-label="Jupyter server lifetime" value={l.lifetime} onChange={(e) => void change(e.target.value as 'stop-with-app' | 'keep-running')}>
        <option value="stop-with-app">stop kernels</option>
        <option value="keep-running">keep kernels ({l.idleHours} h idle max)</option>
      </select>
      {local?.lifetimePending && <span className="muted">applies from the server&apos;s next start</span>}
    </label>
  )
}
