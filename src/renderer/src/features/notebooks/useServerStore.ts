import { create } from 'zustand'
import type { JupyterServerEvent, JupyterServerInfo } from '../../../../shared/api'
import { call, onEvent } from '../../api/client'

/** Jupyter servers: the local one the app starts, and remote ones (URL + token, or through SSH). */
interface ServerState {
  servers: JupyterServerInfo[]
  /** The server new kernels start on: 'local' or a server id. */
  target: string
  notice: string | null
  load(): Promise<void>
  setTarget(t: string): void
  connect(p: ConnectParams): Promise<JupyterServerInfo>
  disconnect(id: string): Promise<void>
  dismiss(): void
}

export interface ConnectParams {
  name?: string
  baseUrl: string
  token?: string
  ssh?: { host: string; port?: number; username: string; privateKeyPath?: string; passphrase?: string; useAgent?: boolean; acceptHostKey?: string }
}

let subscribed = false
export const useServerStore = create<ServerState>((set, get) => ({
  servers: [],
  target: 'local',
  notice: null,
  async load() {
    if (!subscribed) {
      subscribed = true
      onEvent('kernel.server', (e: JupyterServerEvent) => {
        set((s) => ({ servers: s.servers.map((x) => (x.id === e.serverId ? { ...x, state: e.state } : x)) }))
        if (e.state === 'lost' || e.state === 'restarting' || e.state === 'failed')
          set({ notice: e.message ?? `The Jupyter server is ${e.state}${e.lostKernelIds.length ? '; its kernels were lost' : ''}.` })
        else if (e.state === 'ready' && get().notice) set({ notice: 'The Jupyter server is back; start a kernel to continue.' })
      })
    }
    try {
      set({ servers: await call('kernels.servers', {}) })
    } catch {
      /* the kernel bar shows errors from actions */
    }
  },
  setTarget: (target) => set({ target }),
  async connect(p) {
    const server = await call('kernels.connect', p)
    set((s) => ({ servers: [...s.servers.filter((x) => x.id !== server.id), server], target: server.id }))
    return server
  },
  async disconnect(id) {
    await call('kernels.disconnect', { serverId: id, forget: true })
    set((s) => ({ servers: s.servers.filter((x) => x.id !== id), target: s.target === id ? 'local' : s.target }))
  },
  dismiss: () => set({ notice: null })
}))
