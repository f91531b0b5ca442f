import { memo } from 'react'
import { joinSource, type Output } from './outputs'
import { MimeBundle } from './RichOutput'
import { StreamText } from './StreamText'

interface Props {
  outputs: Output[]
  cellLabel: string
  onShowAll: (i: number) => void
  /** Output still arriving: "Show all" waits for the end. */
  running?: boolean
}

/** A code cell's outputs: streams (ANSI colours, \r applied), rich bundles, coloured tracebacks. */
export const OutputView = memo(function OutputView({ outputs, cellLabel, onShowAll, running }: Props) {
  if (!outputs.length) return null
  return (
    <div className="nb-outputs" role="group" aria-label={`${cellLabel} output`}>
      {outputs.map((o, i) => {
        if (o.output_type === 'stream') {
          const text = joinSource(o.text).replace(/\r(?!\n)/g, '')
          return (
            <div key={i} className={`nb-stream ${o.name === 'stderr' ? 'stderr' : ''}`}>
              <StreamText text={text} label={`${cellLabel} ${o.name === 'stderr' ? 'stderr' : 'stdout'}`} />
              {o._truncated && (
                <div className="nb-capped" role="note">
                  <span className="muted small">Output capped{running ? ' (still running)' : ''}.</span>
                  <button type="button" className="btn small" disabled={running} onClick={() => onShowAll(i)}>
                    Show all
                  </button>
                </div>
              )}
            </div>
          )
        }
        if (o.output_type === 'error') {
          const tb = (o.traceback as string[] | undefined) ?? []
          return (
            <div key={i} className="nb-error" role="alert">
              <StreamText text={tb.length ? tb.join('\n') : `${String(o.ename)}: ${String(o.evalue)}`} label={`${cellLabel} error`} />
            </div>
          )
        }
        return (
          <div key={i} className="nb-rich">
            <MimeBundle data={(o.data as Record<string, unknown>) ?? {}} label={cellLabel} />
            {o._full && (
              <div className="nb-capped" role="note">
                <button type="button" className="btn small" onClick={() => onShowAll(i)}>
                  Load full output ({(o._full.bytes / 1024 ** 2).toFixed(1)} MB)
                </button>
              </div>
            )}
          </div>
        )
      })}
    </div>
  )
})
