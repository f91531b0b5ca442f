/** Test helpers for kernel integration tests: a real core and an event log to wait on. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventName, KernelIopubEvent } from '../../../shared/api'
import { createCore, type Core, type CoreOptions } from '../../core'
import { silentLogger } from '../../log'
import { OFFLINE_EXTENSION_REPO } from '../../testing/core'
import { InterpreterService } from './interpreters'

/** The first interpreter here that can run Jupyter, or null (tests then skip, saying why). */
export async function findJupyterPython(): Promise<string | null> {
  const report = await new InterpreterService({ workspace: { path: null }, log: silentLogger }).report()
  return report.selected
}

export interface KernelTestCore extends Core {
  root: string
  workspaceDir: string
  seen: { name: EventName; payload: any; at: number }[]
  call(method: string, params?: unknown): Promise<any>
  waitFor<T = any>(pred: (e: { name: EventName; payload: any; at: number }) => boolean, timeoutMs?: number, what?: string): Promise<T>
  /** Runs code in a kernel and resolves with the execute_reply event and every iopub event of that execution. */
  run(kernelId: string, code: string, cellId?: string, timeoutMs?: number): Promise<{ msgId: string; reply: KernelIopubEvent; events: KernelIopubEvent[] }>
  cleanup(): Promise<void>
}

/** A core on a fresh temp dir, or on `reuse` (the root of an earlier test core: same data dir and workspace). */
export async function createKernelTestCore(kernels: CoreOptions['kernels'] = {}, reuse?: string, mode: CoreOptions['mode'] = 'test'): Promise<KernelTestCore> {
  const root = reuse ?? mkdtempSync(join(tmpdir(), 'atelier-kernels-'))
  const workspaceDir = join(root, 'ws')
  const core = await createCore({
    dataDir: join(root, 'data'),
    workspace: workspaceDir,
    mode,
    log: silentLogger,
    extensionRepository: OFFLINE_EXTENSION_REPO,
    kernels
  })
  const seen: KernelTestCore['seen'] = []
  core.events.onAny((name, payload) => seen.push({ name, payload, at: Date.now() }))
  const call = (method: string, params: unknown = {}) => core.router.dispatch(method, params) as Promise<any>
  const waitFor: KernelTestCore['waitFor'] = (pred, timeoutMs = 30_000, what = 'event') =>
    new Promise((resolve, reject) => {
      const hit = seen.find(pred)
      if (hit) return resolve(hit.payload)
      const timer = setTimeout(() => {
        off()
        reject(new Error(`timed out waiting for ${what}`))
      }, timeoutMs)
      const off = core.events.onAny((name, payload) => {
        if (!pred({ name, payload, at: Date.now() })) return
        clearTimeout(timer)
        off()
        resolve(payload as never)
      })
    })
  const run: KernelTestCore['run'] = async (kernelId, code, cellId = 'cell', timeoutMs = 30_000) => {
    const { msgId } = await call('kernels.execute', { kernelId, cellId, code })
    const reply = await waitFor<KernelIopubEvent>(
      (e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId && e.payload.msgType === 'execute_reply',
      timeoutMs,
      `the reply to ${code.slice(0, 40)}`
    )
    const events = seen.filter((e) => e.name === 'kernel.iopub' && e.payload.parentMsgId === msgId).map((e) => e.payload as KernelIopubEvent)
    return { msgId, reply, events }
  }
  return Object.assign(core, {
    root,
    workspaceDir,
    seen,
    call,
    waitFor,
    run,
    async cleanup() {
      await core.dispose()
      rmSync(root, { recursive: true, force: true })
    }
  })
}

export const streamText = (events: KernelIopubEvent[], name = 'stdout') =>
  events
    .filter((e) => e.msgType === 'stream' && e.content.name === name)
    .map((e) => e.content.text as string)
    .join('')
