import { useEffect, useId, useMemo, useRef, useState } from 'react'
import { Dialog } from '../../components/Dialog'
import { useCommandStore, type Command } from './useCommandStore'

function score(title: string, q: string): number {
  if (!q) return 1
  const t = title.toLowerCase()
  const s = q.toLowerCase().trim()
  if (t.startsWith(s)) return 3
  if (t.includes(s)) return 2
  // subsequence match
  let i = 0
  for (const ch of t) if (ch === s[i]) i++
  return i === s.length ? 1 : 0
}

/** Ctrl/Cmd+Shift+P or Ctrl+K: a filterable list of every registered command. */
export function CommandPalette() {
  const open = useCommandStore((s) => s.paletteOpen)
  const openPalette = useCommandStore((s) => s.openPalette)

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey
      const k = e.key.toLowerCase()
      if ((mod && e.shiftKey && k === 'p') || (mod && !e.shiftKey && !e.altKey && k === 'k')) {
        e.preventDefault()
        e.stopPropagation()
        openPalette()
      }
    }
    // capture phase so the editor does not swallow the chord first
    window.addEventListener('keydown', onKey, true)
    return () => window.removeEventListener('keydown', onKey, true)
  }, [openPalette])

  return open ? <Palette /> : null
}

function Palette() {
  const commands = useCommandStore((s) => s.commands)
  const close = useCommandStore((s) => s.closePalette)
  const [q, setQ] = useState('')
  const [active, setActive] = useState(0)
  const listId = useId()
  const inputRef = useRef<HTMLInputElement>(null)

  const items = useMemo(
    () =>
      commands
        .filter((c) => c.enabled?.() ?? true)
        .map((c) => ({ c, s: score(c.title, q) }))
        .filter((x) => x.s > 0)
        .sort((a, b) => b.s - a.s || a.c.title.localeCompare(b.c.title))
        .map((x) => x.c),
    [commands, q]
  )
  const idx = Math.min(active, Math.max(0, items.length - 1))

  useEffect(() => inputRef.current?.focus(), [])

  const runCmd = (c: Command | undefined) => {
    if (!c) return
    close()
    // let the dialog close and focus return before the command moves focus itself
    setTimeout(() => c.run(), 0)
  }

  return (
    <Dialog title="Command palette" onClose={close} className="palette" bare>
      <input
        ref={inputRef}
        className="palette-input"
        role="combobox"
        aria-label="Command"
        aria-expanded="true"
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={items[idx] ? `${listId}-${items[idx].id}` : undefined}
        placeholder="Type a command…"
        value={q}
        onChange={(e) => {
          setQ(e.target.value)
          setActive(0)
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault()
            setActive((idx + 1) % Math.max(1, items.length))
          } else if (e.key === 'ArrowUp') {
            e.preventDefault()
            setActive((idx - 1 + items.length) % Math.max(1, items.length))
          } else if (e.key === 'Enter') {
            e.preventDefault()
            runCmd(items[idx])
          }
        }}
      />
      <ul id={listId} role="listbox" aria-label="Commands" className="palette-list">
        {items.length === 0 && (
          <li role="option" aria-selected={false} aria-disabled="true" className="muted palette-empty">
            No matching command
          </li>
        )}
        {items.map((c, i) => (
          <li
            key={c.id}
            id={`${listId}-${c.id}`}
            role="option"
            aria-selected={i === idx}
            className={`palette-item ${i === idx ? 'active' : ''}`}
            onMouseMove={() => setActive(i)}
            onClick={() => runCmd(c)}
          >
            <span>
              {c.group && <span className="palette-group">{c.group}: </span>}
              {c.title}
            </span>
            {c.shortcut && <kbd>{c.shortcut}</kbd>}
          </li>
        ))}
      </ul>
    </Dialog>
  )
}
