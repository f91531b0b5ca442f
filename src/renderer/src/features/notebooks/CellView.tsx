import { memo, useRef, useState, type RefObject } from 'react'
import { CellEditor, type RunMode } from './CellEditor'
import { OutputView } from './OutputView'
import { useNearViewport } from './nearViewport'
import { useNotebookStore, type Cell } from './useNotebookStore'

interface Props {
  cell: Cell
  index: number
  selected: boolean
  editing: boolean
  scrollRoot: RefObject<HTMLDivElement | null>
  onRun: (index: number, mode: RunMode) => void
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

function InputPrompt({ cell, label }: { cell: Cell; label: string }) {
  const [value, setValue] = useState('')
  const reply = useNotebookStore((s) => s.replyInput)
  if (!cell.input) return null
  return (
    <form
      className="nb-input"
      onSubmit={(e) => {
        e.preventDefault()
        void reply(cell.id, value)
        setValue('')
      }}
    >
      <span className="nb-input-prompt">{cell.input.prompt}</span>
      <input
        autoFocus
        type={cell.input.password ? 'password' : 'text'}
        aria-label={`Input for ${label}`}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => e.stopPropagation()}
      />
      <button type="submit" className="btn small">
        Send
      </button>
    </form>
  )
}

export const CellView = memo(function CellView({ cell, index, selected, editing, scrollRoot, onRun }: Props) {
  const ref = useRef<HTMLElement>(null)
  const near = useNearViewport(ref, scrollRoot, selected && editing)
  const label = `Cell ${index + 1}`
  const showAll = useNotebookStore((s) => s.showAll)
  const select = useNotebookStore((s) => s.select)
  const remove = useNotebookStore((s) => s.remove)
  const setMode = useNotebookStore((s) => s.setMode)
  const count = cell.running ? '*' : cell.queued ? '*' : cell.executionCount ?? ' '

  return (
    <article
      ref={ref}
      id={`nb-cell-${cell.id}`}
      aria-label={label}
      tabIndex={selected && !editing ? 0 : -1}
      className={`nb-cell ${cell.type} ${selected ? 'selected' : ''} ${selected && editing ? 'editing' : ''}`}
      onMouseDown={() => {
        if (!selected) select(index)
      }}
    >
      <div className="nb-gutter">
        {cell.type === 'code' && (
          <span className="nb-count" aria-label={`Execution count ${String(count).trim() || 'none'}`}>
            [{count}]
          </span>
        )}
        {cell.type !== 'code' && <span className="nb-kind">{cell.type === 'markdown' ? 'md' : 'raw'}</span>}
        {cell.durationMs !== undefined && !cell.running && <span className="nb-duration">{formatDuration(cell.durationMs)}</span>}
      </div>
      <div className="nb-body">
        <div className="nb-cell-tools">
          {cell.type === 'code' && (
            <button type="button" className="btn ghost small" aria-label={`Run ${label}`} title="Run (Shift+Enter)" onClick={() => onRun(index, 'inPlace')}>
              ▶
            </button>
          )}
          <button type="button" className="btn ghost small" aria-label={`Delete ${label}`} title="Delete (D D)" onClick={() => remove(index)}>
            ✕
          </button>
        </div>
        {near ? (
          <CellEditor
            cellId={cell.id}
            index={index}
            type={cell.type}
            source={cell.source}
            focus={selected && editing}
            onRun={(m) => onRun(index, m)}
            onEscape={() => {
              setMode('command')
              ref.current?.focus()
            }}
          />
        ) : (
          <pre className="nb-plain" onClick={() => select(index, 'edit')}>
            {cell.source || ' '}
          </pre>
        )}
        {cell.type === 'code' && <OutputView outputs={cell.outputs} cellLabel={label} onShowAll={(i) => void showAll(cell.id, i)} running={cell.running || cell.queued} />}
        <InputPrompt cell={cell} label={label} />
      </div>
    </article>
  )
})
