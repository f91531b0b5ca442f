import { memo, useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react'
import { hasAnsi, parseAnsi, type AnsiSegment, type AnsiStyle } from './ansi'
import { plural } from '../../lib/format'

/** Above this many lines a text output is drawn as a scrolling window of lines (only visible lines in the DOM). */
export const VIRTUAL_LINES = 2000
const LINE_PX = 18
const BOX_LINES = 30

function css(s: AnsiStyle | null): CSSProperties | undefined {
  if (!s) return undefined
  return {
    color: s.fg,
    background: s.bg,
    fontWeight: s.bold ? 700 : undefined,
    fontStyle: s.italic ? 'italic' : undefined,
    textDecoration: s.underline ? 'underline' : undefined
  }
}

function segmentsToNodes(segments: AnsiSegment[]): ReactNode[] {
  return segments.map((g, i) => (g.style ? <span key={i} style={css(g.style)}>{g.text}</span> : g.text))
}

/** Text with ANSI colours; huge texts become a virtual list of lines that never blocks the page. */
export const StreamText = memo(function StreamText({ text, className, label }: { text: string; className?: string; label: string }) {
  const lines = useMemo(() => {
    let n = 0
    for (let i = text.indexOf('\n'); i >= 0 && n <= VIRTUAL_LINES; i = text.indexOf('\n', i + 1)) n++
    return n > VIRTUAL_LINES ? text.split('\n') : null
  }, [text])
  if (lines) return <VirtualLines lines={lines} className={className} label={label} />
  return <pre className={`nb-text ${className ?? ''}`}>{hasAnsi(text) ? segmentsToNodes(parseAnsi(text).segments) : text}</pre>
})

function VirtualLines({ lines, className, label }: { lines: string[]; className?: string; label: string }) {
  const box = useRef<HTMLDivElement>(null)
  const [top, setTop] = useState(0)
  const stick = useRef(false)
  const count = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length
  useLayoutEffect(() => {
    const el = box.current
    if (el && stick.current) el.scrollTop = el.scrollHeight
  }, [count])
  const first = Math.max(0, Math.floor(top / LINE_PX) - 20)
  const last = Math.min(count, first + BOX_LINES + 40)
  const rows: ReactNode[] = []
  for (let i = first; i < last; i++) {
    const l = lines[i]
    rows.push(
      <div key={i} className="nb-line">
        {hasAnsi(l) ? segmentsToNodes(parseAnsi(l).segments) : l || '\u200b'}
      </div>
    )
  }
  return (
    <div className="nb-virtual">
      <div
        ref={box}
        className={`nb-lines nb-text ${className ?? ''}`}
        role="log"
        aria-label={`${label} (${plural(count, 'line')})`}
        tabIndex={0}
        style={{ height: Math.min(count, BOX_LINES) * LINE_PX }}
        onScroll={(e) => {
          const el = e.currentTarget
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_PX
          setTop(el.scrollTop)
        }}
      >
        <div style={{ height: count * LINE_PX, position: 'relative' }}>
          <div style={{ position: 'absolute', top: first * LINE_PX, left: 0, right: 0 }}>{rows}</div>
        </div>
      </div>
      <div className="nb-virtual-bar">
        <span className="muted small">{plural(count, 'line')}</span>
        <button
          type="button"
          className="btn ghost small"
          onClick={() => {
            const el = box.current
            if (el) el.scrollTop = el.scrollHeight
          }}
        >
          Jump to end
        </button>
      </div>
    </div>
  )
}
