/**
 * A job's log as the renderer holds it: one array of lines filled from `jobs.logs` pages and
 * `job.log` events that may arrive out of order or overlap. Pure, so the tests pin the merge rules.
 */

export class LogBuffer {
  readonly lines: string[] = []
  /** Lines the service knows of (may be ahead of what we hold). */
  totalKnown = 0
  complete = false

  /**
   * Puts lines at their line numbers. Lines we already hold are kept (a log only grows);
   * a batch that starts past our end leaves a gap, which `missing()` reports. Returns true if anything changed.
   */
  apply(fromLine: number, lines: string[]): boolean {
    const end = fromLine + lines.length
    if (end > this.totalKnown) this.totalKnown = end
    if (fromLine > this.lines.length) return false
    const skip = this.lines.length - fromLine
    if (skip >= lines.length) return false
    for (let i = skip; i < lines.length; i++) this.lines.push(lines[i])
    return true
  }

  /** The range to fetch to close a gap: from our end up to what the service said it has. */
  missing(): { fromLine: number; count: number } | null {
    return this.totalKnown > this.lines.length ? { fromLine: this.lines.length, count: this.totalKnown - this.lines.length } : null
  }
}

/** Line numbers containing `query` (case-insensitive; empty query: none). */
export function findMatches(lines: readonly string[], query: string, limit = 1_000_000): number[] {
  if (!query) return []
  const q = query.toLowerCase()
  const out: number[] = []
  for (let i = 0; i < lines.length && out.length < limit; i++) if (lines[i].toLowerCase().includes(q)) out.push(i)
  return out
}

/** Extends a sorted match list with matches in lines appended since `from`. */
export function extendMatches(matches: number[], lines: readonly string[], from: number, query: string): number[] {
  if (!query || from >= lines.length) return matches
  const more = findMatches(lines.slice(from), query).map((i) => i + from)
  return more.length ? matches.concat(more) : matches
}

/** Splits a line into text and highlighted parts for a case-insensitive query. */
export function highlight(line: string, query: string): { text: string; hit: boolean }[] {
  if (!query) return [{ text: line, hit: false }]
  const lower = line.toLowerCase()
  const q = query.toLowerCase()
  const out: { text: string; hit: boolean }[] = []
  let at = 0
  for (let i = lower.indexOf(q); i !== -1; i = lower.indexOf(q, i + q.length)) {
    if (i > at) out.push({ text: line.slice(at, i), hit: false })
    out.push({ text: line.slice(i, i + q.length), hit: true })
    at = i + q.length
  }
  if (at < line.length || out.length === 0) out.push({ text: line.slice(at), hit: false })
  return out
}

/** First and last line to render for a scroll position, with overscan. */
export function visibleRange(scrollTop: number, height: number, lineHeight: number, total: number, overscan = 20): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / lineHeight) - overscan)
  const last = Math.min(total, Math.ceil((scrollTop + height) / lineHeight) + overscan)
  return [first, Math.max(first, last)]
}
