import { create } from 'zustand'
import type { QueryTab } from '../../../../../shared/api'
import { call } from '../../../api/client'
import { debounce, newId } from '../../../lib/ids'

interface TabsState {
  tabs: QueryTab[]
  activeId: string | null
  loaded: boolean
  saveError: string | null
  load: () => Promise<void>
  newTab: (sql?: string) => string
  closeTab: (id: string) => void
  setActive: (id: string) => void
  setSql: (id: string, sql: string) => void
  rename: (id: string, title: string) => void
}

function nextTitle(tabs: QueryTab[]): string {
  let n = tabs.length + 1
  const titles = new Set(tabs.map((t) => t.title))
  while (titles.has(`Query ${n}`)) n++
  return `Query ${n}`
}

function fresh(tabs: QueryTab[], sql = ''): QueryTab {
  return { id: newId(), title: nextTitle(tabs), sql }
}

/** Query tabs, loaded with `tabs.load` and saved (debounced) with `tabs.save` on every change. */
export const useTabsStore = create<TabsState>((set, get) => ({
  tabs: [],
  activeId: null,
  loaded: false,
  saveError: null,
  load: async () => {
    try {
      const res = await call('tabs.load', {})
      let tabs = res.tabs
      if (tabs.length === 0) tabs = [fresh([])]
      const activeId = tabs.some((t) => t.id === res.activeId) ? res.activeId : tabs[0].id
      set({ tabs, activeId, loaded: true })
    } catch {
      const t = fresh([])
      set({ tabs: [t], activeId: t.id, loaded: true })
    }
  },
  newTab: (sql = '') => {
    const t = fresh(get().tabs, sql)
    set((s) => ({ tabs: [...s.tabs, t], activeId: t.id }))
    return t.id
  },
  closeTab: (id) => {
    const { tabs, activeId } = get()
    const i = tabs.findIndex((t) => t.id === id)
    if (i < 0) return
    let rest = tabs.filter((t) => t.id !== id)
    if (rest.length === 0) rest = [fresh([])]
    const nextActive = activeId === id ? rest[Math.min(i, rest.length - 1)].id : activeId
    set({ tabs: rest, activeId: nextActive })
  },
  setActive: (id) => set({ activeId: id }),
  setSql: (id, sql) =>
    set((s) => ({ tabs: s.tabs.map((t) => (t.id === id && t.sql !== sql ? { ...t, sql } : t)) })),
  rename: (id, title) =>
    set((s) => ({ tabs: s.tabs.map((t) => (t.id === id ? { ...t, title: title.slice(0, 200) || t.title } : t)) }))
}))

const save = debounce((tabs: QueryTab[], activeId: string | null) => {
  call('tabs.save', { tabs: tabs.slice(0, 100), activeId: activeId ?? undefined }).then(
    () => useTabsStore.getState().saveError && useTabsStore.setState({ saveError: null }),
    () => useTabsStore.setState({ saveError: 'Query tabs could not be saved.' })
  )
}, 400)

useTabsStore.subscribe((s, prev) => {
  if (!s.loaded || !prev.loaded) return
  if (s.tabs !== prev.tabs || s.activeId !== prev.activeId) save(s.tabs, s.activeId)
})

if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => save.flush())
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && save.flush())
}
