import { KernelConnection, type KernelMessage } from '@jupyterlab/services'

/**
 * @jupyterlab/services starts some promises and never handles them (`void this.reconnect()` after an
 * auto-restart, `void p.then(...)` on a kernel_info that a restart cancels). In a browser that is
 * console noise; in Node an unhandled rejection ends the process. These two overrides settle them.
 */
export class NodeKernelConnection extends KernelConnection {
  override reconnect(): Promise<void> {
    return super.reconnect().catch(() => {}) // the outcome is reported by connectionStatusChanged
  }
  override requestKernelInfo(): Promise<KernelMessage.IInfoReplyMsg | undefined> {
    return super.requestKernelInfo().catch((err: Error) => {
      if (/^Canceled future/.test(err?.message ?? '')) return undefined
      throw err
    })
  }
}

export const withTimeout = <T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms)
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e))
    )
  })
