/** Saved places to run jobs (SSH hosts, Slurm clusters): rows without secrets, passphrases in the secret store. */
import { randomUUID } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import type { JobTarget, JobTargetInput, TargetTestResult } from '../../../shared/jobs'
import type { SecretStore } from '../secrets/SecretStore'
import type { Backends } from './backends'
import type { SshRunner } from './runners'
import { toTarget, type JobStore, type StoredSsh, type TargetRow } from './store'
import { TERMINAL } from './types'

const now = () => new Date().toISOString()

export class JobTargets {
  constructor(private readonly d: { store: JobStore; backends: Backends; secrets: Pick<SecretStore, 'get' | 'set' | 'delete'> }) {}

  list(): JobTarget[] {
    return this.d.store.targets().map((t) => toTarget(t, this.d.secrets.get(`jobs.target.${t.id}.passphrase`) !== undefined))
  }

  async save(input: JobTargetInput): Promise<JobTarget> {
    if (input.kind === 'ssh' && !input.ssh) throw new AppError('INVALID_SPEC', 'An SSH target needs a host and user.', { fieldErrors: [{ field: 'ssh', message: 'required for an SSH target' }] })
    const id = input.id ?? randomUUID().replace(/-/g, '').slice(0, 12)
    const prev = this.d.store.target(id)
    const ssh: StoredSsh | null = input.ssh
      ? { host: input.ssh.host, port: input.ssh.port ?? 22, username: input.ssh.username, privateKeyPath: input.ssh.privateKeyPath, useAgent: input.ssh.useAgent }
      : null
    const row: TargetRow = { id, name: input.name, kind: input.kind, ssh: ssh ? JSON.stringify(ssh) : null, work_root: input.workRoot ?? null, partition: input.partition ?? null, tracking: input.tracking ?? 'direct', created_at: prev?.created_at ?? now() }
    if (input.ssh?.passphrase !== undefined) this.d.secrets.set(`jobs.target.${id}.passphrase`, input.ssh.passphrase)
    this.d.store.saveTarget(row)
    await this.d.backends.forget(id)
    if (input.ssh?.acceptHostKey) {
      // remember the accepted key now (the connection checks it against the fingerprint the user saw)
      const runner = await this.d.backends.sshRunner(row, input.ssh.acceptHostKey)
      try {
        await runner.connect()
      } finally {
        await runner.close()
      }
    }
    return toTarget(row, this.d.secrets.get(`jobs.target.${id}.passphrase`) !== undefined)
  }

  async remove(id: string): Promise<void> {
    if (this.d.store.unfinished().some((r) => r.target_id === id && !TERMINAL.has(r.state))) {
      throw new AppError('JOB_ERROR', 'This target still has unfinished jobs; cancel them or wait until they end.')
    }
    await this.d.backends.forget(id)
    this.d.store.removeTarget(id)
    this.d.secrets.delete(`jobs.target.${id}.passphrase`)
  }

  async test(id: string): Promise<TargetTestResult> {
    const t = this.d.store.target(id)
    if (!t) throw new AppError('NOT_FOUND', `No target with id ${id}`)
    const backend = await this.d.backends.get(t.kind, t)
    const runner = (backend as unknown as { runner: { sh: SshRunner['sh']; label: string } }).runner
    const r = await runner.sh(
      'command -v python3 || true; echo "--"; (sinfo --version 2>/dev/null || true); echo "--"; (sinfo -h -o %P 2>/dev/null || true); echo "--"; (nvidia-smi --query-gpu=index,name --format=csv,noheader 2>/dev/null || true)'
    )
    const [py, ver, parts, gpus] = r.stdout.split('--\n').map((s) => s.trim())
    const slurm = ver ? { version: ver.replace(/^slurm(-wlm)?\s*/, ''), partitions: parts.split('\n').filter(Boolean) } : null
    const problems = t.kind === 'slurm' && !slurm ? 'sbatch/sinfo not found' : null
    return {
      ok: !problems,
      message: problems ? `Connected to ${runner.label}, but ${problems}.` : `Connected to ${runner.label}.`,
      python: py || null,
      slurm,
      gpus: gpus ? gpus.split('\n').filter(Boolean) : []
    }
  }
}
