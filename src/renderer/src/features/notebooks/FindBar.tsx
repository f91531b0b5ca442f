import { useEffect, useRef } from 'react'
import { useNotebookStore } from './useNotebookStore'

/** Find in notebook (Ctrl+F): searches every cell's source, steps through matches, selecting their cells. */
export function FindBar() {
  const find = useNotebookStore((s) => s.find)
  const { setFindQuery, findStep, closeFind } = useNotebookStore.getState()
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => {
    input.current?.focus()
    input.current?.select()
  }, [find.open])
  const n = find.matches.length
  const where = find.query ? (n ? `${find.current + 1} of ${n}${n >= 10_000 ? '+' : ''}` : 'No matches') : ''
  return (
    <div className="nb-find" role="search" aria-label="Find in notebook">
      <input
        ref={input}
        type="search"
        aria-label="Find in notebook"
        placeholder="Find in notebook"
        value={find.query}
        onChange={(e) => setFindQuery(e.target.value)}
        onKeyDown={(e) => {
          e.stopPropagation()
          if (e.key === 'Enter') {
            e.preventDefault()
            findStep(e.shiftKey ? -1 : 1)
          } else if (e.key === 'Escape') {
            e.preventDefault()
            closeFind()
          }
        }}
      />
      <span role="status" aria-live="polite" className="muted small nb-find-count">
        {where}
      </span>
      {n > 0 && find.matches[find.current] && <span className="muted small">in Cell {find.matches[find.current].index + 1}</span>}
      <button type="button" className="btn ghost small" aria-label="Previous match" disabled={!n} onClick={() => findStep(-1)}>
        ↑
      </button>
      <button type="button" className="btn ghost small" aria-label="Next match" disabled={!n} onClick={() => findStep(1)}>
        ↓
      </button>
      <button type="button" className="btn ghost small" aria-label="Close find" onClick={closeFind}>
        ✕
      </button>
    </div>
  )
}
