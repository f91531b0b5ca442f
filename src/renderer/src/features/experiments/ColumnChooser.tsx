import { useEffect, useMemo, useRef, useState } from 'react'
import { useExperimentsStore } from './useExperimentsStore'

/** A popover of checkboxes: which params, metrics and tags show as run columns. */
export function ColumnChooser() {
  const runs = useExperimentsStore((s) => s.runs)
  const columns = useExperimentsStore((s) => s.columns)
  const toggleColumn = useExperimentsStore((s) => s.toggleColumn)
  const [open, setOpen] = useState(false)
  const box = useRef<HTMLDivElement>(null)

  const groups = useMemo(() => {
    const p = new Set<string>()
    const m = new Set<string>()
    const t = new Set<string>()
    for (const r of runs) {
      Object.keys(r.params).forEach((k) => p.add(k))
      r.metrics.forEach((x) => m.add(x.key))
      Object.keys(r.tags).forEach((k) => t.add(k))
    }
    return [
      { title: 'Params', prefix: 'params.', keys: [...p].sort() },
      { title: 'Metrics', prefix: 'metrics.', keys: [...m].sort() },
      { title: 'Tags', prefix: 'tags.', keys: [...t].sort() }
    ]
  }, [runs])

  useEffect(() => {
    if (!open) return
    const onDown = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false)
    }
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false)
    document.addEventListener('mousedown', onDown)
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('mousedown', onDown)
      document.removeEventListener('keydown', onKey)
    }
  }, [open])

  return (
    <div className="exp-columns" ref={box}>
      <button type="button" className="btn small" aria-expanded={open} aria-haspopup="dialog" onClick={() => setOpen(!open)}>
        Columns
      </button>
      {open && (
        <div className="exp-popover" role="dialog" aria-label="Choose columns">
          {groups.map((g) => (
            <fieldset key={g.title}>
              <legend>{g.title}</legend>
              {g.keys.length === 0 && <span className="muted">None</span>}
              {g.keys.map((k) => (
                <label key={k} className="check">
                  <input type="checkbox" checked={columns.includes(g.prefix + k)} onChange={() => toggleColumn(g.prefix + k)} /> {k}
                </label>
              ))}
            </fieldset>
          ))}
        </div>
      )}
    </div>
  )
}
