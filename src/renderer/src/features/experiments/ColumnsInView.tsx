import { useEffect, useRef, useState, type RefObject } from 'react'

/**
 * For a sideways-scrolling compare table (its column headers marked `data-run`, the first column
 * sticky): how many columns are (partly) hidden left and right of its pane, and a scroll by about a pane.
 */
export function useColumnsInView(count: number): { wrapRef: RefObject<HTMLDivElement | null>; hidden: { left: number; right: number }; scrollBy(dir: 1 | -1): void } {
  const wrapRef = useRef<HTMLDivElement>(null)
  const [hidden, setHidden] = useState({ left: 0, right: 0 })
  useEffect(() => {
    const el = wrapRef.current
    if (!el) return
    const measure = () => {
      const box = el.getBoundingClientRect()
      const first = el.querySelector('thead th')?.getBoundingClientRect().width ?? 0
      let left = 0
      let right = 0
      el.querySelectorAll('thead th[data-run]').forEach((th) => {
        const r = th.getBoundingClientRect()
        if (r.left < box.left + first - 1) left++
        else if (r.right > box.right + 1) right++
      })
      setHidden((h) => (h.left === left && h.right === right ? h : { left, right }))
    }
    measure()
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    const table = el.querySelector('table')
    if (table) ro.observe(table)
    el.addEventListener('scroll', measure, { passive: true })
    return () => {
      ro.disconnect()
      el.removeEventListener('scroll', measure)
    }
  }, [count])
  const scrollBy = (dir: 1 | -1) => wrapRef.current?.scrollBy({ left: dir * Math.max(120, wrapRef.current.clientWidth * 0.8), behavior: 'smooth' })
  return { wrapRef, hidden, scrollBy }
}

interface ToolbarProps {
  title: string
  onlyDiff: boolean
  onOnlyDiff(v: boolean): void
  /** The status's accessible name, its text, and what the columns are (runs, groups). */
  label: string
  text: string
  noun: string
  hidden: { left: number; right: number }
  scrollBy(dir: 1 | -1): void
}

/** A compare table's toolbar: its title, "Only differences", `<text> · N out of view` and, when some are, buttons to scroll. */
export function CompareToolbar({ title, onlyDiff, onOnlyDiff, label, text, noun, hidden, scrollBy }: ToolbarProps) {
  const out = hidden.left + hidden.right
  return (
    <div className="exp-toolbar">
      <h3>{title}</h3>
      <label className="check">
        <input type="checkbox" checked={onlyDiff} onChange={(e) => onOnlyDiff(e.target.checked)} /> Only differences
      </label>
      <span className="spacer" />
      <span className="muted" role="status" aria-label={label}>
        {text}
        {out > 0 ? ` · ${out} out of view` : ''}
      </span>
      {out > 0 && (
        <>
          <button type="button" className="icon-btn small" aria-label={`Scroll ${noun} left`} disabled={hidden.left === 0} onClick={() => scrollBy(-1)}>
            ←
          </button>
          <button type="button" className="icon-btn small" aria-label={`Scroll ${noun} right`} disabled={hidden.right === 0} onClick={() => scrollBy(1)}>
            →
          </button>
        </>
      )}
    </div>
  )
}
