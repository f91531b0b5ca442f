/** Builds (and caches) the backend for a job's target: this machine, a saved SSH host, a Slurm cluster, SageMaker or Kubernetes. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '../../../shared/errors'
import type { JobBackendKind } from '../../../shared/jobs'
import type { Logger } from '../../log'
import type { KnownHostsStore } from '../ssh/connect'
import type { AwsCredentialIdentity } from '@aws-sdk/types'
import { HostBackend } from './HostBackend'
import { KubernetesBackend, type KubernetesTargetConfig } from './KubernetesBackend'
import { SageMakerBackend, type SageMakerTargetConfig } from './SageMakerBackend'
import { LocalRunner, SshRunner } from './runners'
import { SlurmBackend } from './SlurmBackend'
import { DEFAULT_WORK_ROOT, type StoredSsh, type TargetRow } from './store'
import type { JobBackend } from './types'

export interface BackendFactoryDeps {
  dataDir: string
  log: Logger
  knownHosts: KnownHostsStore
  passphrase(targetId: string): string | undefined
  /** Environment for the local Slurm CLI (SLURM_CONF…); default: this process's. */
  slurmEnv?: Record<string, string>
  localConcurrency: number
  localGpus: number[]
  graceSeconds?: number
  /** A SageMaker target's access keys from the secret store (absent: its profile or the SDK's chain). */
  awsKeys?(targetId: string): AwsCredentialIdentity | undefined
  /** Settings applied to every cloud backend (poll/log intervals in tests and the bench). */
  cloud?: { sagemaker?: Partial<SageMakerTargetConfig>; kubernetes?: Partial<KubernetesTargetConfig> }
}

export class Backends {
  private readonly cache = new Map<string, JobBackend>()

  constructor(private readonly d: BackendFactoryDeps) {}

  get jobsRoot(): string {
    return join(this.d.dataDir, 'jobs')
  }

  key(backend: string, targetId: string | null): string {
    return `${backend}:${targetId ?? ''}`
  }

  async sshRunner(t: TargetRow, acceptFingerprint?: string): Promise<SshRunner> {
    const ssh = JSON.parse(t.ssh!) as StoredSsh
    const privateKey = ssh.privateKeyPath
      ? await readFile(ssh.privateKeyPath).catch((err: Error) => {
          throw new AppError('SSH_ERROR', `Cannot read the SSH key ${ssh.privateKeyPath} for ${ssh.host}: ${err.message}`, { host: ssh.host })
        })
      : undefined
    return new SshRunner(
      {
        host: ssh.host,
        port: ssh.port,
        username: ssh.username,
        privateKey,
        passphrase: this.d.passphrase(t.id),
        agent: ssh.useAgent || !privateKey ? process.env.SSH_AUTH_SOCK : undefined,
        knownHosts: this.d.knownHosts,
        acceptFingerprint
      },
      this.d.log
    )
  }

  /** The backend for (kind, target); built once. */
  async get(kind: JobBackendKind, target: TargetRow | null): Promise<JobBackend> {
    const key = this.key(kind, target?.id ?? null)
    const have = this.cache.get(key)
    if (have) return have
    let b: JobBackend
    if (kind === 'local') {
      b = new HostBackend({
        kind: 'local',
        runner: new LocalRunner(),
        workRoot: this.jobsRoot,
        concurrency: this.d.localConcurrency,
        gpus: this.d.localGpus,
        graceSeconds: this.d.graceSeconds
      })
    } else if (kind === 'ssh') {
      if (!target?.ssh) throw new AppError('NOT_FOUND', 'The SSH target of this job no longer exists.')
      b = new HostBackend({ kind: 'ssh', runner: await this.sshRunner(target), workRoot: target.work_root ?? DEFAULT_WORK_ROOT, graceSeconds: this.d.graceSeconds })
    } else if (kind === 'sagemaker') {
      if (target?.kind !== 'sagemaker') throw new AppError('NOT_FOUND', 'The SageMaker target of this job no longer exists.')
      const cfg = JSON.parse(target.config ?? '{}') as SageMakerTargetConfig
      const keys = this.d.awsKeys?.(target.id)
      b = new SageMakerBackend({ ...cfg, ...(keys ? { credentials: keys } : {}), ...this.d.cloud?.sagemaker })
    } else if (kind === 'kubernetes') {
      if (target?.kind !== 'kubernetes') throw new AppError('NOT_FOUND', 'The Kubernetes target of this job no longer exists.')
      const cfg = JSON.parse(target.config ?? '{}') as KubernetesTargetConfig
      const keys = cfg.s3 ? this.d.awsKeys?.(target.id) : undefined
      b = new KubernetesBackend({ ...cfg, ...(cfg.s3 && keys ? { s3: { ...cfg.s3, credentials: keys } } : {}), ...this.d.cloud?.kubernetes })
    } else {
      const runner = target?.ssh ? await this.sshRunner(target) : new LocalRunner(this.d.slurmEnv ?? {})
      b = new SlurmBackend({ runner, workRoot: target?.work_root ?? (target?.ssh ? DEFAULT_WORK_ROOT : this.jobsRoot), partition: target?.partition })
    }
    this.cache.set(key, b)
    return b
  }

  /** Drops a cached backend (target edited or removed). */
  async forget(targetId: string): Promise<void> {
    for (const [k, b] of this.cache) {
      if (k.endsWith(`:${targetId}`)) {
        this.cache.delete(k)
        await b.dispose().catch(() => undefined)
      }
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.cache.values()]
    this.cache.clear()
    await Promise.all(all.map((b) => b.dispose().catch(() => undefined)))
  }
}
