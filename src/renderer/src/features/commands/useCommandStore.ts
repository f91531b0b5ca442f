import { create } from 'zustand'

export interface Command {
  id: string
  title: string
  /** Shown right-aligned, e.g. "Ctrl+Enter". */
  shortcut?: string
  group?: string
  enabled?: () => boolean
  run: () => void
}

interface CommandState {
  commands: Command[]
  paletteOpen: boolean
  register: (cmds: Command[]) => () => void
  openPalette: () => void
  closePalette: () => void
  run: (id: string) => void
}

/** The command registry: rooms register their commands while mounted; the palette lists them. */
export const useCommandStore = create<CommandState>((set, get) => ({
  commands: [],
  paletteOpen: false,
  register: (cmds) => {
    const ids = new Set(cmds.map((c) => c.id))
    set((s) => ({ commands: [...s.commands.filter((c) => !ids.has(c.id)), ...cmds] }))
    return () => set((s) => ({ commands: s.commands.filter((c) => !cmds.includes(c)) }))
  },
  openPalette: () => set({ paletteOpen: true }),
  closePalette: () => set({ paletteOpen: false }),
  run: (id) => {
    const c = get().commands.find((x) => x.id === id)
    if (c && (c.enabled?.() ?? true)) c.run()
  }
}))

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform)
export const modKey = isMac ? '⌘' : 'Ctrl'
