import { Fragment, useEffect, useState } from 'react'
import { create } from 'zustand'
import type { FrameProgressEvent, VariableInfo } from '../../../../shared/api'
import { call, onEvent } from '../../api/client'
import { useCommandStore } from '../commands/useCommandStore'
import { useOpenInData } from '../data/openInData'
import { useNotebookStore } from './useNotebookStore'
import { errorText } from '../../lib/errors'

export function formatBytes(n: number | null): string {
  if (n == null) return ''
  if (n < 1024) return `${n}\u00a0B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)}\u00a0KB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}\u00a0MB`
  return `${(n / 1024 ** 3).toFixed(2)}\u00a0GB`
}

/** A variable's size for the pane: shape or length, and memory (≈ when estimated); nothing for opaque objects. */
export function describeSize(v: VariableInfo): string {
  const count = v.shape ? v.shape.join(' × ') : v.size != null ? `len ${v.size}` : ''
  const mem = v.bytes != null ? `${v.bytesApprox ? '≈\u00a0' : ''}${formatBytes(v.bytes)}` : ''
  return [count, mem].filter(Boolean).join(' · ')
}

/** What the last "Open in Data" wrote (kept across room switches). */
const useFrameNotice = create<{ text: string | null }>(() => ({ text: null }))

export function VariablesPane() {
  const vars = useNotebookStore((s) => s.variables)
  const kind = useNotebookStore((s) => s.kernelServerKind)
  const kernelId = useNotebookStore((s) => s.kernelId)
  const [busy, setBusy] = useState<string | null>(null)
  const [progress, setProgress] = useState<FrameProgressEvent | null>(null)
  const [error, setError] = useState<string | null>(null)
  const done = useFrameNotice((st) => st.text)
  const setDone = (text: string | null) => useFrameNotice.setState({ text })
  const local = kind === null || kind === 'local'

  useEffect(() => onEvent('kernel.frameProgress', (e: FrameProgressEvent) => setProgress(e)), [])

  const openInData = async (v: VariableInfo) => {
    if (!kernelId) return
    setBusy(v.name)
    setError(null)
    setDone(null)
    setProgress(null)
    try {
      const f = await call('kernels.openFrame', { kernelId, name: v.name })
      const said = `${v.name}: ${f.rows.toLocaleString('en-US')} rows, ${formatBytes(f.bytes)} as ${f.description}${local ? '' : ', brought back from the remote kernel'}.`
      setDone(said)
      // the Data room's tab says it too, in the query's first line
      useOpenInData.getState().request(`-- ${said.replace(/\n/g, ' ')}\n${f.sql}`)
      useCommandStore.getState().run('room.data')
    } catch (e) {
      setError(`Could not open ${v.name} in Data: ${errorText(e)}`)
    } finally {
      setBusy(null)
      setProgress(null)
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
      {done && (
        <p role="status" className="muted small">
          {done}
        </p>
      )}
      {vars.length ? (
        <table>
          <colgroup>
            <col style={{ width: '27%' }} />
            <col style={{ width: '39%' }} />
            <col style={{ width: '34%' }} />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {vars.map((v) => {
              const size = describeSize(v)
              const frame = v.kind === 'dataframe' || v.kind === 'series'
              return (
                <Fragment key={v.name}>
                  <tr title={v.preview ?? undefined} className={frame ? 'nb-var-frame' : undefined}>
                    <td className="nb-var-name" title={v.name}>
                      {v.name}
                    </td>
                    <td className="nb-var-type" title={v.type}>
                      {v.type.split('.').pop()}
                    </td>
                    <td className="nb-var-size">{size}</td>
                  </tr>
                  {frame && (
                    <tr className="nb-var-actions">
                      <td colSpan={3}>
                        <button
                          type="button"
                          className="btn small"
                          aria-label={`Open ${v.name} in Data`}
                          title={local ? 'Show in the Data room grid' : 'Brought back from the remote kernel (Parquet when it has pyarrow or duckdb), then shown in the Data room'}
                          disabled={busy !== null}
                          onClick={() => void openInData(v)}
                        >
                          {busy === v.name
                            ? progress && progress.name === v.name && progress.total > 0
                              ? `Bringing back… ${Math.floor((100 * progress.bytes) / progress.total)}%`
                              : 'Opening…'
                            : 'Open in Data'}
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
