/** Saved places to run jobs (SSH hosts, Slurm clusters): rows without secrets, passphrases in the secret store. */
import { randomUUID } from 'node:crypto'
import { AppError } from '../../../shared/errors'
import type { JobTarget, JobTargetInput, TargetTestResult } from '../../../shared/jobs'
import type { SecretStore } from '../secrets/SecretStore'
import type { Backends } from './backends'
import type { SshRunner } from './runners'
import { KubernetesBackend } from './KubernetesBackend'
import { SageMakerBackend } from './SageMakerBackend'
import { isCloud, toTarget, type JobStore, type StoredSsh, type TargetRow } from './store'
import { TERMINAL } from './types'

const now = () => new Date().toISOString()

/** Where a SageMaker target's access keys are kept (JSON {accessKeyId, secretAccessKey, sessionToken?}). */
export const awsKeysSecret = (targetId: string) => `jobs.target.${targetId}.aws`

export class JobTargets {
  constructor(private readonly d: { store: JobStore; backends: Backends; secrets: Pick<SecretStore, 'get' | 'set' | 'delete'> }) {}

  list(): JobTarget[] {
    return this.d.store.targets().map((t) => toTarget(t, this.hasSecret(t)))
  }

  private hasSecret(t: TargetRow): boolean {
    return this.d.secrets.get(isCloud(t.kind) ? awsKeysSecret(t.id) : `jobs.target.${t.id}.passphrase`) !== undefined
  }

  /** SageMaker and Kubernetes targets: settings as JSON in the database, AWS keys (if entered) in the secret store. */
  private async saveCloud(input: JobTargetInput): Promise<JobTarget> {
    const id = input.id ?? randomUUID().replace(/-/g, '').slice(0, 12)
    const prev = this.d.store.target(id)
    let config: Record<string, unknown>
    if (input.kind === 'sagemaker') {
      if (!input.sagemaker) throw new AppError('INVALID_SPEC', 'A SageMaker target needs a region, role ARN and S3 bucket.', { fieldErrors: [{ field: 'sagemaker', message: 'required for a SageMaker target' }] })
      const { accessKeyId, secretAccessKey, sessionToken, ...rest } = input.sagemaker
      if (!!accessKeyId !== !!secretAccessKey) {
        throw new AppError('INVALID_SPEC', 'Give both the access key id and the secret access key, or neither.', { fieldErrors: [{ field: 'sagemaker.secretAccessKey', message: 'both keys or neither' }] })
      }
      if (accessKeyId && secretAccessKey) this.d.secrets.set(awsKeysSecret(id), JSON.stringify({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }))
      config = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== ''))
    } else {
      const { s3, ...kube } = input.kubernetes ?? {}
      config = Object.fromEntries(Object.entries(kube).filter(([, v]) => v !== undefined && v !== ''))
      if (s3) {
        // S3 for code: its keys (if entered) go to the secret store, as a SageMaker target's do
        const { accessKeyId, secretAccessKey, sessionToken, ...where } = s3
        if (!!accessKeyId !== !!secretAccessKey) {
          throw new AppError('INVALID_SPEC', 'Give both the access key id and the secret access key, or neither.', { fieldErrors: [{ field: 'kubernetes.s3.secretAccessKey', message: 'both keys or neither' }] })
        }
        if (accessKeyId && secretAccessKey) this.d.secrets.set(awsKeysSecret(id), JSON.stringify({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }))
        config.s3 = Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined && v !== ''))
      }
      if (config.codeFrom === 's3' && !config.s3) {
        throw new AppError('INVALID_SPEC', 'Code from S3 needs an S3 bucket and region for this target.', { fieldErrors: [{ field: 'kubernetes.s3', message: 'required when code comes from S3' }] })
      }
    }
    const row: TargetRow = { id, name: input.name, kind: input.kind, config: JSON.stringify(config), ssh: null, work_root: null, partition: null, tracking: 'direct', created_at: prev?.created_at ?? now() }
    if (prev && prev.kind !== row.kind && !isCloud(prev.kind)) throw new AppError('INVALID_SPEC', 'A host target cannot become a cloud target; add a new target instead.')
    this.d.store.saveTarget(row)
    await this.d.backends.forget(id)
    return toTarget(row, this.hasSecret(row))
  }

  async save(input: JobTargetInput): Promise<JobTarget> {
    if (isCloud(input.kind)) return this.saveCloud(input)
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
    this.d.secrets.delete(awsKeysSecret(id))
  }

  async test(id: string): Promise<TargetTestResult> {
    const t = this.d.store.target(id)
    if (!t) throw new AppError('NOT_FOUND', `No target with id ${id}`)
    const backend = await this.d.backends.get(t.kind, t)
    if (backend instanceof SageMakerBackend || backend instanceof KubernetesBackend) {
      const r = await backend.test()
      const where = backend instanceof SageMakerBackend ? `SageMaker in ${backend.cfg.region}` : `Kubernetes${backend.cfg.context ? ` (${backend.cfg.context})` : ''}`
      return { ok: r.ok, message: r.ok ? `Connected to ${where}.` : `${where}: ${r.problems.join('; ')}`, python: null, slurm: null, gpus: [] }
    }
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
