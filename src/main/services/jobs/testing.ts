/** Test helpers for the jobs integration tests: a real core over a temp data dir, with the MLflow door open. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventName, JobInfo, JobState } from '../../../shared/api'
import { createCore, type Core, type CoreOptions } from '../../core'
import { silentLogger } from '../../log'
import { OFFLINE_EXTENSION_REPO } from '../../testing/core'
import { TrackingHttpServer } from '../tracking/TrackingHttpServer'

export interface JobsTestCore extends Core {
  root: string
  dataDir: string
  workspaceDir: string
  seen: { name: EventName; payload: any }[]
  call(method: string, params?: unknown): Promise<any>
  /** Polls jobs.get until the job is in one of `states` (and its log is complete when terminal). */
  waitState(jobId: string, states: JobState[], timeoutMs?: number): Promise<any>
  /** Closes the core but keeps the data dir (a restart). */
  close(): Promise<void>
  cleanup(): Promise<void>
}

export async function createJobsTestCore(jobs: CoreOptions['jobs'] = {}, reuse?: { root: string }): Promise<JobsTestCore> {
  const root = reuse?.root ?? mkdtempSync(join(tmpdir(), 'atelier-jobs-'))
  const dataDir = join(root, 'data')
  const workspaceDir = join(root, 'ws')
  mkdirSync(workspaceDir, { recursive: true })
  const core = await createCore({
    dataDir,
    workspace: workspaceDir,
    mode: 'test',
    log: silentLogger,
    extensionRepository: OFFLINE_EXTENSION_REPO,
    jobs: { pollMs: 250, fastPollMs: 50, graceSeconds: 2, ...jobs }
  })
  const door = await TrackingHttpServer.start({ tracking: core.tracking, log: silentLogger })
  const seen: JobsTestCore['seen'] = []
  core.events.onAny((name, payload) => seen.push({ name, payload }))
  const call = (method: string, params: unknown = {}) => core.router.dispatch(method, params) as Promise<any>
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await core.dispose()
    await door.close()
  }
  return Object.assign(core, {
    root,
    dataDir,
    workspaceDir,
    seen,
    call,
    async waitState(jobId: string, states: JobState[], timeoutMs = 40_000) {
      const deadline = Date.now() + timeoutMs
      let last: JobInfo | null = null
      for (;;) {
        last = await call('jobs.get', { jobId })
        const terminal = ['succeeded', 'failed', 'cancelled', 'lost'].includes(last!.state)
        if (states.includes(last!.state) && (!terminal || (await call('jobs.logs', { jobId, maxLines: 1 })).complete)) return last
        if (Date.now() > deadline) throw new Error(`job ${jobId} is ${last!.state} (${last!.reason}), not ${states.join('/')}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    close,
    async cleanup() {
      await close()
      rmSync(root, { recursive: true, force: true })
    }
  })
}

export async function allLogLines(core: JobsTestCore, jobId: string): Promise<string[]> {
  return (await core.call('jobs.logs', { jobId, maxLines: 200_000 })).lines
}
