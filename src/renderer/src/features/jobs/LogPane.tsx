import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { extendMatches, findMatches, highlight, visibleRange } from './logBuffer'
import { useJobLog } from './useJobLog'
import { plural } from '../../lib/format'

const LINE_H = 18

/**
 * The live log of one job: virtualized (only the visible lines are in the DOM, so 100k lines
 * scroll as smoothly as 100), follows the end while "Follow log" is on, and searches with
 * next/previous and a match count.
 */
export function LogPane({ jobId, active }: { jobId: string; active: boolean }) {
  const { lines, total, version, error, loading, complete } = useJobLog(jobId, active)
  const scroller = useRef<HTMLDivElement>(null)
  const [view, setView] = useState({ top: 0, height: 300 })
  const [follow, setFollow] = useState(true)
  const [query, setQuery] = useState('')
  const [debounced, setDebounced] = useState('')
  const [current, setCurrent] = useState(-1)
  const programmatic = useRef(false)

  useEffect(() => {
    setFollow(true)
    setQuery('')
    setDebounced('')
    setCurrent(-1)
  }, [jobId])

  useEffect(() => {
    const t = setTimeout(() => setDebounced(query), 150)
    return () => clearTimeout(t)
  }, [query])

  // matches, extended incrementally as lines arrive (a full rescan only when the query changes)
  const cache = useRef<{ query: string; jobId: string; scanned: number; matches: number[] }>({ query: '', jobId: '', scanned: 0, matches: [] })
  const matches = useMemo(() => {
    const c = cache.current
    if (c.query !== debounced || c.jobId !== jobId || c.scanned > total) {
      cache.current = { query: debounced, jobId, scanned: total, matches: findMatches(lines, debounced) }
    } else if (c.scanned < total) {
      cache.current = { ...c, scanned: total, matches: extendMatches(c.matches, lines, c.scanned, debounced) }
    }
    return cache.current.matches
    // `version` tells that `lines` (one mutable array) grew
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced, jobId, total, version])

  useEffect(() => setCurrent(matches.length ? 0 : -1), [debounced, jobId]) // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (current >= matches.length) setCurrent(matches.length - 1)
  }, [matches.length, current])

  useEffect(() => {
    const el = scroller.current
    if (!el) return
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight })
    update()
    const ro = new ResizeObserver(update)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  const scrollTo = (top: number) => {
    const el = scroller.current
    if (!el) return
    const target = Math.max(0, Math.min(top, el.scrollHeight - el.clientHeight))
    // no scroll event comes when nothing moves: only flag the scrolls that happen
    if (Math.abs(el.scrollTop - target) >= 1) {
      programmatic.current = true
      el.scrollTop = target
    }
    setView({ top: el.scrollTop, height: el.clientHeight })
  }

  // follow: stick to the end as lines arrive
  useLayoutEffect(() => {
    const el = scroller.current
    if (follow && el) scrollTo(el.scrollHeight)
  }, [follow, total, version]) // eslint-disable-line react-hooks/exhaustive-deps

  const goTo = (i: number) => {
    if (matches.length === 0) return
    const k = ((i % matches.length) + matches.length) % matches.length
    setCurrent(k)
    setFollow(false)
    const el = scroller.current
    if (el) scrollTo(Math.max(0, matches[k] * LINE_H - el.clientHeight / 2 + LINE_H))
  }

  const onScroll = () => {
    const el = scroller.current
    if (!el) return
    setView({ top: el.scrollTop, height: el.clientHeight })
    if (programmatic.current) {
      programmatic.current = false
      return
    }
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_H
    if (follow && !atEnd) setFollow(false)
    else if (!follow && atEnd && active) setFollow(true)
  }

  const [first, last] = visibleRange(view.top, view.height, LINE_H, total)
  const currentLine = current >= 0 ? matches[current] : -1
  const matchSet = useMemo(() => {
    if (!debounced) return null
    // only the visible window needs the lookup
    const s = new Set<number>()
    for (const m of matches) if (m >= first && m < last) s.add(m)
    return s
  }, [matches, first, last, debounced])
  const gutter = Math.max(4, String(total).length)

  return (
    <section className="job-logpane" aria-label="Log">
      <div className="job-bar job-logbar" role="toolbar" aria-label="Log tools">
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow log
        </label>
        <form
          className="job-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault()
          }}
        >
          <input
            type="search"
            aria-label="Search log"
            placeholder="Search log"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault()
                goTo(debounced === query ? current + (e.shiftKey ? -1 : 1) : 0)
                if (debounced !== query) setDebounced(query)
              }
            }}
          />
          <button type="button" className="icon-btn small" aria-label="Previous match" title="Previous match (Shift+Enter)" disabled={matches.length === 0} onClick={() => goTo(current - 1)}>
            ↑
          </button>
          <button type="button" className="icon-btn small" aria-label="Next match" title="Next match (Enter)" disabled={matches.length === 0} onClick={() => goTo(current + 1)}>
            ↓
          </button>
          <span className="muted job-matchcount" role="status" aria-live="polite">
            {debounced ? (matches.length ? `${current + 1} of ${plural(matches.length, 'match', 'matches')}` : 'No matches') : ''}
          </span>
        </form>
        <span className="spacer" />
        <span className="muted" aria-live="off">
          {loading && total === 0 ? 'Loading log…' : `${plural(total, 'line')}${complete ? '' : active ? ' · live' : ''}`}
        </span>
      </div>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      <div ref={scroller} className="job-log mono" role="log" aria-label="Job log" aria-live="off" tabIndex={0} onScroll={onScroll}>
        <div className="job-log-space" style={{ height: total * LINE_H }}>
          {lines.slice(first, last).map((line, k) => {
            const i = first + k
            const hit = matchSet?.has(i)
            return (
              <div key={i} className={`job-line ${i === currentLine ? 'current' : hit ? 'hit' : ''}`} style={{ transform: `translateY(${i * LINE_H}px)` }}>
                <span className="job-ln" aria-hidden="true" style={{ width: `${gutter + 1}ch` }}>
                  {i + 1}
                </span>
                <span className="job-text">
                  {hit
                    ? highlight(line, debounced).map((p, j) => (p.hit ? <mark key={j}>{p.text}</mark> : <span key={j}>{p.text}</span>))
                    : line}
                </span>
              </div>
            )
          })}
        </div>
        {total === 0 && !loading && <div className="muted job-log-empty">No output yet.</div>}
      </div>
    </section>
  )
}
