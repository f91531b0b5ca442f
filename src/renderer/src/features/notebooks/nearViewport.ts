import { useEffect, useState, type RefObject } from 'react'

/**
 * Which cells are near the viewport: one IntersectionObserver per scroll root, shared by all cells.
 * Cells coming into range are switched on one per frame, so opening or scrolling a long notebook
 * paints its plain-text cells at once and upgrades them to editors progressively.
 */
type Setter = (near: boolean) => void
const observers = new WeakMap<Element, { io: IntersectionObserver; cbs: WeakMap<Element, Setter> }>()
const queue = new Set<Setter>()
let scheduled = false

function pump() {
  scheduled = false
  const next = queue.values().next()
  if (next.done) return
  queue.delete(next.value)
  next.value(true)
  if (queue.size) schedule()
}
function schedule() {
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(() => setTimeout(pump, 0))
}

function observerFor(root: Element) {
  let o = observers.get(root)
  if (!o) {
    const cbs = new WeakMap<Element, Setter>()
    const io = new IntersectionObserver(
      (entries) =>
        entries.forEach((e) => {
          const cb = cbs.get(e.target)
          if (!cb) return
          if (e.isIntersecting) {
            queue.add(cb)
            schedule()
          } else {
            queue.delete(cb)
            cb(false)
          }
        }),
      { root, rootMargin: '300px 0px' }
    )
    o = { io, cbs }
    observers.set(root, o)
  }
  return o
}

export function useNearViewport(ref: RefObject<HTMLElement | null>, root: RefObject<HTMLElement | null>, force: boolean): boolean {
  const [near, setNear] = useState(false)
  useEffect(() => {
    const el = ref.current
    const r = root.current
    if (!el || !r || typeof IntersectionObserver === 'undefined') return
    const o = observerFor(r)
    o.cbs.set(el, setNear)
    o.io.observe(el)
    return () => {
      queue.delete(setNear)
      o.io.unobserve(el)
      o.cbs.delete(el)
    }
  }, [ref, root])
  return near || force
}
