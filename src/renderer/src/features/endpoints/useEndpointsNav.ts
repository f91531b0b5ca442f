import { create } from 'zustand'
import { useCommandStore } from '../commands/useCommandStore'

/** Opens an endpoint's page from another room: the Endpoints room selects `focus` when it shows. */
export const useEndpointsNav = create<{ focus: string | null; clear: () => void }>((set) => ({
  focus: null,
  clear: () => set({ focus: null })
}))

export function openEndpoint(name: string): void {
  useEndpointsNav.setState({ focus: name })
  useCommandStore.getState().run('room.endpoints')
}
