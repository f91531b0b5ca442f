import { create } from 'zustand'
import type { AppInfo } from '../../../../shared/api'
import { call } from '../../api/client'
import { toUiError } from '../../lib/errors'

interface WorkspaceState {
  info: AppInfo | null
  path: string | null
  /** Bumped on every workspace switch so rooms can reload. */
  generation: number
  dialogOpen: boolean
  error: string | null
  init: () => Promise<void>
  open: (path: string) => Promise<boolean>
  showDialog: (open: boolean) => void
}

export const useWorkspaceStore = create<WorkspaceState>((set, get) => ({
  info: null,
  path: null,
  generation: 0,
  dialogOpen: false,
  error: null,
  init: async () => {
    try {
      const info = await call('app.info', {})
      set({ info, path: info.workspace, error: null })
    } catch (err) {
      set({ error: toUiError(err).message })
    }
  },
  open: async (path) => {
    const res = await call('workspace.open', { path })
    set({ path: res.path, generation: get().generation + 1, dialogOpen: false, error: null })
    return true
  },
  showDialog: (dialogOpen) => set({ dialogOpen })
}))
