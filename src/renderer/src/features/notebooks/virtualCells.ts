import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type RefObject } from 'react'
import type { Cell } from './useNotebookStore'

/**
 * Windowed rendering of a notebook's cells: only the cells within the viewport (plus an overscan)
 * are in the DOM; the rest are two spacers whose heights come from measured heights where known and
 * estimates elsewhere. Heights are measured with one ResizeObserver as cells render.
 */
const OVERSCAN_PX = 900
const LINE = 19
const CELL_CHROME = 18

function estimate(c: Cell): number {
  const src = Math.max(1, countLines(c.source))
  let out = 0
  for (const o of c.outputs) {
    if (o.output_type === 'stream') out += Math.min(40, countLines(String(o.text ?? ''))) * 18
    else if (o.output_type === 'error') out += 200
    else out += 240
  }
  return CELL_CHROME + src * LINE + (out ? out + 8 : 0)
}

function countLines(s: string): number {
  let n = 1
  for (let i = s.indexOf('\n'); i >= 0 && i < s.length - 1; i = s.indexOf('\n', i + 1)) n++
  return n
}

function lowerBound(offsets: Float64Array, y: number): number {
  let lo = 0
  let hi = offsets.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (offsets[mid] <= y) lo = mid
    else hi = mid - 1
  }
  return lo
}

export interface Window {
  start: number
  end: number
  top: number
  bottom: number
  /** Attach to each rendered cell's slot (data-cell-id set). */
  measure: (el: HTMLElement | null) => void
  /** Scroll so cell i is visible (no-op when it is). */
  reveal: (i: number) => void
}

export function useCellWindow(cells: Cell[], scrollRoot: RefObject<HTMLDivElement | null>): Window {
  const heights = useRef(new Map<string, number>())
  const [version, setVersion] = useState(0)
  const [view, setView] = useState({ top: 0, height: 1000 })

  const offsets = useMemo(() => {
    const o = new Float64Array(cells.length + 1)
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i]
      o[i + 1] = o[i] + (heights.current.get(c.id) ?? estimate(c))
    }
    return o
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cells, version])

  const pending = useRef(false)
  const ro = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false
            for (const e of entries) {
              const id = (e.target as HTMLElement).dataset.cellId
              if (!id) continue
              const h = e.borderBoxSize?.[0]?.blockSize ?? (e.target as HTMLElement).offsetHeight
              if (Math.abs((heights.current.get(id) ?? -1) - h) > 0.5) {
                heights.current.set(id, h)
                changed = true
              }
            }
            if (changed && !pending.current) {
              pending.current = true
              requestAnimationFrame(() => {
                pending.current = false
                setVersion((v) => v + 1)
              })
            }
          }),
    []
  )
  useEffect(() => () => ro?.disconnect(), [ro])

  const observed = useRef(new Set<HTMLElement>())
  const measure = useCallback(
    (el: HTMLElement | null) => {
      if (!el || !ro || observed.current.has(el)) return
      observed.current.add(el)
      ro.observe(el)
    },
    [ro]
  )
  // forget slots that left the DOM
  useEffect(() => {
    for (const el of observed.current)
      if (!el.isConnected) {
        ro?.unobserve(el)
        observed.current.delete(el)
      }
  })

  useLayoutEffect(() => {
    const root = scrollRoot.current
    if (!root) return
    let frame = 0
    const read = () => {
      frame = 0
      setView((v) => (v.top === root.scrollTop && v.height === root.clientHeight ? v : { top: root.scrollTop, height: root.clientHeight }))
    }
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(read)
    }
    read()
    root.addEventListener('scroll', onScroll, { passive: true })
    const rs = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(onScroll)
    rs?.observe(root)
    return () => {
      root.removeEventListener('scroll', onScroll)
      rs?.disconnect()
      if (frame) cancelAnimationFrame(frame)
    }
  }, [scrollRoot])

  const n = cells.length
  const start = n ? lowerBound(offsets, Math.max(0, view.top - OVERSCAN_PX)) : 0
  const end = n ? Math.min(n, lowerBound(offsets, view.top + view.height + OVERSCAN_PX) + 1) : 0

  const reveal = useCallback(
    (i: number) => {
      const root = scrollRoot.current
      if (!root || i < 0 || i >= offsets.length - 1) return
      const el = document.getElementById(`nb-cell-${cells[i].id}`)
      if (el) {
        el.scrollIntoView({ block: 'nearest' })
        return
      }
      const pad = parseFloat(getComputedStyle(root).paddingTop) || 0
      const y = offsets[i] + pad
      if (y < root.scrollTop || y + (offsets[i + 1] - offsets[i]) > root.scrollTop + root.clientHeight) root.scrollTop = Math.max(0, y - 40)
      setView({ top: root.scrollTop, height: root.clientHeight })
    },
    [cells, offsets, scrollRoot]
  )

  return { start, end, top: offsets[start] ?? 0, bottom: (offsets[n] ?? 0) - (offsets[end] ?? 0), measure, reveal }
}
