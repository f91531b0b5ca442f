import { useEffect, useMemo, useState, type KeyboardEvent as ReactKeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react'
import { cellTitle, orderColumns } from './logic'
import { cellValue, columnLabel, formatValue, sortRuns, useExperimentsStore, type ColumnId } from './useExperimentsStore'
import { useScrollViewport } from '../../lib/useScrollViewport'

const ROW_H = 28
const OVERSCAN = 8
const CHECK_W = 36
const NAME_W = 180
const COL_W = 120
const MIN_W = 48
const MAX_W = 800

function defaultWidth(c: ColumnId): number {
  // wide enough for the header's text (about 7 px a character at 12 px, plus padding and the sort arrow)
  return c === 'run.name' ? NAME_W : c === 'run.start' ? 170 : c === 'run.status' ? 90 : Math.min(240, Math.max(COL_W, 30 + 7 * c.length))
}

/** A drag handle (and arrow keys) on a column header's right edge. */
function ResizeHandle({ label, width, onResize }: { label: string; width: number; onResize(w: number): void }) {
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    e.preventDefault()
    e.stopPropagation()
    const x0 = e.clientX
    const w0 = width
    const el = e.currentTarget
    el.setPointerCapture(e.pointerId)
    const move = (ev: PointerEvent) => onResize(Math.max(MIN_W, Math.min(MAX_W, Math.round(w0 + ev.clientX - x0))))
    const up = () => {
      el.removeEventListener('pointermove', move)
      el.removeEventListener('pointerup', up)
      el.removeEventListener('pointercancel', up)
    }
    el.addEventListener('pointermove', move)
    el.addEventListener('pointerup', up)
    el.addEventListener('pointercancel', up)
  }
  const onKeyDown = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 40 : 10
    if (e.key === 'ArrowRight') onResize(Math.min(MAX_W, width + step))
    else if (e.key === 'ArrowLeft') onResize(Math.max(MIN_W, width - step))
    else return
    e.preventDefault()
  }
  return (
    <div
      role="separator"
      aria-orientation="vertical"
      aria-label={`Resize column ${label}`}
      aria-valuenow={width}
      aria-valuemin={MIN_W}
      aria-valuemax={MAX_W}
      tabIndex={0}
      className="exp-resize"
      onPointerDown={onPointerDown}
      onKeyDown={onKeyDown}
    />
  )
}

/** The runs of the selected experiment: a virtualized ARIA grid (only the visible rows are in the DOM). */
export function RunsTable() {
  const runs = useExperimentsStore((s) => s.runs)
  const sort = useExperimentsStore((s) => s.sort)
  const columns = useExperimentsStore((s) => s.columns)
  const selected = useExperimentsStore((s) => s.selected)
  const detailRunId = useExperimentsStore((s) => s.detailRunId)
  const setSort = useExperimentsStore((s) => s.setSort)
  const toggleSelected = useExperimentsStore((s) => s.toggleSelected)
  const setSelected = useExperimentsStore((s) => s.setSelected)
  const showDetails = useExperimentsStore((s) => s.showDetails)

  const sorted = useMemo(() => sortRuns(runs, sort), [runs, sort])
  const cols: ColumnId[] = useMemo(() => orderColumns(columns), [columns])
  const [resized, setResized] = useState<Record<ColumnId, number>>({})
  const widths = cols.map((c) => resized[c] ?? defaultWidth(c))
  const totalW = CHECK_W + widths.reduce((a, b) => a + b, 0)

  const { ref: scroller, view } = useScrollViewport()

  const experimentId = useExperimentsStore((s) => s.experimentId)
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0
  }, [experimentId])

  const first = Math.max(0, Math.floor(view.top / ROW_H) - OVERSCAN)
  const last = Math.min(sorted.length, Math.ceil((view.top + view.height) / ROW_H) + OVERSCAN)
  const sel = new Set(selected)
  const allSelected = sorted.length > 0 && sorted.every((r) => sel.has(r.runId))

  return (
    <div
      ref={scroller}
      className="grid exp-grid"
      role="grid"
      aria-label="Runs"
      aria-rowcount={sorted.length + 1}
      aria-colcount={cols.length + 1}
      aria-multiselectable="true"
    >
      <div style={{ width: totalW, minWidth: '100%' }}>
        <div role="rowgroup" className="g-head-group">
          <div role="row" aria-rowindex={1} className="g-head exp-row" style={{ height: ROW_H + 4 }}>
            <div role="columnheader" className="g-hcell exp-check exp-pin" style={{ width: CHECK_W, left: 0 }}>
              <input
                type="checkbox"
                aria-label="Select all runs"
                checked={allSelected}
                onChange={() => setSelected(allSelected ? [] : sorted.map((r) => r.runId))}
              />
            </div>
            {cols.map((c, i) => (
              <div
                key={c}
                role="columnheader"
                aria-label={columnLabel(c)}
                className={`g-hcell ${c === 'run.name' ? 'exp-pin' : ''}`}
                style={{ width: widths[i], ...(c === 'run.name' ? { left: CHECK_W } : {}) }}
                aria-sort={sort.col === c ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                <button type="button" className="exp-sort" onClick={() => setSort(c)} title={`${columnLabel(c)} (click to sort)`}>
                  <span className="g-hname">{columnLabel(c)}</span>
                  <span aria-hidden="true">{sort.col === c ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                </button>
                <ResizeHandle label={columnLabel(c)} width={widths[i]} onResize={(w) => setResized((r) => ({ ...r, [c]: w }))} />
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className="g-body" style={{ height: sorted.length * ROW_H }}>
          {sorted.slice(first, last).map((run, k) => {
            const i = first + k
            const checked = sel.has(run.runId)
            const name = run.runName || run.runId
            return (
              <div
                key={run.runId}
                role="row"
                aria-rowindex={i + 2}
                aria-selected={checked}
                className={`g-row exp-row ${i % 2 ? 'odd' : ''} ${detailRunId === run.runId ? 'current' : ''} ${run.lifecycleStage === 'deleted' ? 'deleted' : ''}`}
                style={{ transform: `translateY(${i * ROW_H}px)`, height: ROW_H }}
              >
                <div role="gridcell" className="g-cell exp-check exp-pin" style={{ width: CHECK_W, left: 0 }}>
                  <input type="checkbox" aria-label={`Select run ${name}`} checked={checked} onChange={() => toggleSelected(run.runId)} />
                </div>
                {cols.map((c, j) => {
                  if (c === 'run.name')
                    return (
                      <div key={c} role="gridcell" className="g-cell exp-pin" style={{ width: widths[j], left: CHECK_W }}>
                        <button type="button" className="link-btn exp-name" onClick={() => showDetails(run.runId)} aria-label={`Show details of ${name}`} title={name}>
                          {name}
                        </button>
                      </div>
                    )
                  const v = cellValue(run, c)
                  return (
                    <div key={c} role="gridcell" className="g-cell" style={{ width: widths[j] }} title={cellTitle(v, c)}>
                      {formatValue(v, c)}
                    </div>
                  )
                })}
              </div>
            )
          })}
        </div>
      </div>
      {sorted.length === 0 && <div className="g-empty muted exp-empty">No runs.</div>}
    </div>
  )
}
