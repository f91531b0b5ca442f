import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import type { ColumnInfo } from '../../../../../shared/api'
import { formatCell, formatCount, kindOfType } from '../../../lib/format'
import { scrollGeometry, steppedFirst, wheelRows } from './geometry'
import { getCache } from './pageCache'

const ROW_H = 24
const HEADER_H = 40
const OVERSCAN = 8

interface Props {
  queryId: string
  columns: ColumnInfo[]
  /** Rows to show: the total once known, else those readable so far. */
  rowCount: number
  /** Rows readable with lake.page right now. */
  available: number
}

function defaultWidth(c: ColumnInfo): number {
  const k = kindOfType(c.type)
  const base = k === 'number' ? 72 : k === 'time' ? 140 : k === 'nested' ? 100 : 90
  return Math.max(Math.min(Math.max(c.name.length, c.type.length * 0.8) * 7.5 + 28, 320), base)
}

export function ResultsGrid({ queryId, columns, rowCount, available }: Props) {
  const ref = useRef<HTMLDivElement>(null)
  // scrollTop and the first (fractional) row it shows. Past the browser's height cap one pixel spans
  // several rows, so a row reached by wheel or keyboard is kept here rather than re-derived from scrollTop.
  const [view, setView] = useState({ st: 0, first: 0 })
  const anchor = useRef<{ st: number; first: number } | null>(null)
  const wheelCarry = useRef(0)
  const [viewH, setViewH] = useState(400)
  const [, setVersion] = useState(0)
  const [widths, setWidths] = useState<number[]>(() => columns.map(defaultWidth))
  const [focus, setFocus] = useState<{ r: number; c: number }>({ r: 0, c: 0 })
  const moveFocus = useRef(false)
  const cache = getCache(queryId)
  const kinds = useMemo(() => columns.map((c) => kindOfType(c.type)), [columns])

  // size columns to their header and the first rows' formatted values
  useEffect(() => {
    const sample: number[] = columns.map(() => 0)
    for (let i = 0; i < Math.min(200, available); i++) {
      const row = cache.row(i, 0)
      if (!row) break
      columns.forEach((c, j) => {
        sample[j] = Math.max(sample[j], formatCell(row[j], c.type, kinds[j]).text.length)
      })
    }
    setWidths(columns.map((c, j) => Math.max(defaultWidth(c), Math.min(420, Math.ceil(sample[j] * 7.2 + 22)))))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [columns, queryId])
  useEffect(() => {
    setFocus({ r: 0, c: 0 })
    setView({ st: 0, first: 0 })
    anchor.current = null
    if (ref.current) ref.current.scrollTop = 0
  }, [queryId])
  useEffect(() => cache.subscribe(() => setVersion((v) => v + 1)), [cache])

  useLayoutEffect(() => {
    const el = ref.current
    if (!el) return
    const ro = new ResizeObserver(() => setViewH(el.clientHeight))
    ro.observe(el)
    setViewH(el.clientHeight)
    return () => ro.disconnect()
  }, [])

  const bodyH = Math.max(0, viewH - HEADER_H)
  const geo = scrollGeometry(rowCount, bodyH, ROW_H)
  const scrollTop = view.st
  const firstFloat = Math.min(view.first, Math.max(0, rowCount - bodyH / ROW_H))
  const maxFirst = Math.max(0, rowCount - bodyH / ROW_H)

  /** Scrolls so that `row` (fractional) is the first visible row. */
  const scrollToRow = (row: number) => {
    const el = ref.current
    if (!el) return
    const first = Math.max(0, Math.min(maxFirst, row))
    el.scrollTop = geo.scrollFor(first)
    anchor.current = { st: el.scrollTop, first }
    setView({ st: el.scrollTop, first })
  }
  const onScroll = (st: number) => {
    const a = anchor.current
    if (a && Math.abs(a.st - st) < 1) setView({ st, first: a.first })
    else {
      anchor.current = null
      setView({ st, first: geo.firstAt(st) })
    }
  }

  // The wheel moves by whole rows, at most the fully visible ones (a native wheel step can be larger
  // than the viewport in rows, and past the height cap one pixel is several rows).
  const onWheel = useRef<(e: WheelEvent) => void>(() => undefined)
  onWheel.current = (e: WheelEvent) => {
    if (e.ctrlKey || e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.deltaY === 0) return
    e.preventDefault()
    const step = wheelRows(e.deltaY, e.deltaMode, bodyH / ROW_H, ROW_H, wheelCarry.current)
    wheelCarry.current = step.carry
    if (step.rows !== 0) scrollToRow(steppedFirst(firstFloat, step.rows, maxFirst))
  }
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const listener = (e: WheelEvent) => onWheel.current(e)
    el.addEventListener('wheel', listener, { passive: false })
    return () => el.removeEventListener('wheel', listener)
  }, [])
  const first = Math.max(0, Math.floor(firstFloat) - OVERSCAN)
  const last = Math.min(rowCount, Math.ceil(firstFloat + bodyH / ROW_H) + OVERSCAN)
  const gutterW = Math.max(48, String(rowCount).length * 8 + 20)
  const totalW = gutterW + widths.reduce((a, b) => a + b, 0)

  const ensureVisible = useCallback(
    (r: number, c: number) => {
      const el = ref.current
      if (!el) return
      const visibleRows = bodyH / ROW_H
      const f = firstFloat
      if (r < f) scrollToRow(r)
      else if (r + 1 > f + visibleRows) scrollToRow(r + 1 - visibleRows)
      let left = gutterW
      for (let i = 0; i < c; i++) left += widths[i]
      const right = left + widths[c]
      if (left - gutterW < el.scrollLeft) el.scrollLeft = left - gutterW
      else if (right > el.scrollLeft + el.clientWidth) el.scrollLeft = right - el.clientWidth
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [bodyH, geo, gutterW, widths, firstFloat]
  )

  useLayoutEffect(() => {
    if (!moveFocus.current) return
    const cell = ref.current?.querySelector<HTMLElement>(`[data-r="${focus.r}"][data-c="${focus.c}"]`)
    if (cell) {
      moveFocus.current = false
      cell.focus({ preventScroll: true })
    }
  })

  const go = (r: number, c: number) => {
    const nr = Math.max(0, Math.min(rowCount - 1, r))
    const nc = Math.max(0, Math.min(columns.length - 1, c))
    moveFocus.current = true
    setFocus({ r: nr, c: nc })
    ensureVisible(nr, nc)
  }

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (rowCount === 0 || columns.length === 0) return
    const page = Math.max(1, Math.floor(bodyH / ROW_H) - 1)
    const { r, c } = focus
    const mod = e.ctrlKey || e.metaKey
    switch (e.key) {
      case 'ArrowDown': go(r + 1, c); break
      case 'ArrowUp': go(r - 1, c); break
      case 'ArrowRight': go(r, c + 1); break
      case 'ArrowLeft': go(r, c - 1); break
      case 'PageDown': go(r + page, c); break
      case 'PageUp': go(r - page, c); break
      case 'Home': go(mod ? 0 : r, 0); break
      case 'End': go(mod ? rowCount - 1 : r, columns.length - 1); break
      case 'c':
        if (mod) {
          const row = cache.row(r, available)
          if (row) void navigator.clipboard?.writeText(formatCell(row[c], columns[c].type, kinds[c]).text).catch(() => undefined)
        }
        return
      default:
        return
    }
    e.preventDefault()
  }

  const startResize = (i: number, e: React.PointerEvent) => {
    e.preventDefault()
    e.stopPropagation()
    const x0 = e.clientX
    const w0 = widths[i]
    const target = e.currentTarget as HTMLElement
    target.setPointerCapture(e.pointerId)
    const move = (ev: PointerEvent) =>
      setWidths((ws) => ws.map((w, j) => (j === i ? Math.max(48, Math.round(w0 + ev.clientX - x0)) : w)))
    const up = () => {
      target.removeEventListener('pointermove', move)
      target.removeEventListener('pointerup', up)
    }
    target.addEventListener('pointermove', move)
    target.addEventListener('pointerup', up)
  }

  const focusRendered = focus.r >= first && focus.r < last
  const rows = []
  for (let i = first; i < last; i++) {
    const values = cache.row(i, available)
    const top = scrollTop + (i - firstFloat) * ROW_H
    rows.push(
      <div
        key={i}
        role="row"
        aria-rowindex={i + 2}
        className={`g-row ${i % 2 ? 'odd' : ''}`}
        style={{ transform: `translateY(${top}px)`, width: totalW }}
      >
        <div className="g-gutter" aria-hidden="true" style={{ width: gutterW }}>
          {formatCount(i + 1)}
        </div>
        {columns.map((col, c) => {
          const f = values ? formatCell(values[c], col.type, kinds[c]) : null
          const isFocus = focus.r === i && focus.c === c
          return (
            <div
              key={c}
              role="gridcell"
              aria-colindex={c + 1}
              data-r={i}
              data-c={c}
              tabIndex={isFocus ? 0 : -1}
              className={`g-cell ${f?.align === 'right' ? 'num' : ''} ${f?.isNull ? 'null' : ''} ${f ? '' : 'loading'} ${isFocus ? 'focus' : ''}`}
              style={{ width: widths[c] }}
              title={f && !f.isNull && f.text.length > 20 ? f.text : undefined}
              onMouseDown={() => setFocus({ r: i, c })}
            >
              {f ? f.text : '…'}
            </div>
          )
        })}
      </div>
    )
  }

  return (
    <div
      ref={ref}
      role="grid"
      aria-label="Results"
      aria-rowcount={rowCount + 1}
      aria-colcount={columns.length}
      aria-readonly="true"
      className="grid"
      tabIndex={focusRendered ? -1 : 0}
      onScroll={(e) => onScroll((e.currentTarget as HTMLDivElement).scrollTop)}
      onKeyDown={onKeyDown}
    >
      <div className="g-space" style={{ width: totalW, height: HEADER_H + geo.spaceH }}>
        <div role="rowgroup" className="g-head-group">
          <div role="row" aria-rowindex={1} className="g-head" style={{ width: totalW, height: HEADER_H }}>
            <div className="g-gutter g-corner" aria-hidden="true" style={{ width: gutterW }}>
              #
            </div>
            {columns.map((col, c) => (
              <div
                key={c}
                role="columnheader"
                aria-colindex={c + 1}
                className={`g-hcell ${kinds[c] === 'number' ? 'num' : ''}`}
                style={{ width: widths[c] }}
                title={`${col.name} · ${col.type}`}
              >
                <span className="g-hname">{col.name}</span>
                <span className="g-htype">{col.type}</span>
                <div
                  className="g-resize"
                  role="separator"
                  aria-orientation="vertical"
                  aria-label={`Resize column ${col.name}`}
                  onPointerDown={(e) => startResize(c, e)}
                  onDoubleClick={() => setWidths((ws) => ws.map((w, j) => (j === c ? defaultWidth(col) : w)))}
                />
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className="g-body" style={{ height: geo.spaceH }}>
          {rows}
        </div>
      </div>
      {rowCount === 0 && <div className="g-empty muted">No rows</div>}
    </div>
  )
}
