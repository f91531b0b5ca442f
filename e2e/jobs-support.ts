import { expect, test, type Locator, type Page } from '@playwright/test'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../src/main/testing/slurm'
import { startServe, type ServeHandle } from './support'

const sh = promisify(execFile)

/** Locators and steps shared by the Jobs room e2e specs. */

export const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name, exact: true })
export const jobsGrid = (page: Page) => page.getByRole('grid', { name: 'Jobs' })
export const detail = (page: Page, name: string) => page.getByRole('region', { name: `Job ${name}`, exact: true })

/** Opens the submit form from the Jobs room. */
export async function openSubmit(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'New job' }).click()
  const dialog = page.getByRole('dialog', { name: 'Submit job' })
  await expect(dialog).toBeVisible()
  return dialog
}

/**
 * A real local Slurm and `serve` processes for a describe block: skips it where Slurm is missing,
 * stops every serve and the cluster after each test. `start` writes train.py into a fresh workspace
 * and starts serve with the cluster's environment; `restart` starts another serve on the same data
 * dir, workspace and token (a new port).
 */
export function useSlurmServes(tmpPrefix: string) {
  const why = slurmUnavailable()
  test.skip(why !== null, `needs a local Slurm: ${why}`)
  let cluster: SlurmCluster | undefined
  let dirs: { workspace: string; dataDir: string } | undefined
  const serves: ServeHandle[] = []
  test.afterEach(async () => {
    for (const s of serves.splice(0)) await s.stop()
    await cluster?.stop()
    cluster = undefined
  })
  const sq = (args: string[]) => sh('squeue', ['--noheader', ...args], { env: { ...process.env, ...cluster!.env } }).then((r) => r.stdout)
  return {
    async start(trainPy: string): Promise<ServeHandle> {
      cluster = await startSlurm()
      const root = mkdtempSync(join(tmpdir(), tmpPrefix))
      dirs = { workspace: join(root, 'ws'), dataDir: join(root, 'data') }
      mkdirSync(dirs.workspace, { recursive: true })
      writeFileSync(join(dirs.workspace, 'train.py'), trainPy)
      const s = await startServe({ ...dirs, env: cluster.env })
      serves.push(s)
      return s
    },
    async restart(previous: ServeHandle): Promise<ServeHandle> {
      const s = await startServe({ ...dirs!, token: previous.token, env: cluster!.env })
      serves.push(s)
      return s
    },
    /** `squeue --noheader <args>` against the cluster. */
    squeue: sq
  }
}

/** GET from serve's MLflow REST API. */
export async function mlflowGet<T = any>(s: ServeHandle, path: string, query: Record<string, string>): Promise<T> {
  const r = await fetch(`${s.origin}/api/2.0/mlflow/${path}?${new URLSearchParams(query)}`, { headers: { Authorization: `Bearer ${s.token}` } })
  expect(r.status, `${path}: ${r.status}`).toBe(200)
  return (await r.json()) as T
}

/** The runs of the "Jobs" experiment (name, status, params). */
export async function jobRuns(s: ServeHandle): Promise<{ id: string; name: string; status: string; params: Record<string, string> }[]> {
  const { experiment } = await mlflowGet(s, 'experiments/get-by-name', { experiment_name: 'Jobs' })
  const r = await fetch(`${s.origin}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [experiment.experiment_id], max_results: 100 })
  })
  expect(r.status, `runs/search: ${r.status}`).toBe(200)
  const { runs = [] } = (await r.json()) as { runs?: any[] }
  return runs.map((x) => ({
    id: x.info.run_id,
    name: x.info.run_name,
    status: x.info.status,
    params: Object.fromEntries((x.data.params ?? []).map((p: any) => [p.key, p.value]))
  }))
}

/** The steps of a run's `loss` history, sorted. */
export async function lossSteps(s: ServeHandle, runId: string): Promise<number[]> {
  const { metrics = [] } = await mlflowGet<{ metrics?: { step: number }[] }>(s, 'metrics/get-history', { run_id: runId, metric_key: 'loss' })
  return metrics.map((m) => m.step).sort((a, b) => a - b)
}
