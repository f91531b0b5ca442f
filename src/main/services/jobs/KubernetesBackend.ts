/**
 * Jobs on Kubernetes: a `batch/v1` Job for one process, a Kubeflow `PyTorchJob` (master + workers,
 * nprocPerNode) for distributed PyTorch. The source files travel in a ConfigMap mounted at
 * /atelier/src while they fit (about 1 MiB); larger folders, or every folder when the target says
 * `codeFrom: 's3'`, go to S3 as `sourcedir.tar.gz` (packed as for SageMaker) and an init container
 * downloads it through a presigned URL and unpacks it into an emptyDir at /atelier/src. Every object carries `atelier.dev/job=<id>`, so one watch on
 * the namespace's pods follows all jobs (no polling) and finds them again after a restart.
 * Scheduling problems are the scheduler's own FailedScheduling event, verbatim.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node'
import { AppError } from '../../../shared/errors'
import type { JobState } from '../../../shared/jobs'
import type { JobBackend, JobRef, PreparedJob, StatusUpdate, Submitted } from './types'
import { packSource } from './SageMakerBackend'
import { S3Code, type S3CodeConfig } from './s3Code'

export interface KubernetesTargetConfig {
  /** Kubeconfig file (default ~/.kube/config or $KUBECONFIG). */
  kubeconfigPath?: string
  context?: string
  namespace?: string
  /** Largest source folder shipped in a ConfigMap (bytes). */
  maxConfigMapBytes?: number
  /** How code reaches the pods: a ConfigMap, or S3; unset: a ConfigMap while it fits, else S3 when `s3` is set. */
  codeFrom?: 'configmap' | 's3'
  /** Where `sourcedir.tar.gz` goes for code from S3 (bucket, prefix, region; credentials as for SageMaker targets). */
  s3?: S3CodeConfig
  /** Image of the init container that fetches code from S3: needs sh, curl and tar. */
  fetchImage?: string
  /** Least time between two log fetches of one job (ms). */
  minLogIntervalMs?: number
}

export const JOB_LABEL = 'atelier.dev/job'
export const DEFAULT_FETCH_IMAGE = 'curlimages/curl:8.11.1'
/** Files a ConfigMap key can hold (a ConfigMap holds about 1 MiB in all). */
const MAX_CONFIGMAP_FILE = 512 * 1024
const PYTORCH = { group: 'kubeflow.org', version: 'v1', plural: 'pytorchjobs' }

type K8s = typeof import('@kubernetes/client-node')

/** The client library is ESM-only; load it once, lazily. */
let lib: Promise<K8s> | null = null
const k8s = (): Promise<K8s> => (lib ??= import('@kubernetes/client-node'))

/** Kubernetes' own words from an ApiException (the Status message), else the error text. */
export function k8sError(err: unknown, what: string): AppError {
  const e = err as { code?: number; body?: unknown; message?: string }
  let message = e?.message ?? String(err)
  let reason: string | null = null
  try {
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body
    if (body && typeof body === 'object' && 'message' in body) {
      message = String((body as { message: unknown }).message)
      reason = String((body as { reason?: unknown }).reason ?? '') || null
    }
  } catch {
    /* body was not JSON */
  }
  return new AppError('CLOUD_ERROR', `${what}: ${message}`, { provider: 'kubernetes', httpStatus: e?.code ?? null, reason })
}

export function objectName(jobId: string): string {
  return ('atelier-' + jobId.toLowerCase().replace(/[^a-z0-9-]/g, '-')).slice(0, 52).replace(/-+$/, '')
}

interface Tracked {
  pods: Map<string, V1Pod>
  scheduling: string | null
}

export class KubernetesBackend implements JobBackend {
  readonly kind = 'kubernetes' as const
  private kc: KubeConfig | null = null
  private abort: AbortController | null = null
  private watching: Promise<void> | null = null
  private tracked = new Map<string, Tracked>()
  private logs = new Map<string, { text: string; seen: Map<string, number>; fetchedAt: number; done: boolean }>()
  /** How many watches this backend opened (one, plus reconnects). */
  watchesOpened = 0
  private disposed = false

  constructor(readonly cfg: KubernetesTargetConfig = {}) {}

  private async config(): Promise<KubeConfig> {
    if (this.kc) return this.kc
    const { KubeConfig } = await k8s()
    const kc = new KubeConfig()
    if (this.cfg.kubeconfigPath) kc.loadFromFile(this.cfg.kubeconfigPath)
    else kc.loadFromDefault()
    if (this.cfg.context) kc.setCurrentContext(this.cfg.context)
    this.kc = kc
    return kc
  }

  private async namespace(): Promise<string> {
    const kc = await this.config()
    return this.cfg.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default'
  }

  /** Contexts and the current one, from the kubeconfig. */
  async contexts(): Promise<{ current: string; contexts: { name: string; namespace: string | null; cluster: string }[] }> {
    const kc = await this.config()
    return { current: kc.getCurrentContext(), contexts: kc.getContexts().map((c) => ({ name: c.name, namespace: c.namespace ?? null, cluster: c.cluster })) }
  }

  async workDirOf(folderId: string): Promise<string> {
    return `${await this.namespace()}/${objectName(folderId)}`
  }

  /** Namespace reachable and the PyTorchJob CRD installed; each problem in the API server's words. */
  async test(): Promise<{ ok: boolean; problems: string[]; pytorchJob: boolean }> {
    const { CoreV1Api, CustomObjectsApi } = await k8s()
    const kc = await this.config()
    const ns = await this.namespace()
    const problems: string[] = []
    try {
      await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, limit: 1 })
    } catch (e) {
      problems.push(k8sError(e, `namespace ${ns}`).message)
    }
    let pytorchJob = true
    try {
      await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ ...PYTORCH, namespace: ns, limit: 1 })
    } catch (e) {
      pytorchJob = false
      const err = k8sError(e, 'PyTorchJob')
      problems.push(
        (err.details?.httpStatus === 404
          ? 'PyTorchJob: the Kubeflow training operator is not installed (no kubeflow.org/v1 pytorchjobs: ' + err.message.replace(/^PyTorchJob: /, '') + ')'
          : err.message) + '; distributed jobs cannot run here'
      )
    }
    return { ok: problems.length === 0, problems, pytorchJob }
  }

  async submit(job: PreparedJob): Promise<Submitted> {
    const { CoreV1Api, BatchV1Api, CustomObjectsApi } = await k8s()
    const kc = await this.config()
    const ns = await this.namespace()
    const core = kc.makeApiClient(CoreV1Api)
    const spec = job.spec
    const kube = spec.kubernetes
    if (!kube) throw new AppError('INVALID_SPEC', 'Give the container image for Kubernetes.', { fieldErrors: [{ field: 'kubernetes.image', message: 'required' }] })
    const names: string[] = []
    let script = ''
    const code = await this.codeFor(job)
    for (const task of job.tasks) {
      const name = objectName(task.jobId)
      const labels = { [JOB_LABEL]: task.jobId, 'app.kubernetes.io/managed-by': 'atelier' }
      if (code.from === 'configmap') {
        try {
          await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `${name}-src`, labels }, data: code.data } })
        } catch (e) {
          if ((e as { code?: number }).code !== 409) throw k8sError(e, 'Creating the code ConfigMap')
        }
      }
      // the tracking token is not written into the pod spec (readable by whoever can read pods): it
      // goes into a Secret the Job owns, and the container takes it from there
      const { MLFLOW_TRACKING_TOKEN: token, ...plainEnv } = { ...job.env, ...task.env }
      const env: Record<string, unknown>[] = Object.entries(plainEnv).map(([n, value]) => ({ name: n, value }))
      if (token) env.push({ name: 'MLFLOW_TRACKING_TOKEN', valueFrom: { secretKeyRef: { name: `${name}-tracking`, key: 'token' } } })
      const r = spec.resources ?? {}
      const requests: Record<string, string> = {}
      if (r.cpus) requests.cpu = String(r.cpus)
      if (r.memoryMb) requests.memory = `${r.memoryMb}Mi`
      const limits: Record<string, string> = { ...requests }
      if (r.gpus) limits['nvidia.com/gpu'] = String(r.gpus)
      const distributed = (kube.workers ?? 0) > 0 || !!r.torchrun
      const entry = spec.entry
      const command =
        distributed && entry.kind === 'script'
          ? `torchrun ${[entry.path, ...(entry.args ?? [])].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`
          : task.command
      const podSpec = (restartPolicy: string, container: string) => ({
        restartPolicy,
        ...(kube.nodeSelector ? { nodeSelector: kube.nodeSelector } : {}),
        ...(kube.tolerations ? { tolerations: kube.tolerations } : {}),
        volumes: [code.from === 'configmap' ? { name: 'src', configMap: { name: `${name}-src`, items: code.items } } : { name: 'src', emptyDir: {} }],
        ...(code.from === 's3'
          ? {
              initContainers: [
                {
                  name: 'fetch-code',
                  image: this.cfg.fetchImage ?? DEFAULT_FETCH_IMAGE,
                  command: ['sh', '-c', 'curl -fsSL --retry 3 "$CODE_URL" | tar -xzf - -C /atelier/src'],
                  env: [{ name: 'CODE_URL', value: code.url }],
                  volumeMounts: [{ name: 'src', mountPath: '/atelier/src' }]
                }
              ]
            }
          : {}),
        containers: [
          {
            name: container,
            image: kube.image,
            command: ['bash', '-c', `cd /atelier/src && ${command}`],
            env,
            resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) },
            volumeMounts: [{ name: 'src', mountPath: '/atelier/src' }]
          }
        ]
      })
      let body: Record<string, unknown> = {}
      let created: { metadata?: { uid?: string } } | null = null
      try {
        if (distributed) {
          const template = { metadata: { labels }, spec: podSpec('OnFailure', 'pytorch') }
          body = {
            apiVersion: 'kubeflow.org/v1',
            kind: 'PyTorchJob',
            metadata: { name, labels },
            spec: {
              ...(r.torchrun?.nprocPerNode ? { nprocPerNode: String(r.torchrun.nprocPerNode) } : r.gpus ? { nprocPerNode: String(r.gpus) } : {}),
              pytorchReplicaSpecs: {
                Master: { replicas: 1, restartPolicy: 'OnFailure', template },
                ...(kube.workers ? { Worker: { replicas: kube.workers, restartPolicy: 'OnFailure', template } } : {})
              }
            }
          }
          created = (await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...PYTORCH, namespace: ns, body })) as { metadata?: { uid?: string } }
        } else {
          body = {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: { name, labels },
            spec: { backoffLimit: 0, template: { metadata: { labels }, spec: podSpec('Never', 'main') } }
          }
          created = await kc.makeApiClient(BatchV1Api).createNamespacedJob({ namespace: ns, body: body as never })
        }
      } catch (e) {
        // Already there with our label: a retried submit, not a second job.
        if ((e as { code?: number }).code !== 409) {
          const err = k8sError(e, distributed ? 'Creating the PyTorchJob' : 'Creating the Job')
          if (distributed && err.details?.httpStatus === 404) {
            throw new AppError('CLOUD_ERROR', `${err.message}: the Kubeflow training operator (PyTorchJob CRD) is not installed in this cluster`, err.details)
          }
          throw err
        }
      }
      if (token) {
        // a retried submit finds its job there already (409): the Secret goes to that one
        created ??= (distributed
          ? await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...PYTORCH, namespace: ns, name })
          : await kc.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: ns, name })) as { metadata?: { uid?: string } }
        await this.createTokenSecret(core, ns, name, labels, body, created.metadata?.uid ?? '', token)
      }
      if (!script) script = JSON.stringify(body, null, 2)
      names.push(`${distributed ? 'pytorchjob' : 'job'}/${name}`)
    }
    await this.ensureWatch()
    return { remoteIds: names, workDir: `${ns}/${names[0] ?? ''}`, logPaths: names, script }
  }

  /**
   * How this job's code travels: one ConfigMap key per file (keys may not contain '/'; items map them
   * back to paths) while the folder fits, else `sourcedir.tar.gz` uploaded to S3 for the init container.
   */
  private async codeFor(job: PreparedJob): Promise<
    { from: 'configmap'; data: Record<string, string>; items: { key: string; path: string }[] } | { from: 's3'; url: string; key: string }
  > {
    const max = this.cfg.maxConfigMapBytes ?? 900 * 1024
    const sizes = job.files.map((rel) => statSync(join(job.sourceDir!, rel)).size)
    const total = sizes.reduce((a, b) => a + b, 0) + Object.values(job.generated).reduce((a, t) => a + Buffer.byteLength(t), 0)
    const tooBig = total > max || sizes.some((n) => n > MAX_CONFIGMAP_FILE)
    if (this.cfg.codeFrom === 's3' || (this.cfg.codeFrom !== 'configmap' && tooBig && this.cfg.s3)) {
      if (!this.cfg.s3) throw new AppError('INVALID_SPEC', 'This Kubernetes target takes code from S3 but names no S3 bucket; set its bucket, prefix and region.')
      const { key, url } = await new S3Code(this.cfg.s3).upload(job.folderId, await packSource(job))
      return { from: 's3', url, key }
    }
    const oversized = job.files.filter((_, i) => sizes[i] > MAX_CONFIGMAP_FILE)
    if (oversized.length) {
      throw new AppError(
        'INVALID_SPEC',
        `${oversized.slice(0, 3).join(', ')}${oversized.length > 3 ? ` and ${oversized.length - 3} more` : ''}: larger than a ConfigMap can carry (512 KiB a file). Give the target an S3 bucket to ship code from S3, add large files to .gitignore, or bake them into the image.`
      )
    }
    const data: Record<string, string> = {}
    const items: { key: string; path: string }[] = []
    let bytes = 0
    const add = (rel: string, text: string) => {
      const key = `f${items.length}`
      data[key] = text
      items.push({ key, path: rel })
      bytes += Buffer.byteLength(text)
    }
    for (const rel of job.files) add(rel, readFileSync(join(job.sourceDir!, rel), 'utf8'))
    for (const [rel, text] of Object.entries(job.generated)) add(rel, text)
    if (bytes > max) {
      throw new AppError(
        'INVALID_SPEC',
        `The source folder is ${Math.round(bytes / 1024)} KiB; a ConfigMap holds at most about 1 MiB. Give the target an S3 bucket to ship code from S3, add large files to .gitignore, or bake them into the image.`
      )
    }
    return { from: 'configmap', data, items }
  }

  /** The one watch: every pod labelled with a job id, in the namespace. */
  private async ensureWatch(): Promise<void> {
    if (this.watching || this.disposed) return this.watching ?? undefined
    const { Watch } = await k8s()
    const kc = await this.config()
    const ns = await this.namespace()
    let ready!: () => void
    this.watching = new Promise<void>((r) => (ready = r))
    const start = async () => {
      // A reconnect re-lists every labelled pod (ADDED events); pods deleted meanwhile must not linger.
      if (this.watchesOpened > 0) this.tracked.clear()
      this.watchesOpened++
      let first = true
      const settle = () => {
        if (first) {
          first = false
          ready()
        }
      }
      try {
        this.abort = await new Watch(kc).watch(
          `/api/v1/namespaces/${ns}/pods`,
          { labelSelector: JOB_LABEL },
          (type: string, pod: V1Pod) => {
            const id = pod.metadata?.labels?.[JOB_LABEL]
            if (!id || !pod.metadata?.name) return
            let t = this.tracked.get(id)
            if (!t) this.tracked.set(id, (t = { pods: new Map(), scheduling: null }))
            if (type === 'DELETED') t.pods.delete(pod.metadata.name)
            else t.pods.set(pod.metadata.name, pod)
          },
          () => {
            this.abort = null
            settle()
            if (!this.disposed) setTimeout(() => void start(), 1000)
          }
        )
        // Initial ADDED events arrive right after the stream opens.
        setTimeout(settle, 300)
      } catch {
        settle()
        if (!this.disposed) setTimeout(() => void start(), 2000)
      }
    }
    void start()
    return this.watching
  }

  /** Answers from the watch's cache: no API call per job. */
  async poll(jobs: JobRef[]): Promise<Map<string, StatusUpdate>> {
    await this.ensureWatch()
    const out = new Map<string, StatusUpdate>()
    for (const j of jobs) {
      const t = this.tracked.get(j.id)
      if (!t || !t.pods.size) continue
      const pods = [...t.pods.values()]
      const phases = pods.map((p) => p.status?.phase ?? 'Pending')
      const failedPod = pods.find((p) => p.status?.phase === 'Failed')
      let state: JobState
      let reason: string | null = null
      let exitCode: number | null = null
      if (failedPod) {
        state = 'failed'
        const init = failedPod.status?.initContainerStatuses?.find((c) => c.state?.terminated && c.state.terminated.exitCode !== 0)
        const term = init?.state?.terminated ?? failedPod.status?.containerStatuses?.[0]?.state?.terminated
        exitCode = term?.exitCode ?? null
        reason = `${failedPod.metadata?.name}: ${init ? `init container ${init.name}: ` : ''}${term?.reason ?? 'Failed'}${exitCode !== null ? ` (exit code ${exitCode})` : ''}${init && term?.message ? `: ${term.message}` : ''}`
      } else if (phases.every((p) => p === 'Succeeded')) {
        state = 'succeeded'
        exitCode = 0
      } else if (phases.some((p) => p === 'Running')) {
        state = 'running'
      } else {
        state = 'starting'
        const stuck = pods.find((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'))
        if (stuck) {
          if (!t.scheduling) t.scheduling = await this.schedulingMessage(stuck)
          reason = t.scheduling
        }
      }
      out.set(j.id, { state, exitCode, reason })
    }
    return out
  }

  private async schedulingMessage(pod: V1Pod): Promise<string> {
    const { CoreV1Api } = await k8s()
    const kc = await this.config()
    try {
      const evs = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: pod.metadata!.namespace!, fieldSelector: `involvedObject.name=${pod.metadata!.name}` })
      const ev = evs.items.filter((e) => e.reason === 'FailedScheduling').pop()
      if (ev) return `FailedScheduling: ${ev.message}`
    } catch {
      /* fall back to the pod's condition */
    }
    const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled')
    return `${c?.reason ?? 'Unschedulable'}: ${c?.message ?? ''}`
  }

  /** Every pod's log, appended as it grows (`[pod] ` before each line when there are several). */
  async readLog(job: JobRef, fromByte: number, maxBytes: number, opts: { final?: boolean } = {}): Promise<Buffer> {
    const { CoreV1Api } = await k8s()
    const kc = await this.config()
    let c = this.logs.get(job.id)
    if (!c) this.logs.set(job.id, (c = { text: '', seen: new Map(), fetchedAt: 0, done: false }))
    const t = this.tracked.get(job.id)
    const last = !!opts.final && !c.done
    if (t && Buffer.byteLength(c.text) <= fromByte && (last || Date.now() - c.fetchedAt >= (this.cfg.minLogIntervalMs ?? 1_000))) {
      c.fetchedAt = Date.now()
      if (last) c.done = true
      const pods = [...t.pods.values()].filter((p) => p.status?.phase && p.status.phase !== 'Pending').sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))
      for (const p of pods) {
        let log: string
        try {
          log = await kc.makeApiClient(CoreV1Api).readNamespacedPodLog({ name: p.metadata!.name!, namespace: p.metadata!.namespace! })
        } catch {
          continue
        }
        const done = c.seen.get(p.metadata!.name!) ?? 0
        const end = log.lastIndexOf('\n') + 1
        if (end <= done) continue
        const fresh = log.slice(done, end)
        c.seen.set(p.metadata!.name!, end)
        c.text += pods.length > 1 || t.pods.size > 1 ? fresh.split('\n').filter((l, i, a) => i < a.length - 1 || l).map((l) => `[${p.metadata!.name}] ${l}\n`).join('') : fresh
      }
    }
    return Buffer.from(c.text).subarray(fromByte, fromByte + maxBytes)
  }

  /**
   * The Secret holding a job's tracking token, owned by the Job (or PyTorchJob) so that the cluster
   * deletes it with the job. Its pods wait for it (the kubelet retries) in the moment before it exists;
   * if it cannot be created, the job is deleted again and the submit fails with the API server's words.
   */
  private async createTokenSecret(core: CoreV1Api, ns: string, name: string, labels: Record<string, string>, owner: Record<string, unknown>, uid: string, token: string): Promise<void> {
    const ownerReferences = [{ apiVersion: String(owner.apiVersion), kind: String(owner.kind), name, uid, blockOwnerDeletion: true }]
    try {
      await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: `${name}-tracking`, labels, ownerReferences }, type: 'Opaque', stringData: { token } } })
    } catch (e) {
      if ((e as { code?: number }).code === 409) return
      const err = k8sError(e, 'Creating the tracking token Secret')
      const remoteId = `${owner.kind === 'PyTorchJob' ? 'pytorchjob' : 'job'}/${name}`
      await this.cancel([{ id: name, remoteId, workDir: null, logPath: null, extra: {} }]).catch(() => undefined)
      throw err
    }
  }

  /** Deletes the Job / PyTorchJob with foreground propagation (pods first), then its code. */
  async cancel(jobs: JobRef[]): Promise<void> {
    const { CoreV1Api, BatchV1Api, CustomObjectsApi } = await k8s()
    const kc = await this.config()
    const ns = await this.namespace()
    for (const j of jobs) {
      if (!j.remoteId) continue
      const [kind, name] = j.remoteId.split('/')
      try {
        if (kind === 'pytorchjob') {
          await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...PYTORCH, namespace: ns, name, propagationPolicy: 'Foreground' })
        } else {
          await kc.makeApiClient(BatchV1Api).deleteNamespacedJob({ namespace: ns, name, propagationPolicy: 'Foreground' })
        }
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw k8sError(e, `Deleting ${j.remoteId}`)
      }
      await kc.makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ namespace: ns, name: `${name}-src` }).catch(() => undefined)
      await kc.makeApiClient(CoreV1Api).deleteNamespacedSecret({ namespace: ns, name: `${name}-tracking` }).catch(() => undefined)
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true
    this.abort?.abort()
    this.abort = null
  }
}
