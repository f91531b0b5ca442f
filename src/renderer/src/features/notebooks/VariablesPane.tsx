import { Fragment, useState } from 'react'
import type { VariableInfo } from '../../../../shared/api'
import { useCommandStore } from '../commands/useCommandStore'
import { useOpenInData } from '../data/openInData'
import { useNotebookStore } from './useNotebookStore'

/**
 * Writes a DataFrame (or Series) from the kernel to a file the Data room can query: Parquet when the
 * kernel has pyarrow, else CSV (index kept as columns unless it is a plain RangeIndex), in the
 * kernel machine's temp dir. Runs without touching the user's namespace or execution count.
 */
const EXPORT_SRC = `
import os, json, tempfile
_obj = get_ipython().user_ns[_name]
if hasattr(_obj, "to_frame") and not hasattr(_obj, "columns"):
    _obj = _obj.to_frame()
if type(_obj.index).__name__ != "RangeIndex":
    _obj = _obj.reset_index()
_obj.columns = [str(c) for c in _obj.columns]
_dir = os.path.join(tempfile.gettempdir(), "atelier-frames")
os.makedirs(_dir, exist_ok=True)
try:
    import pyarrow  # noqa: F401
    _path = os.path.join(_dir, _name + ".parquet")
    _obj.to_parquet(_path, index=False)
except ImportError:
    _path = os.path.join(_dir, _name + ".csv")
    _obj.to_csv(_path, index=False)
print(json.dumps(_path))
`

export function frameSql(path: string): string {
  const lit = `'${path.replace(/'/g, "''")}'`
  return path.endsWith('.parquet') ? `SELECT * FROM read_parquet(${lit})` : `SELECT * FROM read_csv(${lit}, header = true)`
}

function formatBytes(n: number | null): string {
  if (n == null) return ''
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(2)} GB`
}

export function VariablesPane() {
  const vars = useNotebookStore((s) => s.variables)
  const kind = useNotebookStore((s) => s.kernelServerKind)
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const local = kind === null || kind === 'local'

  const openInData = async (v: VariableInfo) => {
    setBusy(v.name)
    setError(null)
    try {
      const out = await useNotebookStore.getState().runHidden(`exec(${JSON.stringify(EXPORT_SRC)}, {"_name": ${JSON.stringify(v.name)}})`)
      const path = JSON.parse(out.trim().split('\n').pop() ?? '""') as string
      if (!path) throw new Error('The kernel did not report where it wrote the frame.')
      useOpenInData.getState().request(frameSql(path))
      useCommandStore.getState().run('room.data')
    } catch (e) {
      setError(`Could not open ${v.name} in Data: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      setBusy(null)
    }
  }

  return (
    <aside className="nb-vars" aria-label="Variables">
      <h3>Variables</h3>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {vars.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {vars.map((v) => {
              const size = [v.shape ? v.shape.join(' × ') : v.size != null ? String(v.size) : '', formatBytes(v.bytes)].filter(Boolean).join(' · ')
              const frame = v.kind === 'dataframe' || v.kind === 'series'
              return (
                <Fragment key={v.name}>
                  <tr title={v.preview ?? undefined} className={frame ? 'nb-var-frame' : undefined}>
                    <td>{v.name}</td>
                    <td title={v.type}>{v.type.split('.').pop()}</td>
                    <td>{size}</td>
                  </tr>
                  {frame && (
                    <tr className="nb-var-actions">
                      <td colSpan={3}>
                        <button
                          type="button"
                          className="btn small"
                          aria-label={`Open ${v.name} in Data`}
                          title={local ? 'Show in the Data room grid' : 'Needs a kernel on this machine (the frame is written to a file the Data room reads)'}
                          disabled={!local || busy !== null}
                          onClick={() => void openInData(v)}
                        >
                          {busy === v.name ? 'Opening…' : 'Open in Data'}
                        </button>
                      </td>
                    </tr>
                  )}
                </Fragment>
              )
            })}
          </tbody>
        </table>
      ) : (
        <p className="muted small">No variables.</p>
      )}
    </aside>
  )
}
