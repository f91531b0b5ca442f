/**
 * "Run as job…" in the command palette, from any room: opens the Jobs room's submit dialog,
 * prefilled with the open notebook when there is one. Registered once at start (rooms.ts imports
 * this); the Jobs room itself and its store load on first use.
 */
import type { JobSpec } from '../../../../shared/jobs'
import { notebookEntry } from './form'
import { useCommandStore } from '../commands/useCommandStore'
import { useWorkspaceStore } from '../workspace/useWorkspaceStore'

async function openNotebookPath(): Promise<string | null> {
  try {
    const { useNotebookStore } = await import('../notebooks/useNotebookStore')
    return useNotebookStore.getState().doc?.path ?? null
  } catch {
    return null
  }
}

export async function runAsJob(): Promise<void> {
  const path = await openNotebookPath()
  const spec: Partial<JobSpec> | undefined = path ? notebookEntry(path, useWorkspaceStore.getState().path) : undefined
  const { useJobsStore } = await import('./useJobsStore')
  useCommandStore.getState().run('room.jobs')
  useJobsStore.getState().openSubmit(spec ? { spec } : {})
}

useCommandStore.getState().register([{ id: 'jobs.runAsJob', title: 'Run as job…', group: 'Jobs', shortcut: 'Alt+Shift+B', bindShortcut: true, run: () => void runAsJob() }])
