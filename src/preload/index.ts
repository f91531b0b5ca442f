/**
 * The sandboxed preload: exposes one small global, `workbench`, with exactly two functions.
 * Nothing else from Electron or Node reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/channels'

const workbench = {
  invoke(method: string, params: unknown): Promise<unknown> {
    return ipcRenderer.invoke(IPC_INVOKE_CHANNEL, String(method), params)
  },
  on(listener: (event: string, payload: unknown) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: string, payload: unknown) => listener(event, payload)
    ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped)
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped)
  }
}

contextBridge.exposeInMainWorld('workbench', workbench)
export type WorkbenchBridge = typeof workbench
