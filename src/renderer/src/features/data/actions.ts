import { useCatalogStore } from './catalog/useCatalogStore'
import { forgetChart } from './chart/ChartPanel'
import { editorBridge } from './editor/editorBridge'
import { useTabsStore } from './editor/useTabsStore'
import { useQueryStore } from './query/useQueryStore'

/** Runs the selection, or the whole text, of the active tab. */
export function runActive() {
  const tabId = useTabsStore.getState().activeId
  if (!tabId) return
  const { sql, origin } = editorBridge.runnable()
  if (!sql.trim()) return
  void useQueryStore.getState().run(tabId, sql, origin)
}

export function cancelActive() {
  const tabId = useTabsStore.getState().activeId
  if (tabId) void useQueryStore.getState().cancel(tabId)
}

export function activeQuery() {
  const tabId = useTabsStore.getState().activeId
  return tabId ? useQueryStore.getState().byTab[tabId] : undefined
}

export function newQueryTab(sql = '') {
  useTabsStore.getState().newTab(sql)
  setTimeout(() => editorBridge.focus(), 0)
}

export function closeQueryTab(id: string) {
  useQueryStore.getState().forget(id)
  forgetChart(id)
  useTabsStore.getState().closeTab(id)
}

export function addSource() {
  useCatalogStore.getState().showAdd(true)
}
