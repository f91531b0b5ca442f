import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../../testing/slurm'
import { startSshd, sshdUnavailable, type TestSshd } from '../../testing/sshd'
import { allLogLines, createJobsTestCore, type JobsTestCore } from './testing'

const why = slurmUnavailable()
if (why) console.warn(`Slurm job tests skipped: ${why}`)
const PY = '/usr/bin/python3'

/** A training script that logs loss through the MLflow REST API (plain urllib) and prints it for the regex. */
const TRAIN = `import json, os, sys, time, urllib.request
lr = float(os.environ.get("HP_LR", "0.1"))
print("pid", os.getpid(), flush=True)
def log_metric(key, value, step):
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        return
    body = json.dumps({"run_id": os.environ["MLFLOW_RUN_ID"], "key": key, "value": value, "timestamp": int(time.time() * 1000), "step": step}).encode()
    req = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ.get("MLFLOW_TRACKING_TOKEN", "")})
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except Exception as e:  # the app may be closed while the job runs (re-attach test)
        print("mlflow unreachable:", e, file=sys.stderr, flush=True)
for step in range(3):
    loss = round(lr * (3 - step), 4)
    print(f"step={step} loss={loss}", flush=True)
    log_metric("mlflow_loss", loss, step)
time.sleep(float(os.environ.get("NAP", "0")))
print("finished", flush=True)
`

describe.skipIf(why !== null)('Slurm jobs (real slurmctld + slurmd on this host)', () => {
  let cluster: SlurmCluster
  let core: JobsTestCore
  const env = () => ({ ...process.env, ...cluster.env })
  const squeue = (id: string) => execFileSync('squeue', ['--noheader', '-t', 'all', '-j', id, '-o', '%T'], { env: env(), encoding: 'utf8' }).trim()

  beforeAll(async () => {
    cluster = await startSlurm({ cpus: 4 })
    core = await createJobsTestCore({ slurmEnv: cluster.env })
    writeFileSync(join(core.workspaceDir, 'train.py'), TRAIN)
  }, 90_000)
  afterAll(async () => {
    await core?.cleanup()
    await cluster?.stop()
  })

  const spec = (extra: Record<string, unknown> = {}) => ({
    name: 'slurm-train',
    target: { kind: 'slurm' },
    entry: { kind: 'script', path: 'train.py' },
    env: { python: PY },
    resources: { cpus: 1, memoryMb: 100, timeLimitMin: 5 },
    metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
    ...extra
  })

  it('submits through sbatch, stores the Slurm id at once, and finishes with its log, regex and MLflow metrics', async () => {
    const job = await core.call('jobs.submit', { spec: spec({ hyperparameters: { lr: 0.5 } }) })
    expect(job.remoteId).toMatch(/^\d+$/)
    expect(squeue(job.remoteId)).not.toBe('')
    const done = await core.waitState(job.id, ['succeeded', 'failed', 'lost'])
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0 })
    const lines = await allLogLines(core, job.id)
    expect(lines.slice(1)).toEqual(['step=0 loss=1.5', 'step=1 loss=1.0', 'step=2 loss=0.5', 'finished'])
    expect(done.metrics).toMatchObject({ loss: 0.5, mlflow_loss: 0.5 })
    expect(done.script).toContain('#SBATCH --cpus-per-task=1')
    expect(done.script).toContain('#SBATCH --mem=100M')
    expect(done.script).toContain('#SBATCH --time=5')
    const run = await core.call('tracking.run.get', { runId: done.runId })
    expect(run).toMatchObject({ status: 'FINISHED', params: { lr: '0.5' } })
    expect(run.tags).toMatchObject({ 'atelier.job.backend': 'slurm', 'atelier.job.remote_id': job.remoteId, 'atelier.job.resources.cpus': '1' })
  })

  it("shows sbatch's rejection verbatim and keeps nothing running", async () => {
    const gpu = await core.call('jobs.submit', { spec: spec({ name: 'gpu', resources: { gpus: 1 } }) }).catch((e) => e)
    expect(gpu.code).toBe('SLURM_REJECTED')
    expect(gpu.message).toBe('sbatch: error: Invalid generic resource (gres) specification')
    const part = await core.call('jobs.submit', { spec: spec({ name: 'part', resources: { partition: 'nope' } }) }).catch((e) => e)
    expect(part.code).toBe('SLURM_REJECTED')
    expect(part.message).toContain('sbatch: error: invalid partition specified: nope')
    const failed = (await core.call('jobs.list', { states: ['failed'] })).find((j: any) => j.name === 'part')
    expect(failed.reason).toContain('invalid partition')
  })

  it('cancels with scancel', async () => {
    const job = await core.call('jobs.submit', { spec: spec({ name: 'long', env: { python: PY, vars: { NAP: '120' } } }) })
    await core.waitState(job.id, ['running'])
    expect((await core.call('jobs.cancel', { jobId: job.id })).state).toBe('cancelled')
    for (let i = 0; i < 50 && squeue(job.remoteId) !== 'CANCELLED'; i++) await new Promise((r) => setTimeout(r, 100))
    expect(squeue(job.remoteId)).toBe('CANCELLED')
    expect((await core.call('tracking.run.get', { runId: job.runId })).status).toBe('KILLED')
  })

  it('reports a job killed on the node as failed with the signal', async () => {
    const job = await core.call('jobs.submit', { spec: spec({ name: 'victim', env: { python: PY, vars: { NAP: '120' } } }) })
    await core.waitState(job.id, ['running'])
    let pid = 0
    for (let i = 0; i < 50 && !pid; i++) {
      pid = Number((await allLogLines(core, job.id))[0]?.split(' ')[1] ?? 0)
      if (!pid) await new Promise((r) => setTimeout(r, 100))
    }
    process.kill(pid, 'SIGKILL')
    const done = await core.waitState(job.id, ['failed', 'lost', 'succeeded', 'cancelled'])
    expect(done.state).toBe('failed')
    expect(done.reason).toMatch(/signal 9/)
  })

  it('runs a grid sweep as ONE job array and ranks the trials by objective', async () => {
    const sweep = await core.call('jobs.sweeps.submit', {
      spec: spec({ name: 'sweep' }),
      sweep: { strategy: 'grid', space: { lr: { values: [0.3, 0.1] } }, concurrency: 2, objective: { metric: 'loss', goal: 'minimize' } }
    })
    expect(sweep.trials).toHaveLength(2)
    const jobs = await Promise.all(sweep.trials.map((t: any) => core.call('jobs.get', { jobId: t.jobId })))
    const arrayId = jobs[0].remoteId.split('_')[0]
    expect(jobs.map((j: any) => j.remoteId)).toEqual([`${arrayId}_0`, `${arrayId}_1`])
    expect(jobs[0].script).toContain('#SBATCH --array=0-1%2')
    for (const j of jobs) expect((await core.waitState(j.id, ['succeeded', 'failed', 'lost'])).state).toBe('succeeded')
    await core.jobs.tick()
    const final = await core.call('jobs.sweeps.get', { sweepId: sweep.id })
    expect(final).toMatchObject({ state: 'finished', done: 2, bestTrial: 1 })
    expect(final.trials.map((t: any) => t.objective)).toEqual([0.3, 0.1])
    expect(final.trials[1].hyperparameters).toEqual({ lr: 0.1 })
    expect(await allLogLines(core, jobs[1].id)).toContain('step=2 loss=0.1')
    expect(core.seen.some((e) => e.name === 'sweep.status' && e.payload.id === sweep.id && e.payload.state === 'finished')).toBe(true)
  })

  it('re-attaches to a job after the app restarts and reads its full log', async () => {
    const first = await createJobsTestCore({ slurmEnv: cluster.env })
    writeFileSync(join(first.workspaceDir, 'train.py'), TRAIN)
    const job = await first.call('jobs.submit', { spec: spec({ name: 'survivor', env: { python: PY, vars: { NAP: '3' } } }) })
    await first.waitState(job.id, ['running'])
    await first.close() // the app quits; the job keeps running in Slurm
    expect(['RUNNING', 'COMPLETING', 'COMPLETED']).toContain(squeue(job.remoteId))
    const second = await createJobsTestCore({ slurmEnv: cluster.env }, { root: first.root })
    try {
      const done = await second.waitState(job.id, ['succeeded', 'failed', 'lost'])
      expect([done.state, done.reason]).toEqual(['succeeded', null])
      const lines = (await allLogLines(second, job.id)).filter((l) => !l.startsWith('mlflow unreachable'))
      expect(lines.slice(1)).toEqual(['step=0 loss=0.3', 'step=1 loss=0.2', 'step=2 loss=0.1', 'finished'])
      expect(done.metrics.loss).toBe(0.1)
    } finally {
      await second.cleanup()
    }
  })

  const sshWhy = sshdUnavailable()
  it.skipIf(sshWhy !== null)('submits to Slurm on a login node over SSH (sshd on loopback whose commands reach this Slurm)', async () => {
    const sshd: TestSshd = await startSshd([`SetEnv SLURM_CONF=${cluster.conf}`])
    try {
      const target = await core.call('jobs.targets.save', {
        target: {
          name: 'login node',
          kind: 'slurm',
          ssh: { host: '127.0.0.1', port: sshd.port, username: userInfo().username, privateKeyPath: sshd.key, acceptHostKey: sshd.hostFingerprint },
          workRoot: join(sshd.dir, 'work'),
          partition: cluster.partition
        }
      })
      const test = await core.call('jobs.targets.test', { targetId: target.id })
      expect(test.slurm.partitions).toContain(`${cluster.partition}*`)
      const job = await core.call('jobs.submit', { spec: spec({ name: 'via-ssh', target: { kind: 'slurm', targetId: target.id }, hyperparameters: { lr: 0.2 } }) })
      expect(job.remoteId).toMatch(/^\d+$/)
      const done = await core.waitState(job.id, ['succeeded', 'failed', 'lost'])
      expect([done.state, done.reason]).toEqual(['succeeded', null])
      expect(done.script).toContain(`#SBATCH --partition=${cluster.partition}`)
      expect((await allLogLines(core, job.id)).slice(1)).toEqual(['step=0 loss=0.6', 'step=1 loss=0.4', 'step=2 loss=0.2', 'finished'])
      // through the reverse tunnel, the script's MLflow calls reached this app's tracking store
      expect(done.metrics).toMatchObject({ loss: 0.2, mlflow_loss: 0.2 })
    } finally {
      await sshd.stop()
    }
  })
})
