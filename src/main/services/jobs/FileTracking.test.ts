/**
 * Metrics from jobs that cannot reach the tracking server: a target in 'file' mode gives its jobs
 * `MLFLOW_TRACKING_URI=file:<job folder>/mlruns`; the job writes MLflow's file store with the shipped
 * `atelier.tracking`, and the app ingests it into the job's run while the job runs, across an app
 * restart, and once more at the end — on this machine and over SSH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../../testing/slurm'
import { startSshd, sshdUnavailable, type TestSshd } from '../../testing/sshd'
import { parseOffsets } from './fileStore'
import { allLogLines, createJobsTestCore, type JobsTestCore } from './testing'

const why = slurmUnavailable()
if (why) console.warn(`File-store tracking tests skipped: ${why}`)
const PY = '/usr/bin/python3'

/** Logs a loss per step (and a param and a tag) with atelier.tracking; never talks HTTP. */
const TRAIN = `import os, time
from atelier import tracking
print("tracking", os.environ["MLFLOW_TRACKING_URI"].split(":")[0], "token" if os.environ.get("MLFLOW_TRACKING_TOKEN") else "no-token", flush=True)
tracking.log_param("optimizer", "sgd")
tracking.set_tag("phase", "train")
# what the app cannot take is skipped, not retried forever: a name MLflow refuses, a hyperparameter changed
tracking.log_metric("odd%key", 1.0, 0)
if os.environ.get("HP_LR"):
    tracking.log_param("lr", "0.25")
steps, nap = int(os.environ["STEPS"]), float(os.environ["NAP"])
for step in range(steps):
    tracking.log_metric("loss", 1.0 / (step + 1), step)
    time.sleep(nap)
print("done", flush=True)
`

const lossCurve = (n: number) => Array.from({ length: n }, (_, i) => 1 / (i + 1))

describe.skipIf(why !== null)('file-store tracking for jobs without a route to the app (real Slurm)', () => {
  let cluster: SlurmCluster
  let core: JobsTestCore
  beforeAll(async () => {
    cluster = await startSlurm({ cpus: 4 })
  }, 60_000)
  afterAll(async () => {
    await core?.cleanup()
    await cluster?.stop()
  })

  const spec = (targetId: string, steps: number, nap: number) => ({
    name: 'no-route',
    target: { kind: 'slurm', targetId },
    entry: { kind: 'script', path: 'train.py' },
    env: { python: PY, vars: { STEPS: String(steps), NAP: String(nap) } },
    resources: { cpus: 1, timeLimitMin: 5 }
  })
  const history = (c: JobsTestCore, runId: string) => c.call('tracking.metrics.history', { runId, key: 'loss', raw: true })

  it('has the full loss curve in the run: live while the job runs, and after the app is closed and reopened mid-run', async () => {
    const first = await createJobsTestCore({ slurmEnv: cluster.env })
    core = first
    writeFileSync(join(first.workspaceDir, 'train.py'), TRAIN)
    const target = await first.call('jobs.targets.save', { target: { name: 'compute nodes', kind: 'slurm', tracking: 'file' } })
    expect(target.tracking).toBe('file')
    const STEPS = 40
    const job = await first.call('jobs.submit', { spec: { ...spec(target.id, STEPS, 0.2), hyperparameters: { lr: 0.5 } } })
    const detail = await first.call('jobs.get', { jobId: job.id })
    expect(detail.script).toContain(`export MLFLOW_TRACKING_URI='file:${detail.workDir}/mlruns'`)
    expect(detail.script).not.toContain('MLFLOW_TRACKING_TOKEN')
    // live: points arrive while the job is still running
    let live = 0
    for (let i = 0; i < 300 && live < 3; i++) {
      live = (await history(first, job.runId)).total
      if (live < 3) await new Promise((r) => setTimeout(r, 100))
    }
    expect(live).toBeGreaterThanOrEqual(3)
    expect((await first.call('jobs.get', { jobId: job.id })).state).toBe('running')
    const beforeClose = parseOffsets(first.jobs.store.get(job.id)!.tracking_files).metrics.loss
    expect(beforeClose).toBeGreaterThan(0)
    // the app quits mid-run; the job keeps writing its file store
    await first.close()
    await new Promise((r) => setTimeout(r, 1500))
    // still running when the app comes back: the rest of the curve is read by the second app
    expect(execFileSync('squeue', ['--noheader', '-j', job.remoteId, '-o', '%T'], { env: { ...process.env, ...cluster.env }, encoding: 'utf8' }).trim()).toBe('RUNNING')
    const second = await createJobsTestCore({ slurmEnv: cluster.env }, { root: first.root })
    core = second
    const done = await second.waitState(job.id, ['succeeded', 'failed', 'lost'], 60_000)
    expect([done.state, done.reason]).toEqual(['succeeded', null])
    expect(await allLogLines(second, job.id)).toEqual(['tracking file no-token', 'done'])
    const h = await history(second, job.runId)
    // every step once, none missing, none twice
    expect(h.steps).toEqual(Array.from({ length: STEPS }, (_, i) => i))
    expect(h.values).toEqual(lossCurve(STEPS))
    expect(new Set(h.timestamps).size).toBe(STEPS)
    const run = await second.call('tracking.run.get', { runId: job.runId })
    expect(run).toMatchObject({ status: 'FINISHED', params: { optimizer: 'sgd', lr: '0.5' }, tags: { phase: 'train' } })
    expect(run.metrics.map((m: { key: string }) => m.key)).toEqual(['loss'])
    expect(done.metrics).toMatchObject({ loss: 1 / STEPS })
    // the stored offset reached the end of the file, continuing from where the first app left off
    const lossFile = join(detail.workDir, 'mlruns', done.experimentId, job.runId, 'metrics', 'loss')
    expect(parseOffsets(second.jobs.store.get(job.id)!.tracking_files).metrics.loss).toBe(statSync(lossFile).size)
    expect(readFileSync(lossFile, 'utf8').split('\n').filter(Boolean)).toHaveLength(STEPS)
  }, 120_000)

  it('keeps each trial of a sweep (one job array, one file store) in its own run', async () => {
    const c = await createJobsTestCore({ slurmEnv: cluster.env })
    try {
      writeFileSync(join(c.workspaceDir, 'train.py'), TRAIN)
      const target = await c.call('jobs.targets.save', { target: { name: 'compute nodes', kind: 'slurm', tracking: 'file' } })
      const sweep = await c.call('jobs.sweeps.submit', { spec: spec(target.id, 5, 0), sweep: { strategy: 'grid', space: { lr: { values: [0.1, 0.2] } } } })
      const jobs = await Promise.all(sweep.trials.map((t: { jobId: string }) => c.waitState(t.jobId, ['succeeded', 'failed', 'lost'], 60_000)))
      expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded'])
      expect(new Set(jobs.map((j) => j.workDir)).size).toBe(1)
      for (const j of jobs) {
        expect((await history(c, j.runId)).steps).toEqual([0, 1, 2, 3, 4])
        expect((await c.call('tracking.run.get', { runId: j.runId })).params).toEqual({ lr: String(j.hyperparameters.lr), optimizer: 'sgd' })
      }
    } finally {
      await c.cleanup()
    }
  }, 90_000)

  const sshWhy = sshdUnavailable()
  it.skipIf(sshWhy !== null)('ingests the file store of a job on a login node over SSH (listing with find, reading by offset over SFTP)', async () => {
    const sshd: TestSshd = await startSshd([`SetEnv SLURM_CONF=${cluster.conf}`])
    const c = await createJobsTestCore({ slurmEnv: cluster.env })
    try {
      writeFileSync(join(c.workspaceDir, 'train.py'), TRAIN)
      const target = await c.call('jobs.targets.save', {
        target: {
          name: 'login node',
          kind: 'slurm',
          tracking: 'file',
          ssh: { host: '127.0.0.1', port: sshd.port, username: userInfo().username, privateKeyPath: sshd.key, acceptHostKey: sshd.hostFingerprint },
          workRoot: join(sshd.dir, 'work'),
          partition: cluster.partition
        }
      })
      const job = await c.call('jobs.submit', { spec: spec(target.id, 12, 0.05) })
      const done = await c.waitState(job.id, ['succeeded', 'failed', 'lost'], 60_000)
      expect([done.state, done.reason]).toEqual(['succeeded', null])
      expect(done.workDir.startsWith(join(sshd.dir, 'work'))).toBe(true)
      const h = await history(c, job.runId)
      expect(h.steps).toEqual(Array.from({ length: 12 }, (_, i) => i))
      expect(h.values).toEqual(lossCurve(12))
      expect((await c.call('tracking.run.get', { runId: job.runId })).params).toMatchObject({ optimizer: 'sgd' })
    } finally {
      await c.cleanup()
      await sshd.stop()
    }
  }, 90_000)
})
