/**
 * `npm run bench:jobs`: training jobs on a real single-node Slurm started here.
 *  1. submit-to-running: JobService.submit (validate, job row, tracking run, packaging, sbatch,
 *     the poll loop seeing RUNNING) against raw `sbatch` + polling `squeue` at the same interval,
 *     in the same run, several repetitions, medians.
 *  2. 1,000 tracked jobs (a held job array): one refresh issues ONE squeue call; its time.
 * Prints `name: value` lines.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Events, JobInfo } from '../src/shared/api'
import { createCore } from '../src/main/core'
import { openDatabase } from '../src/main/db'
import { silentLogger } from '../src/main/log'
import { JobService } from '../src/main/services/jobs/JobService'
import { LocalRunner } from '../src/main/services/jobs/runners'
import { SlurmBackend } from '../src/main/services/jobs/SlurmBackend'
import { TrackingService } from '../src/main/services/tracking/TrackingService'
import { slurmUnavailable, startSlurm } from '../src/main/testing/slurm'

const REPS = Number(process.env.BENCH_REPS ?? 9)
const POLL_MS = 100 // the app's fast poll interval after a submit; the raw loop polls squeue as often
const TRACKED = 1000

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (ms: number) => ms.toFixed(1)
const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve(String(stdout))))
  )
}

async function main() {
  const why = slurmUnavailable()
  if (why) {
    line('skipped', why)
    return
  }
  const cluster = await startSlurm({ cpus: 8 })
  const env = { ...process.env, ...cluster.env }
  const root = mkdtempSync(join(tmpdir(), 'atelier-bench-jobs-'))
  const ws = join(root, 'ws')
  mkdirSync(ws)
  writeFileSync(join(ws, 'train.py'), 'import time\nprint("training", flush=True)\ntime.sleep(30)\n')
  try {
    // ---------- 1. submit-to-running ----------
    const core = await createCore({ dataDir: join(root, 'data'), workspace: ws, mode: 'test', log: silentLogger, extensionRepository: 'http://127.0.0.1:9', jobs: { slurmEnv: cluster.env, fastPollMs: POLL_MS } })
    const raw: number[] = []
    const ours: number[] = []
    const outDir = join(root, 'raw')
    mkdirSync(outDir)
    const runningOf = (jobId: string) =>
      new Promise<void>((resolve) => {
        const off = core.events.on('job.status', (j: Events['job.status']) => {
          if (j.id === jobId && j.state === 'running') {
            off()
            resolve()
          }
        })
      })
    const verified: string[] = []
    const rawCall: number[] = []
    const oursCall: number[] = []
    const viaRaw = async () => {
      // raw: sbatch, then squeue every POLL_MS until RUNNING
      const t = performance.now()
      const id = (await sh('sbatch', ['--parsable', `--output=${outDir}/%j.out`, '--cpus-per-task=1', '--wrap', 'sleep 30'], env)).trim().split(';')[0]
      rawCall.push(performance.now() - t)
      for (;;) {
        const st = (await sh('squeue', ['--noheader', '-j', id, '-o', '%T'], env)).trim()
        if (st === 'RUNNING') break
        await sleep(POLL_MS)
      }
      raw.push(performance.now() - t)
      await sh('scancel', [id], env)
    }
    const viaAtelier = async (i: number) => {
      // ours: jobs.submit through the router (validation, row, run, packaging, sbatch) until the job.status event says running
      const t = performance.now()
      const job = (await core.router.dispatch('jobs.submit', {
        spec: { name: `bench-${i}`, target: { kind: 'slurm' }, entry: { kind: 'script', path: 'train.py' }, env: { python: '/usr/bin/python3' }, resources: { cpus: 1 } }
      })) as JobInfo
      oursCall.push(performance.now() - t)
      const seen = runningOf(job.id)
      if (core.jobs.get(job.id).state !== 'running') await seen
      ours.push(performance.now() - t)
      // Slurm agrees at that moment
      verified.push((await sh('squeue', ['--noheader', '-j', job.remoteId!, '-o', '%T'], env)).trim())
      await core.jobs.cancel(job.id)
    }
    for (let i = 0; i < REPS; i++) {
      // alternate which goes first, so neither profits from the other's scancel waking the scheduler
      if (i % 2 === 0) {
        await viaRaw()
        await sleep(300)
        await viaAtelier(i)
      } else {
        await viaAtelier(i)
        await sleep(300)
        await viaRaw()
      }
      await sleep(300)
    }
    console.error(`bench: raw ms ${raw.map(fmt).join(' ')}`)
    console.error(`bench: atelier ms ${ours.map(fmt).join(' ')}`)
    line('slurm_state_when_atelier_said_running', [...new Set(verified)].join(','))
    line('slurm_submit_to_running_raw_sbatch_squeue_ms', fmt(median(raw)))
    line('slurm_submit_to_running_atelier_ms', fmt(median(ours)))
    line('slurm_submit_to_running_added_ms', fmt(median(ours) - median(raw)))
    line('slurm_submit_to_running_ratio', (median(ours) / median(raw)).toFixed(3))
    line('slurm_submit_to_running_added_under_200ms', median(ours) - median(raw) <= 200 ? 'yes' : 'no')
    line('slurm_submit_to_running_reps', REPS)
    line('submit_call_raw_sbatch_ms', fmt(median(rawCall)))
    line('submit_call_atelier_ms', fmt(median(oursCall)))
    line('submit_call_added_ms', fmt(median(oursCall) - median(rawCall)))
    line('slurm_poll_interval_ms', POLL_MS)
    await core.dispose()

    // ---------- 2. 1,000 tracked jobs, one squeue ----------
    const arrayId = (await sh('sbatch', ['--parsable', '--hold', `--array=0-${TRACKED - 1}`, `--output=${outDir}/held-%A_%a.out`, '--wrap', 'true'], env)).trim().split(';')[0]
    const db = openDatabase(join(root, 'tracked.db'))
    const tracking = new TrackingService({ db, dataDir: join(root, 'tracked'), emit: () => {}, log: silentLogger })
    const jobs = new JobService({
      db,
      dataDir: join(root, 'tracked'),
      tracking,
      secrets: { get: () => undefined, set: () => {}, delete: () => {} },
      knownHosts: { get: () => undefined, set: () => {} },
      emit: () => {},
      log: silentLogger,
      workspacePath: () => ws,
      slurmEnv: cluster.env,
      pollMs: 600_000,
      fastPollMs: 600_000
    })
    const now = new Date().toISOString()
    const insert = db.transaction(() => {
      for (let i = 0; i < TRACKED; i++) {
        jobs.store.insertJob({
          id: `held${i}`,
          name: `held ${i}`,
          backend: 'slurm',
          target_id: null,
          target_name: 'Slurm (this machine)',
          spec: JSON.stringify({ name: 'held', target: { kind: 'slurm' }, entry: { kind: 'command', command: 'true' } }),
          hyperparameters: '{}',
          submitted_at: now,
          remote_id: `${arrayId}_${i}`,
          work_dir: outDir,
          log_path: join(outDir, `held-${arrayId}_${i}.out`),
          extra: JSON.stringify({ localLog: join(outDir, `held-${arrayId}_${i}.out`) })
        })
      }
    })
    insert()
    const backend = (await jobs.backendOf({ backend: 'slurm', target_id: null })) as SlurmBackend
    const runner = backend.runner as LocalRunner
    const times: number[] = []
    let calls = 0
    for (let i = 0; i < 5; i++) {
      const c0 = runner.calls
      const t = performance.now()
      await jobs.tick()
      times.push(performance.now() - t)
      calls = runner.calls - c0
    }
    const states = new Set(jobs.list({ limit: 10_000 }).map((j) => j.state))
    line('tracked_jobs', TRACKED)
    line('tracked_jobs_states', [...states].join(','))
    line('refresh_cli_calls_for_1000_jobs', calls)
    line('refresh_1000_jobs_ms', fmt(median(times)))
    line('refresh_one_squeue_call', calls === 1 ? 'yes' : 'no')
    await sh('scancel', [arrayId], env)
    await jobs.dispose()
    tracking.dispose()
    db.close()
  } finally {
    await cluster.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  }
)
