import { useEffect, useRef, useState } from 'react'

/**
 * Tracks the scroll offset and visible height of a scrolling element, for virtualized lists:
 * attach `ref` to the scroller and render only the rows that `view` covers.
 */
export function useScrollViewport<T extends HTMLElement = HTMLDivElement>(initialHeight = 400) {
  const ref = useRef<T>(null)
  const [view, setView] = useState({ top: 0, height: initialHeight })
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight })
    update()
    const ro = new ResizeObserver(update)
    ro.observe(el)
    el.addEventListener('scroll', update, { passive: true })
    return () => {
      ro.disconnect()
      el.removeEventListener('scroll', update)
    }
  }, [])
  return { ref, view }
}
