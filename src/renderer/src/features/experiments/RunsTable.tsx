import { useEffect, useMemo, useRef, useState } from 'react'
import { cellValue, columnLabel, formatValue, sortRuns, useExperimentsStore, type ColumnId } from './useExperimentsStore'
import { useScrollViewport } from '../../lib/useScrollViewport'

const ROW_H = 28
const OVERSCAN = 8
const CHECK_W = 36
const NAME_W = 180
const COL_W = 120

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
  const cols: ColumnId[] = useMemo(() => ['run.name', 'run.start', 'run.status', ...columns], [columns])
  const widths = cols.map((c) => (c === 'run.name' ? NAME_W : c === 'run.start' ? 160 : c === 'run.status' ? 90 : COL_W))
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
            <div role="columnheader" className="g-hcell exp-check" style={{ width: CHECK_W }}>
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
                className="g-hcell"
                style={{ width: widths[i] }}
                aria-sort={sort.col === c ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                <button type="button" className="exp-sort" onClick={() => setSort(c)} title={`Sort by ${columnLabel(c)}`}>
                  <span className="g-hname">{columnLabel(c)}</span>
                  <span aria-hidden="true">{sort.col === c ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                </button>
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
                <div role="gridcell" className="g-cell exp-check" style={{ width: CHECK_W }}>
                  <input type="checkbox" aria-label={`Select run ${name}`} checked={checked} onChange={() => toggleSelected(run.runId)} />
                </div>
                {cols.map((c, j) => (
                  <div key={c} role="gridcell" className="g-cell" style={{ width: widths[j] }}>
                    {c === 'run.name' ? (
                      <button type="button" className="link-btn exp-name" onClick={() => showDetails(run.runId)} aria-label={`Show details of ${name}`}>
                        {name}
                      </button>
                    ) : (
                      formatValue(cellValue(run, c), c)
                    )}
                  </div>
                ))}
              </div>
            )
          })}
        </div>
      </div>
      {sorted.length === 0 && <div className="g-empty muted exp-empty">No runs.</div>}
    </div>
  )
}
