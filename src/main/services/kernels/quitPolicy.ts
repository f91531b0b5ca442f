import { basename, isAbsolute, relative } from 'node:path'
import type { LifetimeSetting } from './serverRecord'

/** A kernel alive on the local Jupyter server when the app quits. */
export interface QuitKernel {
  kernelId: string
  /** The notebook it runs for (absolute, or relative to the workspace), or null. */
  path: string | null
  status: string
}

export type QuitChoice = 'keep' | 'stop'

/** The question the desktop app asks at quit; buttons in this order, `cancelId` leaves the app open. */
export interface QuitQuestion {
  title: string
  message: string
  detail: string
  buttons: ['Keep running', 'Stop kernels', 'Cancel']
  defaultId: 0
  cancelId: 2
  checkboxLabel: 'Remember my choice'
}

export type QuitDecision = { action: QuitChoice } | { action: 'ask'; question: QuitQuestion }

export interface QuitInput {
  /** The lifetime setting in effect (the desktop's default when the user has not chosen one). */
  lifetime: LifetimeSetting
  /** False once the user ticked "Remember my choice". */
  askOnQuit: boolean
  /** Whether the app manages a local Jupyter server that is running now. */
  serverRunning: boolean
  /** The live kernels on that server. */
  kernels: QuitKernel[]
  /** The open workspace, to name notebooks by their path in it. */
  workspace?: string | null
}

/**
 * What to do with the local Jupyter server when the desktop app quits: a server set to keep running
 * is kept; one that stops with the app is stopped at once when it has no live kernel or the user
 * remembered that choice, else the user is asked whether to keep its kernels running.
 */
export function quitPolicy(i: QuitInput): QuitDecision {
  if (!i.serverRunning) return { action: 'stop' }
  if (i.lifetime.lifetime === 'keep-running') return { action: 'keep' }
  const live = i.kernels.filter((k) => k.status !== 'dead')
  if (!live.length || !i.askOnQuit) return { action: 'stop' }
  return { action: 'ask', question: quitQuestion(live, i.lifetime.idleHours, i.workspace ?? null) }
}

export function quitQuestion(kernels: QuitKernel[], idleHours: number, workspace: string | null): QuitQuestion {
  const n = kernels.length
  const lines = kernels.map((k) => `• ${kernelName(k, workspace)} (${k.status === 'busy' ? 'busy' : k.status === 'idle' ? 'idle' : k.status})`)
  const busy = kernels.filter((k) => k.status === 'busy').length
  const idle = idleHours > 0 ? ` A kernel idle for ${formatHours(idleHours)} is stopped then.` : ''
  return {
    title: 'Quit Atelier',
    message: n === 1 ? 'Keep 1 kernel running?' : `Keep ${n} kernels running?`,
    detail: [
      ...lines,
      '',
      `${busy ? `${busy === 1 ? 'A cell is' : `${busy} cells are`} still running. ` : ''}Kept kernels go on running after Atelier quits, with their variables, and their notebooks re-attach to them when Atelier starts again.${idle} Stopping them loses their state.`
    ].join('\n'),
    buttons: ['Keep running', 'Stop kernels', 'Cancel'],
    defaultId: 0,
    cancelId: 2,
    checkboxLabel: 'Remember my choice'
  }
}

/** The answer to the question's buttons (by index): keep, stop, or cancel (the app stays open). */
export function quitAnswer(response: number): QuitChoice | 'cancel' {
  return response === 0 ? 'keep' : response === 1 ? 'stop' : 'cancel'
}

function kernelName(k: QuitKernel, workspace: string | null): string {
  if (!k.path) return `kernel ${k.kernelId.slice(0, 8)}`
  if (workspace && isAbsolute(k.path)) {
    const rel = relative(workspace, k.path)
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel
    return basename(k.path)
  }
  return k.path
}

function formatHours(h: number): string {
  if (h < 1) return `${Math.round(h * 60)} minutes`
  return h === 1 ? '1 hour' : `${+h.toFixed(1)} hours`
}
