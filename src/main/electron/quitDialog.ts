import { BrowserWindow, dialog } from 'electron'
import type { KernelStack } from '../services/kernels'
import { quitAnswer, type QuitChoice } from '../services/kernels/quitPolicy'

/**
 * Asks, when the policy says so, whether to keep the local Jupyter server's kernels running after
 * the app quits. Returns the choice (recorded on the kernel stack for its dispose), or 'cancel'
 * when the user wants the app to stay open.
 */
export async function decideKernelsOnQuit(kernels: KernelStack): Promise<QuitChoice | 'cancel'> {
  const d = kernels.quitDecision()
  if (d.action !== 'ask') {
    kernels.setExitChoice(d.action)
    return d.action
  }
  const q = d.question
  const opts = { type: 'question' as const, noLink: true, ...q }
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0]
  const r = win ? await dialog.showMessageBox(win, opts) : await dialog.showMessageBox(opts)
  const choice = quitAnswer(r.response)
  if (choice !== 'cancel') kernels.setExitChoice(choice, r.checkboxChecked)
  return choice
}
