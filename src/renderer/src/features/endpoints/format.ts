/** Text helpers shared by the Endpoints room's panels. */

/** A latency in ms ("—" when unknown; one decimal below 10 ms). */
export const fmtMs = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`)
