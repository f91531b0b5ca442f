import { useEffect, useMemo, useRef, useState } from 'react'
import { useExperimentsStore } from './useExperimentsStore'

/** "Group by": which params group the runs (e.g. all but `seed`), as a popover of checkboxes. */
export function GroupByChooser() {
  const runs = useExperimentsStore((s) => s.runs)
  const groupBy = useExperimentsStore((s) => s.groupBy)
  const setGroupBy = useExperimentsStore((s) => s.setGroupBy)
  const [open, setOpen] = useState(false)
  const box = useRef<HTMLDivElement>(null)
  const params = useMemo(() => {
    const p = new Set<string>()
    for (const r of runs) Object.keys(r.params).forEach((k) => p.add(k))
    return [...p].sort()
  }, [runs])
  const seedLike = params.filter((k) => /seed/i.test(k))

  useEffect(() => {
    if (!open) return
    const onDown = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false)
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false)
    document.addEventListener('mousedown', onDown)
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('mousedown', onDown)
      document.removeEventListener('keydown', onKey)
    }
  }, [open])

  const toggle = (k: string) => setGroupBy(groupBy.includes(k) ? groupBy.filter((x) => x !== k) : [...groupBy, k].sort())
  return (
    <div className="exp-columns" ref={box}>
      <button type="button" className="btn small" aria-expanded={open} aria-haspopup="dialog" aria-pressed={groupBy.length > 0} onClick={() => setOpen(!open)} title={groupBy.length ? `Grouped by ${groupBy.join(', ')}` : undefined}>
        {groupBy.length ? `Grouped by ${groupBy.length} param${groupBy.length === 1 ? '' : 's'}` : 'Group by'}
      </button>
      {open && (
        <div className="exp-popover" role="dialog" aria-label="Group runs by">
          <p className="muted exp-pop-note">Runs with the same values of these params form a group: its mean ± 95 % CI per metric, and a mean curve with a band.</p>
          <div className="exp-pop-actions">
            {seedLike.length > 0 && (
              <button type="button" className="btn small" onClick={() => setGroupBy(params.filter((k) => !seedLike.includes(k)))}>
                All but {seedLike.join(', ')}
              </button>
            )}
            <button type="button" className="btn small ghost" onClick={() => setGroupBy(params)}>
              All params
            </button>
            <button type="button" className="btn small ghost" onClick={() => setGroupBy([])} disabled={groupBy.length === 0}>
              No grouping
            </button>
          </div>
          <fieldset>
            <legend>Params</legend>
            {params.length === 0 && <span className="muted">None</span>}
            {params.map((k) => (
              <label key={k} className="check">
                <input type="checkbox" checked={groupBy.includes(k)} onChange={() => toggle(k)} /> {k}
              </label>
            ))}
          </fieldset>
        </div>
      )}
    </div>
  )
}
