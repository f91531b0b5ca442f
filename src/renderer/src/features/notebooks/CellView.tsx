import { memo, useMemo, useRef, useState, type RefObject } from 'react'
import { CellEditor, type RunMode } from './CellEditor'
import { renderMarkdown } from './markdown'
import { OutputView } from './OutputView'
import { useNearViewport } from './nearViewport'
import { isCollapsed, useNotebookStore, type Cell } from './useNotebookStore'
import { plural } from '../../lib/format'

interface Props {
  cell: Cell
  index: number
  count: number
  selected: boolean
  editing: boolean
  scrollRoot: RefObject<HTMLDivElement | null>
  onRun: (index: number, mode: RunMode) => void
}

const DRAG_TYPE = 'application/x-atelier-cell'

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

function InputPrompt({ cell, label }: { cell: Cell; label: string }) {
  const [value, setValue] = useState('')
  if (!cell.input) return null
  return (
    <form
      className="nb-input"
      onSubmit={(e) => {
        e.preventDefault()
        void useNotebookStore.getState().replyInput(cell.id, value)
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

function MarkdownPreview({ source, attachments, onEdit }: { source: string; attachments?: Record<string, Record<string, unknown>>; onEdit: () => void }) {
  const html = useMemo(
    () => (source.trim() ? renderMarkdown(source, attachments) : '<p class="muted">Empty markdown cell (double-click to edit)</p>'),
    [source, attachments]
  )
  return <div className="nb-md nb-md-cell" onDoubleClick={onEdit} dangerouslySetInnerHTML={{ __html: html }} />
}

function CellTools({ cell, index, count, label, onRun }: { cell: Cell; index: number; count: number; label: string; onRun: Props['onRun'] }) {
  const s = useNotebookStore.getState()
  const inHidden = isCollapsed(cell, 'input')
  const outHidden = isCollapsed(cell, 'output')
  return (
    <div className="nb-cell-tools" role="toolbar" aria-label={`${label} actions`}>
      {cell.type !== 'raw' && (
        <button type="button" className="btn ghost small" aria-label={`Run ${label}`} title="Run (Ctrl+Enter)" onClick={() => onRun(index, 'inPlace')}>
          ▶
        </button>
      )}
      <button type="button" className="btn ghost small" aria-label={`Move ${label} up`} title="Move up (Alt+↑)" disabled={index === 0} onClick={() => s.move(index, index - 1)}>
        ↑
      </button>
      <button type="button" className="btn ghost small" aria-label={`Move ${label} down`} title="Move down (Alt+↓)" disabled={index >= count - 1} onClick={() => s.move(index, index + 1)}>
        ↓
      </button>
      <button type="button" className="btn ghost small" aria-label={`${inHidden ? 'Expand' : 'Collapse'} input of ${label}`} title="Collapse input" aria-pressed={inHidden} onClick={() => s.toggleCollapse(index, 'input')}>
        {inHidden ? '⊞' : '⊟'}
      </button>
      {cell.type === 'code' && (
        <button type="button" className="btn ghost small" aria-label={`${outHidden ? 'Expand' : 'Collapse'} output of ${label}`} title="Collapse output (O)" aria-pressed={outHidden} onClick={() => s.toggleCollapse(index, 'output')}>
          {outHidden ? '▣' : '▢'}
        </button>
      )}
      <button type="button" className="btn ghost small" aria-label={`Run cells above ${label}`} title="Run all above" disabled={index === 0} onClick={() => void s.runAbove(index)}>
        ⤒
      </button>
      <button type="button" className="btn ghost small" aria-label={`Run ${label} and below`} title="Run this and all below" onClick={() => void s.runBelow(index)}>
        ⤓
      </button>
      <button type="button" className="btn ghost small" aria-label={`Delete ${label}`} title="Delete (D D)" onClick={() => s.remove(index)}>
        ✕
      </button>
    </div>
  )
}

export const CellView = memo(function CellView({ cell, index, count, selected, editing, scrollRoot, onRun }: Props) {
  const ref = useRef<HTMLElement>(null)
  const near = useNearViewport(ref, scrollRoot, editing)
  const [dropping, setDropping] = useState(false)
  const label = `Cell ${index + 1}`
  const exec = cell.running ? '*' : cell.queued ? '*' : (cell.executionCount ?? ' ')
  const inputHidden = isCollapsed(cell, 'input')
  const outputHidden = isCollapsed(cell, 'output')
  const s = useNotebookStore.getState
  const edit = () => s().select(index, 'edit')
  const showRendered = cell.type === 'markdown' && !editing

  return (
    <article
      ref={ref}
      id={`nb-cell-${cell.id}`}
      aria-label={label}
      aria-current={selected ? 'true' : undefined}
      tabIndex={selected && !editing ? 0 : -1}
      className={`nb-cell ${cell.type} ${selected ? 'selected' : ''} ${editing ? 'editing' : ''} ${dropping ? 'drop' : ''}`}
      onMouseDown={() => {
        if (!selected) s().select(index)
      }}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes(DRAG_TYPE)) return
        e.preventDefault()
        e.dataTransfer.dropEffect = 'move'
        setDropping(true)
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={(e) => {
        setDropping(false)
        const from = Number(e.dataTransfer.getData(DRAG_TYPE))
        if (!Number.isInteger(from)) return
        e.preventDefault()
        s().move(from, index)
      }}
    >
      <div
        className="nb-gutter"
        draggable
        title="Drag to move"
        onDragStart={(e) => {
          e.dataTransfer.setData(DRAG_TYPE, String(index))
          e.dataTransfer.effectAllowed = 'move'
        }}
      >
        {cell.type === 'code' && (
          <span className="nb-count" aria-label={`Execution count ${String(exec).trim() || 'none'}`}>
            [{exec}]
          </span>
        )}
        {cell.type !== 'code' && <span className="nb-kind">{cell.type === 'markdown' ? 'md' : 'raw'}</span>}
        {cell.durationMs !== undefined && !cell.running && <span className="nb-duration">{formatDuration(cell.durationMs)}</span>}
        <span className="nb-grip" aria-hidden="true">
          ⠿
        </span>
      </div>
      <div className="nb-body">
        <CellTools cell={cell} index={index} count={count} label={label} onRun={onRun} />
        {inputHidden ? (
          <button type="button" className="nb-collapsed" onClick={() => s().toggleCollapse(index, 'input')}>
            … input hidden ({plural(cell.source.split('\n').length, 'line')})
          </button>
        ) : showRendered ? (
          <MarkdownPreview source={cell.source} attachments={cell.extra?.attachments as Record<string, Record<string, unknown>> | undefined} onEdit={edit} />
        ) : near ? (
          <CellEditor
            cellId={cell.id}
            index={index}
            type={cell.type}
            source={cell.source}
            focus={editing}
            onRun={(m) => onRun(index, m)}
            onEscape={() => {
              s().setMode('command')
              ref.current?.focus()
            }}
          />
        ) : (
          <pre className="nb-plain" onClick={edit}>
            {cell.source || ' '}
          </pre>
        )}
        {cell.type === 'code' &&
          (outputHidden && cell.outputs.length ? (
            <button type="button" className="nb-collapsed" onClick={() => s().toggleCollapse(index, 'output')}>
              … {cell.outputs.length} output{cell.outputs.length > 1 ? 's' : ''} hidden
            </button>
          ) : (
            <OutputView outputs={cell.outputs} cellLabel={label} onShowAll={(i) => void s().showAll(cell.id, i)} running={cell.running || cell.queued} />
          ))}
        <InputPrompt cell={cell} label={label} />
      </div>
    </article>
  )
})
