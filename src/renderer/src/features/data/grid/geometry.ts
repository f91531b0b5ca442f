/** Browsers cap element heights (~16.7M px in Chrome, less elsewhere); beyond this the scroll space is scaled. */
export const MAX_SCROLL_PX = 10_000_000

/**
 * Maps between scrollTop and the first (fractional) visible row. When rowCount * rowH exceeds
 * maxPx the scroll space is capped and scrollTop maps proportionally onto the rows, so the first
 * and last rows stay reachable; below the cap it is the identity (first = scrollTop / rowH).
 */
export function scrollGeometry(rowCount: number, viewportRowsPx: number, rowH: number, maxPx = MAX_SCROLL_PX) {
  const spaceH = Math.min(rowCount * rowH, maxPx)
  const maxSt = Math.max(0, spaceH - viewportRowsPx)
  const rowsScroll = Math.max(0, rowCount - viewportRowsPx / rowH)
  return {
    /** Height of the scrollable body. */
    spaceH,
    /** First visible row (fractional) for a scrollTop. */
    firstAt: (st: number) => (maxSt > 0 ? Math.min(rowsScroll, (Math.min(Math.max(st, 0), maxSt) / maxSt) * rowsScroll) : 0),
    /** scrollTop that shows `first` as the first visible row. */
    scrollFor: (first: number) => (rowsScroll > 0 ? (Math.max(0, Math.min(first, rowsScroll)) / rowsScroll) * maxSt : 0)
  }
}
