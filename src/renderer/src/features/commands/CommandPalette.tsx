import { useEffect, useId, useMemo, useRef, useState } from 'react'
import { Dialog } from '../../components/Dialog'
import { matchesShortcut, useCommandStore, type Command } from './useCommandStore'
import { errorText } from '../../lib/errors'

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
        return
      }
      // app-wide shortcuts, unless a dialog is open
      if (document.querySelector('dialog[open]') || useCommandStore.getState().paletteOpen) return
      const cmd = useCommandStore
        .getState()
        .commands.find((c) => c.bindShortcut && c.shortcut && matchesShortcut(e, c.shortcut) && (c.enabled?.() ?? true))
      if (cmd) {
        e.preventDefault()
        e.stopPropagation()
        if (cmd.next) useCommandStore.getState().openPalette(cmd.id)
        else cmd.run()
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
  const startAt = useCommandStore((s) => s.paletteStep)
  const [q, setQ] = useState('')
  const [active, setActive] = useState(0)
  // the command whose second step is shown (a name to type, or a choice to make)
  const [step, setStep] = useState<Command | null>(() => commands.find((c) => c.id === startAt && c.next) ?? null)
  const [choices, setChoices] = useState<Command[] | null>(null)
  const [stepError, setStepError] = useState<string | null>(null)
  const listId = useId()
  const inputRef = useRef<HTMLInputElement>(null)

  useEffect(() => {
    setChoices(null)
    setStepError(null)
    if (!step?.next?.choices) return
    let live = true
    step.next
      .choices()
      .then((c) => live && setChoices(c))
      .catch((err: unknown) => live && setStepError(errorText(err)))
    return () => {
      live = false
    }
  }, [step])

  const items = useMemo(() => {
    if (step?.next?.accept) return []
    const pool = step ? choices ?? [] : commands
    return pool
      .filter((c) => c.enabled?.() ?? true)
      .map((c) => ({ c, s: score(c.title, q) }))
      .filter((x) => x.s > 0)
      .sort((a, b) => b.s - a.s || (step ? 0 : a.c.title.localeCompare(b.c.title)))
      .map((x) => x.c)
  }, [commands, choices, step, q])
  const idx = Math.min(active, Math.max(0, items.length - 1))

  useEffect(() => inputRef.current?.focus(), [step])

  const runCmd = (c: Command | undefined) => {
    if (!c) return
    if (c.next) {
      setStep(c)
      setQ('')
      setActive(0)
      return
    }
    close()
    // let the dialog close and focus return before the command moves focus itself
    setTimeout(() => c.run(), 0)
  }
  const accept = () => {
    const text = q.trim()
    if (!text || !step?.next?.accept) return
    const fn = step.next.accept
    close()
    setTimeout(() => fn(text), 0)
  }
  const emptyText = step?.next?.accept
    ? q.trim()
      ? `Enter: ${step.title.replace(/…$/, '')} “${q.trim()}”`
      : step.next.placeholder
    : step && !choices
      ? stepError ?? 'Loading…'
      : 'No matching command'

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
        placeholder={step ? step.next!.placeholder : 'Type a command…'}
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
            if (step?.next?.accept) accept()
            else runCmd(items[idx])
          }
        }}
      />
      <ul id={listId} role="listbox" aria-label="Commands" className="palette-list">
        {items.length === 0 && (
          <li role="option" aria-selected={false} aria-disabled="true" className="muted palette-empty">
            {emptyText}
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
