import { useRef, useState } from 'react'
import { closeQueryTab, newQueryTab } from '../actions'
import { useQueryStore } from '../query/useQueryStore'
import { useTabsStore } from './useTabsStore'

/** The query tab strip: arrow keys move between tabs, Delete closes, double-click renames. */
export function QueryTabs() {
  const tabs = useTabsStore((s) => s.tabs)
  const activeId = useTabsStore((s) => s.activeId)
  const setActive = useTabsStore((s) => s.setActive)
  const rename = useTabsStore((s) => s.rename)
  const running = useQueryStore((s) => s.byTab)
  const [editing, setEditing] = useState<string | null>(null)
  const listRef = useRef<HTMLDivElement>(null)

  const focusTab = (i: number) => {
    const t = tabs[(i + tabs.length) % tabs.length]
    setActive(t.id)
    setTimeout(() => listRef.current?.querySelector<HTMLElement>(`[data-tab="${t.id}"]`)?.focus(), 0)
  }

  return (
    <div className="query-tabs">
      <div role="tablist" aria-label="Query tabs" className="tabstrip" ref={listRef}>
        {tabs.map((t, i) => {
          const active = t.id === activeId
          const busy = running[t.id]?.status === 'running'
          return (
            <div key={t.id} className={`qtab ${active ? 'active' : ''}`}>
              {editing === t.id ? (
                <input
                  className="qtab-rename"
                  aria-label={`Rename ${t.title}`}
                  defaultValue={t.title}
                  autoFocus
                  onBlur={(e) => {
                    rename(t.id, e.target.value.trim())
                    setEditing(null)
                  }}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') (e.target as HTMLInputElement).blur()
                    if (e.key === 'Escape') setEditing(null)
                  }}
                />
              ) : (
                <button
                  type="button"
                  role="tab"
                  data-tab={t.id}
                  aria-selected={active}
                  aria-controls="query-editor-panel"
                  tabIndex={active ? 0 : -1}
                  className="qtab-btn"
                  onClick={() => setActive(t.id)}
                  onDoubleClick={() => setEditing(t.id)}
                  onKeyDown={(e) => {
                    if (e.key === 'ArrowRight') focusTab(i + 1)
                    else if (e.key === 'ArrowLeft') focusTab(i - 1)
                    else if (e.key === 'Home') focusTab(0)
                    else if (e.key === 'End') focusTab(tabs.length - 1)
                    else if (e.key === 'F2') setEditing(t.id)
                    else if (e.key === 'Delete') closeQueryTab(t.id)
                    else return
                    e.preventDefault()
                  }}
                >
                  {busy && <span className="dot-busy" aria-hidden="true" />}
                  {t.title}
                </button>
              )}
              <button
                type="button"
                className="qtab-close"
                aria-label={`Close ${t.title}`}
                tabIndex={active ? 0 : -1}
                onClick={() => closeQueryTab(t.id)}
              >
                ×
              </button>
            </div>
          )
        })}
      </div>
      <button type="button" className="icon-btn new-tab" aria-label="New query tab" title="New query tab" onClick={() => newQueryTab()}>
        +
      </button>
    </div>
  )
}
