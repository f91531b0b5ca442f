import { useMemo, useRef, useState } from 'react'
import type { CatalogSource, CatalogTable } from '../../../../../shared/api'
import { formatCount, plural } from '../../../lib/format'
import { editorBridge } from '../editor/editorBridge'
import { useProfileStore } from '../profile/useProfileStore'
import { useQueryStore } from '../query/useQueryStore'
import { useCatalogStore } from './useCatalogStore'

type Node =
  | { kind: 'source'; key: string; level: 1; source: CatalogSource }
  | { kind: 'table'; key: string; level: 2; source: CatalogSource; table: CatalogTable }
  | { kind: 'column'; key: string; level: 3; table: CatalogTable; name: string; type: string }

function insertSelect(t: CatalogTable) {
  editorBridge.insert(`select * from ${t.sqlName} limit 100`)
}

function profileTable(t: CatalogTable) {
  useQueryStore.getState().setView('profile')
  void useProfileStore.getState().profile({ table: t.sqlName }, `table ${t.sqlName}`)
}

/** Sources → tables → columns, as an ARIA tree with arrow-key navigation. */
export function CatalogTree() {
  const sources = useCatalogStore((s) => s.sources)
  const remove = useCatalogStore((s) => s.remove)
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set())
  const [focusKey, setFocusKey] = useState<string | null>(null)
  const treeRef = useRef<HTMLUListElement>(null)

  const isOpen = (key: string, dflt: boolean) => (expanded.has(key) ? !dflt : dflt)
  const toggle = (key: string) =>
    setExpanded((s) => {
      const n = new Set(s)
      if (n.has(key)) n.delete(key)
      else n.add(key)
      return n
    })

  // sources default open, tables default closed; `expanded` holds the keys toggled away from default
  const visible = useMemo(() => {
    const out: Node[] = []
    for (const source of sources) {
      const sk = `s:${source.id}`
      out.push({ kind: 'source', key: sk, level: 1, source })
      if (!isOpen(sk, true)) continue
      for (const table of source.tables) {
        const tk = `t:${source.id}:${table.sqlName}`
        out.push({ kind: 'table', key: tk, level: 2, source, table })
        if (!isOpen(tk, false)) continue
        for (const c of table.columns)
          out.push({ kind: 'column', key: `${tk}:${c.name}`, level: 3, table, name: c.name, type: c.type })
      }
    }
    return out
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sources, expanded])

  const current = visible.find((n) => n.key === focusKey) ?? visible[0]
  const focusNode = (n: Node | undefined) => {
    if (!n) return
    setFocusKey(n.key)
    setTimeout(() => treeRef.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(n.key)}"]`)?.focus(), 0)
  }

  const onKey = (e: React.KeyboardEvent, n: Node, i: number) => {
    const expandable = n.kind !== 'column'
    const open = n.kind === 'source' ? isOpen(n.key, true) : n.kind === 'table' ? isOpen(n.key, false) : false
    switch (e.key) {
      case 'ArrowDown': focusNode(visible[i + 1]); break
      case 'ArrowUp': focusNode(visible[i - 1]); break
      case 'Home': focusNode(visible[0]); break
      case 'End': focusNode(visible[visible.length - 1]); break
      case 'ArrowRight':
        if (expandable && !open) toggle(n.key)
        else focusNode(visible[i + 1])
        break
      case 'ArrowLeft':
        if (expandable && open) toggle(n.key)
        else {
          for (let j = i - 1; j >= 0; j--) if (visible[j].level < n.level) return focusNode(visible[j])
        }
        break
      case 'Delete':
        if (n.kind === 'source') void remove(n.source.id)
        break
      case 'p':
        if (n.kind === 'table') profileTable(n.table)
        break
      case 'Enter':
        if (n.kind === 'table') insertSelect(n.table)
        else if (n.kind === 'source') toggle(n.key)
        else if (n.kind === 'column') editorBridge.insert(n.name)
        break
      default:
        return
    }
    e.preventDefault()
    e.stopPropagation()
  }

  if (sources.length === 0) return <p className="muted empty-note">No sources yet. Add a Parquet/CSV file, a folder, a database or a lake table.</p>

  return (
    <ul role="tree" aria-label="Catalog" className="cat-tree" ref={treeRef}>
      {visible.map((n, i) => {
        const tabIndex = n === current ? 0 : -1
        const common = {
          role: 'treeitem',
          'aria-level': n.level,
          'data-key': n.key,
          tabIndex,
          onKeyDown: (e: React.KeyboardEvent) => onKey(e, n, i),
          onFocus: () => setFocusKey(n.key)
        } as const
        if (n.kind === 'source') {
          const open = isOpen(n.key, true)
          return (
            <li key={n.key} {...common} aria-expanded={open} className="tree-item source" aria-label={`${n.source.name} (${n.source.kind})`}>
              <div className="tree-row" style={{ paddingLeft: 4 }} onClick={() => toggle(n.key)}>
                <span className="twisty" aria-hidden="true">{open ? '▾' : '▸'}</span>
                <span className="tree-name">{n.source.name}</span>
                <span className="badge">{n.source.kind}</span>
                {n.source.status === 'error' && (
                  <span className="badge error" title={n.source.error?.message}>error</span>
                )}
                {n.source.status === 'loading' && (
                  <span className="badge" role="status" title="Copying the database in the background; its tables appear when ready">
                    {loadingLabel(n.source.progress)}
                  </span>
                )}
                <span className="spacer" />
                <button
                  type="button"
                  className="icon-btn small row-action"
                  aria-label={`Remove source ${n.source.name}`}
                  title="Remove source"
                  tabIndex={-1}
                  onClick={(e) => {
                    e.stopPropagation()
                    void remove(n.source.id)
                  }}
                >
                  ×
                </button>
              </div>
              {n.source.status === 'error' && n.source.error && open && (
                <div className="tree-error">{n.source.error.message}</div>
              )}
            </li>
          )
        }
        if (n.kind === 'table') {
          const open = isOpen(n.key, false)
          const t = n.table
          return (
            <li key={n.key} {...common} aria-expanded={open} className="tree-item table" aria-label={`${t.sqlName}${t.rowCount !== null ? `, ${plural(t.rowCount, 'row')}` : ''}`}>
              <div className="tree-row clickable" style={{ paddingLeft: 18 }} title={`Insert: select * from ${t.sqlName} limit 100`} onClick={() => insertSelect(t)}>
                <span
                  className="twisty"
                  aria-hidden="true"
                  onClick={(e) => {
                    e.stopPropagation()
                    toggle(n.key)
                  }}
                >
                  {open ? '▾' : '▸'}
                </span>
                <span className="tree-name">
                  {t.name}
                </span>
                {t.rowCount !== null && <span className="muted row-count">{formatCount(t.rowCount)}</span>}
                <span className="spacer" />
                <button
                  type="button"
                  className="icon-btn small row-action"
                  aria-label={`Profile table ${t.sqlName}`}
                  title="Profile table"
                  tabIndex={-1}
                  onClick={(e) => {
                    e.stopPropagation()
                    profileTable(t)
                  }}
                >
                  ◔
                </button>
              </div>
            </li>
          )
        }
        return (
          <li key={n.key} {...common} className="tree-item column" aria-label={`${n.name} ${n.type}`}>
            <div className="tree-row" style={{ paddingLeft: 40 }} onClick={() => setFocusKey(n.key)}>
              <span className="tree-name">{n.name}</span>
              <span className="spacer" />
              <span className="col-type">{n.type}</span>
            </div>
          </li>
        )
      })}
    </ul>
  )
}

/** "loading 42%" while a source is copied in the background. */
function loadingLabel(p: { rows: number; totalRows: number | null } | undefined): string {
  if (!p?.totalRows) return 'loading…'
  return `loading ${Math.min(100, Math.floor((p.rows / p.totalRows) * 100))}%`
}
