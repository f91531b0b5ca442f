/** Text helpers shared by the Endpoints room's panels. */

/** An error's message for display. */
export const msg = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** A latency in ms ("—" when unknown; one decimal below 10 ms). */
export const fmtMs = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`)
