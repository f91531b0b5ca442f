import { useCallback, useEffect, useRef, type KeyboardEvent } from 'react'
import type { RunMode } from './CellEditor'
import { CellView } from './CellView'
import { useNotebookStore } from './useNotebookStore'

/** The cells of the open notebook, with Jupyter-style command-mode keys. */
export function NotebookView() {
  const cells = useNotebookStore((s) => s.cells)
  const selected = useNotebookStore((s) => s.selected)
  const mode = useNotebookStore((s) => s.mode)
  const path = useNotebookStore((s) => s.doc?.path)
  const scrollRoot = useRef<HTMLDivElement>(null)
  const lastD = useRef(0)

  const onRun = useCallback((index: number, how: RunMode) => {
    const s = useNotebookStore.getState()
    const cell = s.cells[index]
    if (!cell) return
    void s.run(index)
    if (how === 'inPlace') {
      if (cell.type !== 'code') s.setMode('command')
      return
    }
    if (how === 'insert' || index === s.cells.length - 1) {
      s.insert(index + 1)
      s.select(index + 1, 'edit')
      return
    }
    s.select(index + 1, 'command')
  }, [])

  // keep the selected cell in view and focused in command mode
  useEffect(() => {
    const id = cells[selected]?.id
    if (!id) return
    const el = document.getElementById(`nb-cell-${id}`)
    if (!el) return
    el.scrollIntoView({ block: 'nearest' })
    const active = document.activeElement
    if (mode === 'command' && (!active || active === document.body || scrollRoot.current?.contains(active))) el.focus({ preventScroll: true })
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, mode, cells.length])

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const s = useNotebookStore.getState()
    if (s.mode !== 'command' || e.target instanceof HTMLInputElement || (e.target as HTMLElement).closest('.nb-editor')) return
    const i = s.selected
    const plain = !e.ctrlKey && !e.metaKey && !e.altKey
    const key = e.key
    const handled = () => {
      e.preventDefault()
      e.stopPropagation()
    }
    if (key === 'Enter' && e.shiftKey) return handled(), onRun(i, 'advance')
    if (key === 'Enter' && (e.ctrlKey || e.metaKey)) return handled(), onRun(i, 'inPlace')
    if (key === 'Enter' && e.altKey) return handled(), onRun(i, 'insert')
    if (!plain) return
    if (key === 'Enter') return handled(), s.select(i, 'edit')
    if (key === 'ArrowUp' || key === 'k') return handled(), s.select(i - 1, 'command')
    if (key === 'ArrowDown' || key === 'j') return handled(), s.select(i + 1, 'command')
    if (key === 'a') return handled(), s.insert(i), s.setMode('command')
    if (key === 'b') return handled(), s.insert(i + 1), s.setMode('command')
    if (key === 'm') return handled(), s.setType(i, 'markdown')
    if (key === 'y') return handled(), s.setType(i, 'code')
    if (key === 'r') return handled(), s.setType(i, 'raw')
    if (key === 'z') return handled(), s.undoDelete()
    if (key === 'd') {
      handled()
      const now = Date.now()
      if (now - lastD.current < 800) {
        lastD.current = 0
        s.remove(i)
      } else lastD.current = now
    }
  }

  if (!path) return <div className="nb-empty">Open or create a notebook.</div>
  return (
    <div ref={scrollRoot} className="nb-cells" role="region" aria-label={`Notebook ${path.split(/[\\/]/).pop()}`} onKeyDown={onKeyDown}>
      {cells.map((c, i) => (
        <CellView key={c.id} cell={c} index={i} selected={i === selected} editing={mode === 'edit'} scrollRoot={scrollRoot} onRun={onRun} />
      ))}
      <div className="nb-add">
        <button type="button" className="btn small" onClick={() => useNotebookStore.getState().insert(cells.length)}>
          Add code cell
        </button>
        <button type="button" className="btn small" onClick={() => useNotebookStore.getState().insert(cells.length, 'markdown')}>
          Add markdown cell
        </button>
      </div>
    </div>
  )
}
