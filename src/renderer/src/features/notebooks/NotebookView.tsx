import { useCallback, useEffect, useRef, type KeyboardEvent } from 'react'
import type { RunMode } from './CellEditor'
import { CellView } from './CellView'
import { FindBar } from './FindBar'
import { useNotebookStore } from './useNotebookStore'
import { useCellWindow } from './virtualCells'

/** The cells of the open notebook (windowed: only cells near the viewport are in the DOM), with Jupyter-style command-mode keys. */
export function NotebookView() {
  const cells = useNotebookStore((s) => s.cells)
  const selected = useNotebookStore((s) => s.selected)
  const mode = useNotebookStore((s) => s.mode)
  const path = useNotebookStore((s) => s.doc?.path)
  const findOpen = useNotebookStore((s) => s.find.open)
  const scrollRoot = useRef<HTMLDivElement>(null)
  const lastD = useRef(0)
  const win = useCellWindow(cells, scrollRoot)

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
  const reveal = win.reveal
  useEffect(() => {
    const id = cells[selected]?.id
    if (!id) return
    reveal(selected)
    const focusIt = () => {
      const el = document.getElementById(`nb-cell-${id}`)
      if (!el) return false
      const active = document.activeElement
      if (mode === 'command' && (!active || active === document.body || scrollRoot.current?.contains(active))) el.focus({ preventScroll: true })
      return true
    }
    if (!focusIt()) requestAnimationFrame(() => void focusIt())
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, mode, cells.length])

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const s = useNotebookStore.getState()
    const target = e.target as HTMLElement
    if (s.mode !== 'command' || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target.closest('.nb-editor, .nb-outputs')) return
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
    if (e.altKey && !e.ctrlKey && (key === 'ArrowUp' || key === 'ArrowDown')) return handled(), s.move(i, key === 'ArrowUp' ? i - 1 : i + 1)
    if (!plain || e.shiftKey) return
    if (key === 'Enter') return handled(), s.select(i, 'edit')
    if (key === 'ArrowUp' || key === 'k') return handled(), s.select(i - 1, 'command')
    if (key === 'ArrowDown' || key === 'j') return handled(), s.select(i + 1, 'command')
    if (key === 'a') return handled(), s.insert(i), s.setMode('command')
    if (key === 'b') return handled(), s.insert(i + 1), s.setMode('command')
    if (key === 'm') return handled(), s.setType(i, 'markdown')
    if (key === 'y') return handled(), s.setType(i, 'code')
    if (key === 'r') return handled(), s.setType(i, 'raw')
    if (key === 'z') return handled(), s.undoDelete()
    if (key === 'o') return handled(), s.toggleCollapse(i, 'output')
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
  const slice = cells.slice(win.start, win.end)
  return (
    <>
      {findOpen && <FindBar />}
      <div
        ref={scrollRoot}
        className="nb-cells"
        role="region"
        aria-label={`Notebook ${path.split(/[\\/]/).pop()}`}
        onKeyDown={onKeyDown}
      >
        <div style={{ height: win.top }} aria-hidden="true" />
        {slice.map((c, k) => {
          const i = win.start + k
          return (
            <div key={c.id} ref={win.measure} data-cell-id={c.id} className="nb-slot">
              <CellView cell={c} index={i} count={cells.length} selected={i === selected} editing={i === selected && mode === 'edit'} scrollRoot={scrollRoot} onRun={onRun} />
            </div>
          )
        })}
        <div style={{ height: win.bottom }} aria-hidden="true" />
        <div className="nb-add">
          <button type="button" className="btn small" onClick={() => useNotebookStore.getState().insert(cells.length)}>
            Add code cell
          </button>
          <button type="button" className="btn small" onClick={() => useNotebookStore.getState().insert(cells.length, 'markdown')}>
            Add markdown cell
          </button>
        </div>
      </div>
    </>
  )
}
