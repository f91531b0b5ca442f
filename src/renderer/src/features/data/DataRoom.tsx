import { useEffect, useState } from 'react'
import { onEvent } from '../../api/client'
import { useCommandStore, modKey } from '../commands/useCommandStore'
import { useWorkspaceStore } from '../workspace/useWorkspaceStore'
import { activeQuery, addSource, cancelActive, closeQueryTab, runActive } from './actions'
import { editorBridge } from './editor/editorBridge'
import { AddSourceDialog } from './catalog/AddSourceDialog'
import { CatalogTree } from './catalog/CatalogTree'
import { useCatalogStore } from './catalog/useCatalogStore'
import { QueryTabs } from './editor/QueryTabs'
import { SqlEditor } from './editor/SqlEditor'
import { useTabsStore } from './editor/useTabsStore'
import { HistoryPanel } from './history/HistoryPanel'
import { useHistoryStore } from './history/useHistoryStore'
import { RunBar } from './query/RunBar'
import { useQueryStore } from './query/useQueryStore'
import { ResultArea } from './ResultArea'
import { drawChart } from './chart/ChartPanel'
import { useOpenInData } from './openInData'

function Splitter({ value, onChange }: { value: number; onChange: (v: number) => void }) {
  return (
    <div
      className="splitter"
      role="separator"
      aria-orientation="horizontal"
      aria-label="Resize editor"
      aria-valuenow={Math.round(value)}
      aria-valuemin={80}
      aria-valuemax={1200}
      tabIndex={0}
      onKeyDown={(e) => {
        if (e.key === 'ArrowUp') onChange(Math.max(80, value - 24))
        else if (e.key === 'ArrowDown') onChange(value + 24)
      }}
      onPointerDown={(e) => {
        const y0 = e.clientY
        const v0 = value
        const el = e.currentTarget
        el.setPointerCapture(e.pointerId)
        const move = (ev: PointerEvent) => onChange(Math.max(80, Math.min(window.innerHeight - 200, v0 + ev.clientY - y0)))
        const up = () => {
          el.removeEventListener('pointermove', move)
          el.removeEventListener('pointerup', up)
        }
        el.addEventListener('pointermove', move)
        el.addEventListener('pointerup', up)
      }}
    />
  )
}

export function DataRoom() {
  const generation = useWorkspaceStore((s) => s.generation)
  const addOpen = useCatalogStore((s) => s.addOpen)
  const catalogError = useCatalogStore((s) => s.error)
  const loadCatalog = useCatalogStore((s) => s.load)
  const refresh = useCatalogStore((s) => s.refresh)
  const saveError = useTabsStore((s) => s.saveError)
  const tabsLoaded = useTabsStore((s) => s.loaded)
  const register = useCommandStore((s) => s.register)
  const [editorH, setEditorH] = useState(() => Math.round(window.innerHeight * 0.3))

  // a workspace switch: drop the old workspace's results, reload everything
  useEffect(() => {
    if (generation === 0) return
    const { byTab, forget } = useQueryStore.getState()
    Object.keys(byTab).forEach(forget)
  }, [generation])

  // Ctrl/Cmd+Enter runs the query from anywhere in the room (the editor handles its own)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey) || e.defaultPrevented) return
      if ((e.target as HTMLElement | null)?.closest?.('dialog, .monaco-editor')) return
      e.preventDefault()
      runActive()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])

  useEffect(() => {
    void loadCatalog()
    // then "Open in Data" from another room (a notebook's DataFrame): a new tab with its query, run
    void useTabsStore
      .getState()
      .load()
      .then(() => {
        const p = useOpenInData.getState().take()
        if (!p) return
        const tabId = useTabsStore.getState().newTab(p.sql)
        if (p.run) void useQueryStore.getState().run(tabId, p.sql)
        else setTimeout(() => editorBridge.focus(), 0)
      })
    void useHistoryStore.getState().load()
  }, [generation, loadCatalog])

  useEffect(() => onEvent('catalog.changed', () => void useCatalogStore.getState().load()), [])

  useEffect(
    () =>
      register([
        { id: 'data.run', title: 'Run query', group: 'Data', shortcut: `${modKey}+Enter`, run: runActive },
        {
          id: 'data.cancel',
          title: 'Cancel query',
          group: 'Data',
          shortcut: 'Alt+Shift+C',
          bindShortcut: true,
          enabled: () => activeQuery()?.status === 'running',
          run: cancelActive
        },
        {
          id: 'data.closeTab',
          title: 'Close query tab',
          group: 'Data',
          shortcut: 'Alt+Shift+X',
          bindShortcut: true,
          run: () => {
            const id = useTabsStore.getState().activeId
            if (id) closeQueryTab(id)
          }
        },
        { id: 'data.refreshCatalog', title: 'Refresh catalog', group: 'Data', shortcut: 'Alt+Shift+L', bindShortcut: true, run: () => void refresh() },
        { id: 'data.export', title: 'Export result', group: 'Data', shortcut: 'Alt+Shift+E', bindShortcut: true, run: () => useQueryStore.getState().setView('export') },
        { id: 'data.profile', title: 'Profile result', group: 'Data', shortcut: 'Alt+Shift+P', bindShortcut: true, run: () => useQueryStore.getState().setView('profile') },
        {
          id: 'data.chart',
          title: 'Chart result',
          group: 'Data',
          shortcut: 'Alt+Shift+H',
          bindShortcut: true,
          run: () => {
            useQueryStore.getState().setView('chart')
            const q = activeQuery()
            const tabId = useTabsStore.getState().activeId
            if (q?.status === 'done' && tabId) void drawChart(tabId, q.queryId)
          }
        },
        { id: 'data.results', title: 'Show results', group: 'Data', shortcut: 'Alt+Shift+T', bindShortcut: true, run: () => useQueryStore.getState().setView('results') }
      ]),
    [register, refresh]
  )

  return (
    <div className="data-room">
      <aside className="sidebar" aria-label="Sources and catalog">
        <header className="side-head">
          <h2>Catalog</h2>
          <span className="spacer" />
          <button type="button" className="icon-btn small" aria-label="Refresh catalog" title="Refresh catalog" onClick={() => void refresh()}>
            ↻
          </button>
          <button type="button" className="btn small" onClick={addSource}>
            Add source
          </button>
        </header>
        {catalogError && (
          <div role="alert" className="error-box small">
            {catalogError}
          </div>
        )}
        <div className="catalog-scroll">
          <CatalogTree />
        </div>
        <HistoryPanel />
      </aside>
      <section className="workarea" aria-label="SQL workspace">
        <QueryTabs />
        {saveError && <div className="error-box small">{saveError}</div>}
        <div id="query-editor-panel" role="tabpanel" aria-label="Query" className="editor-panel" style={{ height: editorH }}>
          {tabsLoaded ? <SqlEditor /> : <div className="muted empty-note">Loading query tabs…</div>}
        </div>
        <Splitter value={editorH} onChange={setEditorH} />
        <RunBar />
        <ResultArea />
      </section>
      {addOpen && <AddSourceDialog />}
    </div>
  )
}
