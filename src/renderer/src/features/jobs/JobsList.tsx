import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import { filterJobs, formatDuration, isActive, jobDurationMs } from './format'
import { useJobsStore } from './useJobsStore'
import { StateBadge, useNow } from './widgets'
import { useScrollViewport } from '../../lib/useScrollViewport'

const ROW_H = 30
const OVERSCAN = 8
const COLS = [
  { id: 'name', label: 'Name', w: 144 },
  { id: 'target', label: 'Target', w: 110 },
  { id: 'state', label: 'State', w: 118 },
  { id: 'duration', label: 'Duration', w: 80 },
  { id: 'exit', label: 'Exit', w: 44 },
  { id: 'sweep', label: 'Sweep', w: 100 }
] as const

/** All jobs, newest first: a virtualized ARIA grid; arrow keys move the selection, which opens the job. */
export function JobsList() {
  const jobs = useJobsStore((s) => s.jobs)
  const filter = useJobsStore((s) => s.stateFilter)
  const selectedId = useJobsStore((s) => s.selectedJobId)
  const select = useJobsStore((s) => s.selectJob)
  const sweeps = useJobsStore((s) => s.sweeps)
  const loading = useJobsStore((s) => s.loading)
  const openSubmit = useJobsStore((s) => s.openSubmit)

  const rows = useMemo(() => filterJobs(jobs, filter), [jobs, filter])
  const anyActive = rows.some((j) => isActive(j.state))
  const now = useNow(anyActive)
  const sweepName = useMemo(() => new Map(sweeps.map((s) => [s.id, s.name])), [sweeps])
  const totalW = COLS.reduce((a, c) => a + c.w, 0)

  const { ref: scroller, view } = useScrollViewport()
  const focusAfter = useRef<number | null>(null)

  const selIndex = rows.findIndex((j) => j.id === selectedId)

  useEffect(() => {
    const i = focusAfter.current
    if (i === null) return
    focusAfter.current = null
    scroller.current?.querySelector<HTMLElement>(`[data-index="${i}"]`)?.focus()
  })

  const moveTo = (i: number) => {
    const el = scroller.current
    if (!el || rows.length === 0) return
    const k = Math.max(0, Math.min(rows.length - 1, i))
    const top = k * ROW_H
    const bodyH = el.clientHeight - ROW_H
    if (top < el.scrollTop) el.scrollTop = top
    else if (top + ROW_H > el.scrollTop + bodyH) el.scrollTop = top + ROW_H - bodyH
    focusAfter.current = k
    select(rows[k].id)
  }

  const onKeyDown = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor((view.height - ROW_H) / ROW_H) - 1)
    const from = selIndex === -1 ? -1 : selIndex
    const to =
      e.key === 'ArrowDown' ? from + 1 : e.key === 'ArrowUp' ? Math.max(0, from - 1) : e.key === 'Home' ? 0 : e.key === 'End' ? rows.length - 1 : e.key === 'PageDown' ? from + page : e.key === 'PageUp' ? from - page : null
    if (to === null) return
    e.preventDefault()
    moveTo(to)
  }

  const first = Math.max(0, Math.floor(view.top / ROW_H) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((view.top + view.height) / ROW_H) + OVERSCAN)
  const tabRow = selIndex >= first && selIndex < last ? selIndex : first

  return (
    <div ref={scroller} className="grid job-grid-list" role="grid" aria-label="Jobs" aria-rowcount={rows.length + 1} aria-colcount={COLS.length} onKeyDown={onKeyDown}>
      <div style={{ width: totalW, minWidth: '100%' }}>
        <div role="rowgroup" className="g-head-group">
          <div role="row" aria-rowindex={1} className="g-head job-row-h" style={{ height: ROW_H }}>
            {COLS.map((c) => (
              <div key={c.id} role="columnheader" className="g-hcell" style={{ width: c.w }}>
                <span className="g-hname">{c.label}</span>
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className="g-body" style={{ height: rows.length * ROW_H }}>
          {rows.slice(first, last).map((job, k) => {
            const i = first + k
            const sel = job.id === selectedId
            const sweep = job.sweepId ? `${sweepName.get(job.sweepId) ?? 'sweep'} #${job.trialIndex ?? 0}` : ''
            return (
              <div
                key={job.id}
                role="row"
                data-index={i}
                aria-rowindex={i + 2}
                aria-selected={sel}
                tabIndex={i === tabRow ? 0 : -1}
                className={`g-row job-list-row ${i % 2 ? 'odd' : ''} ${sel ? 'current' : ''}`}
                style={{ transform: `translateY(${i * ROW_H}px)`, height: ROW_H }}
                onClick={() => select(job.id)}
                onFocus={() => {
                  if (!sel && focusAfter.current === null) select(job.id)
                }}
              >
                <div role="gridcell" className="g-cell job-name-cell" style={{ width: COLS[0].w }} title={job.name}>
                  {job.name}
                </div>
                <div role="gridcell" className="g-cell" style={{ width: COLS[1].w }} title={job.targetName}>
                  {job.targetName}
                </div>
                <div role="gridcell" className="g-cell" style={{ width: COLS[2].w }} title={job.reason ?? undefined}>
                  <StateBadge state={job.state} />
                </div>
                <div role="gridcell" className="g-cell mono" style={{ width: COLS[3].w }}>
                  {formatDuration(jobDurationMs(job, now))}
                </div>
                <div role="gridcell" className="g-cell mono" style={{ width: COLS[4].w }}>
                  {job.exitCode ?? ''}
                </div>
                <div role="gridcell" className="g-cell" style={{ width: COLS[5].w }} title={sweep}>
                  {sweep}
                </div>
              </div>
            )
          })}
        </div>
      </div>
      {rows.length === 0 && !loading && (
        <div className="g-empty muted job-empty">
          {jobs.length === 0 ? (
            <>
              No jobs yet.{' '}
              <button type="button" className="link-btn" onClick={() => openSubmit()}>
                Submit one
              </button>
            </>
          ) : (
            'No jobs in this state.'
          )}
        </div>
      )}
    </div>
  )
}
