import { create } from 'zustand'

export interface Command {
  id: string
  title: string
  /** Shown right-aligned, e.g. "Ctrl+Enter". */
  shortcut?: string
  group?: string
  /** The shortcut works from anywhere in the app (the palette's key listener runs the command). */
  bindShortcut?: boolean
  enabled?: () => boolean
  run: () => void
  /**
   * A second step in the palette: free text (`accept`, e.g. a new notebook's name) or a list of
   * choices (`choices`, e.g. runs). Without it the command runs when chosen.
   */
  next?: { placeholder: string; accept?: (text: string) => void; choices?: () => Promise<Command[]> }
}

interface CommandState {
  commands: Command[]
  paletteOpen: boolean
  /** Open the palette at this command's second step. */
  paletteStep: string | null
  register: (cmds: Command[]) => () => void
  openPalette: (stepOf?: string) => void
  closePalette: () => void
  run: (id: string) => void
}

/** The command registry: rooms register their commands while mounted; the palette lists them. */
export const useCommandStore = create<CommandState>((set, get) => ({
  commands: [],
  paletteOpen: false,
  paletteStep: null,
  register: (cmds) => {
    const ids = new Set(cmds.map((c) => c.id))
    set((s) => ({ commands: [...s.commands.filter((c) => !ids.has(c.id)), ...cmds] }))
    return () => set((s) => ({ commands: s.commands.filter((c) => !cmds.includes(c)) }))
  },
  openPalette: (stepOf) => set({ paletteOpen: true, paletteStep: typeof stepOf === 'string' ? stepOf : null }),
  closePalette: () => set({ paletteOpen: false }),
  run: (id) => {
    const c = get().commands.find((x) => x.id === id)
    if (!c || !(c.enabled?.() ?? true)) return
    if (c.next) get().openPalette(c.id)
    else c.run()
  }
}))

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform)
export const modKey = isMac ? '⌘' : 'Ctrl'

/**
 * Whether a key event is the chord a shortcut names ("Alt+Shift+Q", "Ctrl+Enter", "⌘+K"). Letters
 * and digits match by physical key, so Alt/Option combinations that type other characters still match.
 */
export function matchesShortcut(e: Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>, shortcut: string): boolean {
  const parts = shortcut.split('+')
  const key = parts.pop()!
  const mods = new Set(parts.map((p) => p.toLowerCase()))
  const mod = mods.has('ctrl') || mods.has('⌘') || mods.has('cmd')
  if (mod !== (e.ctrlKey || e.metaKey) || mods.has('alt') !== e.altKey || mods.has('shift') !== e.shiftKey) return false
  if (/^[a-z]$/i.test(key)) return e.code === `Key${key.toUpperCase()}`
  if (/^\d$/.test(key)) return e.code === `Digit${key}`
  return e.key.toLowerCase() === key.toLowerCase()
}
