/**
 * Jobs as detached processes on a host: this machine (`local`) or a GPU box over SSH (`ssh`).
 * Each job gets a folder with its source copy, a `run.sh` wrapper that records its pid and, when
 * the command ends, its exit code in an `exit` file; it is started with `setsid nohup`, so it is
 * its own process group and survives the app and dropped connections. Status is the exit file or
 * `kill -0 pid` — readable by an app that did not start the job. Cancel kills the process group.
 */
import { execFile } from 'node:child_process'
import { posix } from 'node:path'
import { constants } from 'node:os'
import type { JobSpec } from '../../../shared/jobs'
import { AppError } from '../../../shared/errors'
import { exportLines, q } from './spec'
import type { JobBackend, JobRef, PreparedJob, Runner, StatusUpdate, Submitted } from './types'

export interface HostBackendOptions {
  kind: 'local' | 'ssh'
  runner: Runner
  /** Folder under which each job gets `<jobId>/` (absolute or `~/…`). */
  workRoot: string
  /** Local: how many jobs run at once (others wait queued). */
  concurrency?: number
  /** Local: GPU indices found with nvidia-smi. */
  gpus?: number[]
  /** Seconds between SIGTERM and SIGKILL on cancel. */
  graceSeconds?: number
}

const SIGNALS = Object.fromEntries(Object.entries(constants.signals).map(([name, n]) => [n, name])) as Record<number, string>

/** failed/succeeded from an exit code; 128+N is death by signal N. */
export function outcome(code: number): StatusUpdate {
  if (code === 0) return { state: 'succeeded', exitCode: 0, reason: null }
  if (code > 128 && code < 160) return { state: 'failed', exitCode: code, reason: `killed by signal ${code - 128}${SIGNALS[code - 128] ? ` (${SIGNALS[code - 128]})` : ''}` }
  return { state: 'failed', exitCode: code, reason: `exited with code ${code}` }
}

/** GPU indices on this machine (`nvidia-smi --query-gpu=index,name`), [] without NVIDIA GPUs. */
export function detectGpus(): Promise<{ index: number; name: string }[]> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=index,name', '--format=csv,noheader'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve([])
      resolve(
        String(stdout)
          .split('\n')
          .map((l) => l.split(',').map((s) => s.trim()))
          .filter((p) => p[0] !== '' && !Number.isNaN(Number(p[0])))
          .map(([i, name]) => ({ index: Number(i), name: name ?? '' }))
      )
    })
  })
}

export class HostBackend implements JobBackend {
  readonly kind: 'local' | 'ssh'

  constructor(private readonly o: HostBackendOptions) {
    this.kind = o.kind
  }

  get runner(): Runner {
    return this.o.runner
  }

  /** Local only: a free slot and enough free GPUs among the jobs now active. */
  hasCapacity(spec: JobSpec, active: JobRef[] = []): boolean {
    if (this.o.concurrency !== undefined && active.length >= this.o.concurrency) return false
    const want = spec.resources?.gpus ?? 0
    return want === 0 || this.freeGpus(active).length >= want
  }

  private freeGpus(active: JobRef[]): number[] {
    const used = new Set(active.flatMap((j) => (j.extra.gpus as number[] | undefined) ?? []))
    return (this.o.gpus ?? []).filter((g) => !used.has(g))
  }

  async workDirOf(folderId: string): Promise<string> {
    return posix.join(await this.o.runner.resolve(this.o.workRoot), folderId)
  }

  async submit(job: PreparedJob, active: JobRef[] = []): Promise<Submitted> {
    const task = job.tasks[0]
    const workDir = await this.workDirOf(job.folderId)
    const src = posix.join(workDir, 'src')
    if (job.sourceDir && job.files.length > 0) await this.o.runner.upload(job.sourceDir, job.files, src)
    const want = job.spec.resources?.gpus ?? 0
    const gpus = want > 0 ? this.freeGpus(active).slice(0, want) : []
    const env: Record<string, string> = { ...job.env, ...task.env }
    if (this.kind === 'local' && (this.o.gpus?.length ?? 0) > 0) env.CUDA_VISIBLE_DEVICES = gpus.join(',')
    const script = [
      '#!/bin/bash',
      `# Atelier job ${job.name} (${task.jobId}) — started with setsid nohup; writes pid and exit beside this file.`,
      `echo $$ > ${q(posix.join(workDir, 'pid'))}`,
      `mkdir -p ${q(src)} && cd ${q(src)} || exit 1`,
      exportLines(env),
      ...(job.shell ?? []),
      job.spec.outputDir ? `mkdir -p ${q(job.spec.outputDir)}` : '',
      task.command,
      'code=$?',
      `echo $code > ${q(posix.join(workDir, 'exit.tmp'))} && mv ${q(posix.join(workDir, 'exit.tmp'))} ${q(posix.join(workDir, 'exit'))}`,
      'exit $code'
    ]
      .filter((l) => l !== '')
      .join('\n')
    // in one batch, after the upload (a generated file replaces a source file of the same name)
    await this.o.runner.writeFiles([
      ...Object.entries(job.support ?? {}).map(([name, content]) => ({ path: posix.join(workDir, name), content })),
      ...Object.entries(job.generated).map(([name, content]) => ({ path: posix.join(src, name), content })),
      { path: posix.join(workDir, 'run.sh'), content: script + '\n', mode: 0o755 }
    ])
    const log = posix.join(workDir, 'output.log')
    // (not `cd && setsid … &`: that would background a subshell holding our stdout, and $! would be its pid)
    const r = await this.o.runner.sh(`cd ${q(workDir)} || exit 1\nsetsid nohup bash run.sh > ${q(log)} 2>&1 < /dev/null &\necho $!`)
    const pid = Number(r.stdout.trim())
    if (r.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
      throw new AppError('JOB_ERROR', `Could not start the job on ${this.o.runner.label}: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`)
    }
    const host = this.kind === 'local' ? 'localhost' : this.o.runner.label
    return { remoteIds: [`${pid}@${host}`], workDir, logPaths: [log], script, extra: { pid, gpus } }
  }

  async poll(jobs: JobRef[]): Promise<Map<string, StatusUpdate>> {
    const out = new Map<string, StatusUpdate>()
    const tracked = jobs.filter((j) => j.workDir)
    if (tracked.length === 0) return out
    // one round trip for every job on this host
    const launched = tracked.map((j) => Number(j.extra.pid ?? String(j.remoteId ?? '').split('@')[0]) || 0)
    const script = `dirs=(${tracked.map((j) => q(j.workDir!)).join(' ')}); launched=(${launched.join(' ')})
for i in "\${!dirs[@]}"; do d="\${dirs[$i]}"
  if [ -f "$d/exit" ]; then echo "E $(cat "$d/exit")"
  elif [ -f "$d/pid" ]; then p=$(cat "$d/pid"); st=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)
    if kill -0 "$p" 2>/dev/null && [ "$st" != "Z" ]; then echo R; elif [ -f "$d/exit" ]; then echo "E $(cat "$d/exit")"; else echo G; fi
  elif [ "\${launched[$i]}" -gt 0 ] && kill -0 "\${launched[$i]}" 2>/dev/null; then echo S
  elif [ -f "$d/pid" ]; then echo R
  else echo G; fi
done`
    const r = await this.o.runner.sh(script)
    const lines = r.stdout.split('\n').filter((l) => l !== '')
    if (r.code !== 0 || lines.length !== tracked.length) throw new AppError('JOB_ERROR', `Status check on ${this.o.runner.label} failed: ${r.stderr.trim()}`)
    tracked.forEach((j, i) => {
      const l = lines[i]
      if (l.startsWith('E ')) out.set(j.id, outcome(Number(l.slice(2).trim())))
      else if (l === 'R') out.set(j.id, { state: 'running' })
      else if (l === 'S') out.set(j.id, { state: 'starting' })
      else out.set(j.id, { state: 'lost', reason: `the process ended without recording an exit code (killed, or ${this.kind === 'local' ? 'the machine' : 'the host'} restarted)` })
    })
    return out
  }

  readLog(job: JobRef, fromByte: number, maxBytes: number): Promise<Buffer> {
    if (!job.logPath) return Promise.resolve(Buffer.alloc(0))
    return this.o.runner.read(job.logPath, fromByte, maxBytes)
  }

  async cancel(jobs: JobRef[]): Promise<void> {
    const dirs = jobs.filter((j) => j.workDir).map((j) => q(j.workDir!))
    if (dirs.length === 0) return
    const grace = Math.max(1, Math.round((this.o.graceSeconds ?? 5) * 5))
    // SIGTERM to each process group, then SIGKILL to those still there after the grace period
    const r = await this.o.runner.sh(`pids=""
for d in ${dirs.join(' ')}; do [ -f "$d/pid" ] && p=$(cat "$d/pid") && kill -TERM -- "-$p" 2>/dev/null && pids="$pids $p"; done
for i in $(seq ${grace}); do alive=""; for p in $pids; do kill -0 -- "-$p" 2>/dev/null && alive="$alive $p"; done; [ -z "$alive" ] && break; sleep 0.2; done
for p in $pids; do kill -KILL -- "-$p" 2>/dev/null; done
true`)
    if (r.code !== 0) throw new AppError('JOB_ERROR', `Cancel on ${this.o.runner.label} failed: ${r.stderr.trim()}`)
  }

  async dispose(): Promise<void> {
    await this.o.runner.close()
  }
}
