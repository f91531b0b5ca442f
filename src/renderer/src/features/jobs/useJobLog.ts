import { useEffect, useRef, useState } from 'react'
import { call, onEvent } from '../../api/client'
import { toUiError } from '../../lib/errors'
import { LogBuffer } from './logBuffer'

const PAGE = 20_000
const POLL_MS = 2000

/**
 * A job's log: pages from `jobs.logs` plus lines pushed by `job.log`, merged in a LogBuffer held
 * outside React state (100k lines are one array, not 100k state updates); `version` bumps on change.
 */
export function useJobLog(jobId: string | null, active: boolean) {
  const buf = useRef(new LogBuffer())
  const [version, setVersion] = useState(0)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const activeRef = useRef(active)
  activeRef.current = active
  const fetchRef = useRef<() => void>(() => {})

  useEffect(() => {
    const b = new LogBuffer()
    buf.current = b
    setVersion((v) => v + 1)
    setError(null)
    if (!jobId) return
    let alive = true
    let fetching = false
    let again = false
    let bump = 0

    // coalesce re-renders to one per frame while pages and events pour in
    const changed = () => {
      if (bump) return
      bump = requestAnimationFrame(() => {
        bump = 0
        if (alive) setVersion((v) => v + 1)
      })
    }

    const fetchMore = async () => {
      if (fetching) {
        again = true
        return
      }
      fetching = true
      try {
        for (;;) {
          again = false
          const page = await call('jobs.logs', { jobId, fromLine: b.lines.length, maxLines: PAGE })
          if (!alive) return
          b.totalKnown = Math.max(b.totalKnown, page.totalLines)
          b.complete = page.complete
          if (b.apply(page.fromLine, page.lines)) changed()
          setError(null)
          if (page.lines.length === 0 && !again) break
          if (b.lines.length >= page.totalLines && !again) break
        }
      } catch (e) {
        if (alive) setError(toUiError(e).message)
      } finally {
        fetching = false
        if (alive) setLoading(false)
      }
    }
    fetchRef.current = () => void fetchMore()

    const off = onEvent('job.log', (ev) => {
      if (ev.jobId !== jobId) return
      if (b.apply(ev.fromLine, ev.lines)) changed()
      if (b.missing()) void fetchMore()
    })
    // a finished job's last lines: fetch once more when it ends
    const offStatus = onEvent('job.status', (job) => {
      if (job.id === jobId) void fetchMore()
    })
    setLoading(true)
    void fetchMore()
    // events are the fast path; a slow poll covers a missed one while the job runs
    const poll = setInterval(() => {
      if (activeRef.current || !b.complete) void fetchMore()
    }, POLL_MS)
    return () => {
      alive = false
      cancelAnimationFrame(bump)
      clearInterval(poll)
      off()
      offStatus()
    }
  }, [jobId])

  return { lines: buf.current.lines, total: buf.current.lines.length, complete: buf.current.complete, version, error, loading, refetch: () => fetchRef.current() }
}
