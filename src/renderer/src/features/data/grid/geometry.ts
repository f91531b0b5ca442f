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

/** WheelEvent.deltaMode values. */
export const DOM_DELTA_PIXEL = 0
export const DOM_DELTA_LINE = 1
export const DOM_DELTA_PAGE = 2

/**
 * Whole rows one wheel event moves the grid by: lines count as rows, pages as the fully visible rows,
 * pixels accumulate (in `carry`) until they make a row. Never more than the fully visible rows, so a
 * step never jumps over a row the user has not seen.
 */
export function wheelRows(
  deltaY: number,
  deltaMode: number,
  visibleRows: number,
  rowH: number,
  carry = 0
): { rows: number; carry: number } {
  const max = Math.max(1, Math.floor(visibleRows))
  let rows: number
  let rest = 0
  if (deltaMode === DOM_DELTA_LINE) rows = Math.trunc(deltaY) || Math.sign(deltaY)
  else if (deltaMode === DOM_DELTA_PAGE) rows = Math.round(deltaY * max) || Math.sign(deltaY)
  else {
    // a change of direction drops what was left over from the other way
    const px = (Math.sign(carry) === Math.sign(deltaY) ? carry : 0) + deltaY
    rows = Math.trunc(px / rowH) || 0
    rest = px - rows * rowH
  }
  if (Math.abs(rows) > max) return { rows: Math.sign(rows) * max, carry: 0 }
  return { rows, carry: rest }
}

/**
 * The first row after scrolling `rows` from a (possibly fractional) first row: downwards from the
 * partly visible top row, upwards from the first fully visible one, so no row is skipped either way.
 */
export function steppedFirst(first: number, rows: number, maxFirst: number): number {
  const base = rows >= 0 ? Math.floor(first + 1e-6) : Math.ceil(first - 1e-6)
  return Math.max(0, Math.min(maxFirst, base + rows))
}
