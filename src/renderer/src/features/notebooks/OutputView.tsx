import { memo } from 'react'
import { stripAnsi, type Output } from './outputs'
import { joinSource } from './outputs'

const ORDER = ['text/html', 'image/svg+xml', 'image/png', 'image/jpeg', 'application/json', 'text/markdown', 'text/latex', 'text/plain']

function MimeBundle({ data, label }: { data: Record<string, unknown>; label: string }) {
  const mime = ORDER.find((m) => m in data) ?? Object.keys(data)[0]
  if (!mime) return null
  const value = data[mime]
  if (mime === 'image/png' || mime === 'image/jpeg') {
    const b64 = joinSource(value).replace(/\s+/g, '')
    return <img className="nb-img" alt={`${label} image`} src={`data:${mime};base64,${b64}`} />
  }
  if (mime === 'image/svg+xml') {
    const svg = joinSource(value)
    return <img className="nb-img" alt={`${label} image`} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} />
  }
  if (mime === 'text/html') {
    // sandboxed: no scripts, no same-origin access; never injected into the page
    return <iframe className="nb-html" title={`${label} HTML`} sandbox="" srcDoc={joinSource(value)} />
  }
  if (mime === 'application/json') {
    return <pre className="nb-text">{JSON.stringify(value, null, 2)}</pre>
  }
  return <pre className="nb-text">{stripAnsi(joinSource(value))}</pre>
}

interface Props {
  outputs: Output[]
  cellLabel: string
  onShowAll: (i: number) => void
  /** Output still arriving: "Show all" waits for the end. */
  running?: boolean
}

/** A code cell's outputs: streams, rich bundles, errors. */
export const OutputView = memo(function OutputView({ outputs, cellLabel, onShowAll, running }: Props) {
  if (!outputs.length) return null
  return (
    <div className="nb-outputs" role="group" aria-label={`${cellLabel} output`}>
      {outputs.map((o, i) => {
        if (o.output_type === 'stream') {
          return (
            <div key={i} className={`nb-stream ${o.name === 'stderr' ? 'stderr' : ''}`}>
              <pre className="nb-text">{stripAnsi(joinSource(o.text)).replace(/\r/g, '')}</pre>
              {o._truncated && (
                <button type="button" className="btn small" disabled={running} onClick={() => onShowAll(i)}>
                  Show all
                </button>
              )}
            </div>
          )
        }
        if (o.output_type === 'error') {
          const tb = (o.traceback as string[] | undefined) ?? []
          return (
            <pre key={i} className="nb-text nb-error" role="alert">
              {stripAnsi(tb.length ? tb.join('\n') : `${String(o.ename)}: ${String(o.evalue)}`)}
            </pre>
          )
        }
        return (
          <div key={i} className="nb-rich">
            <MimeBundle data={(o.data as Record<string, unknown>) ?? {}} label={cellLabel} />
          </div>
        )
      })}
    </div>
  )
})
