import type { RowPage } from '../../../../../shared/api'
import { decodeArrowPage, type ColumnReader } from '../../../../../shared/arrowPage'
import { call } from '../../../api/client'

export const PAGE_SIZE = 1000
const MAX_PAGES = 20

/** A page as the grid reads it: one reader per column, over the Arrow buffers as received (or JSON values). */
interface GridPage {
  offset: number
  rowCount: number
  columns: ColumnReader[]
}

/** Pages arrive as Arrow IPC bytes where the door carries bytes; JSON columns otherwise. */
export function toGridPage(page: RowPage): GridPage {
  if (page.arrow) {
    const d = decodeArrowPage(page.arrow)
    return { offset: page.offset, rowCount: Math.min(page.rowCount, d.rowCount), columns: d.columns }
  }
  return { offset: page.offset, rowCount: page.rowCount, columns: page.columns.map((c) => ({ get: (i: number) => c[i] })) }
}

/**
 * Pages of one result, fetched on demand with `lake.page` and kept in a small LRU
 * (at most MAX_PAGES pages) so huge results scroll without being held in memory.
 */
export class PageCache {
  private pages = new Map<number, GridPage>()
  private inflight = new Set<number>()
  private failed = new Map<number, number>()
  private listeners = new Set<() => void>()
  version = 0
  private closed = false

  constructor(readonly queryId: string) {}

  seed(page: RowPage) {
    if (page.offset % PAGE_SIZE === 0 && page.rowCount > 0) this.put(page.offset / PAGE_SIZE, toGridPage(page))
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** The row's values (one per column), or undefined while its page loads. `known` = rows readable now. */
  row(index: number, known: number): unknown[] | undefined {
    const p = Math.floor(index / PAGE_SIZE)
    const page = this.pages.get(p)
    if (page && index < page.offset + page.rowCount) {
      // touch for LRU
      this.pages.delete(p)
      this.pages.set(p, page)
      return page.columns.map((c) => c.get(index - page.offset))
    }
    if (index < known) this.fetch(p)
    return undefined
  }

  private fetch(p: number) {
    if (this.closed || this.inflight.has(p)) return
    const failedAt = this.failed.get(p)
    if (failedAt && performance.now() - failedAt < 2000) return
    this.inflight.add(p)
    call('lake.page', { queryId: this.queryId, offset: p * PAGE_SIZE, limit: PAGE_SIZE, format: 'arrow' })
      .then((res) => {
        this.failed.delete(p)
        if (res.rowCount > 0) this.put(p, toGridPage(res))
      })
      .catch(() => this.failed.set(p, performance.now()))
      .finally(() => {
        this.inflight.delete(p)
        this.version++
        this.listeners.forEach((l) => l())
      })
  }

  private put(p: number, page: GridPage) {
    this.pages.delete(p)
    this.pages.set(p, page)
    while (this.pages.size > MAX_PAGES) {
      const oldest = this.pages.keys().next().value as number
      this.pages.delete(oldest)
    }
  }

  close() {
    this.closed = true
    this.pages.clear()
    this.listeners.clear()
  }
}

const caches = new Map<string, PageCache>()

export function getCache(queryId: string): PageCache {
  let c = caches.get(queryId)
  if (!c) caches.set(queryId, (c = new PageCache(queryId)))
  return c
}

export function dropCache(queryId: string) {
  caches.get(queryId)?.close()
  caches.delete(queryId)
}
