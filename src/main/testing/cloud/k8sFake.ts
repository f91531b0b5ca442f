/**
 * Loopback fake of the Kubernetes API server: discovery, REST for namespaces, configmaps, pods (+log),
 * events, batch/v1 Jobs and kubeflow.org/v1 PyTorchJobs, `?watch=true` streams, bearer-token auth,
 * 403 for a forbidden namespace and 404 for a group whose CRD is not installed. Jobs make pods that go
 * Pending → Running → Succeeded and print log lines; a pod asking for more `nvidia.com/gpu` than a
 * node has stays Pending with a FailedScheduling event. A pod template whose volume mounts name no
 * volume is refused (422) as the API server validates it. Init containers run before a pod starts:
 * one whose env holds an http(s) URL downloads it (an S3 presigned URL is checked as S3 would,
 * against `s3Credentials`), and a failed download fails the pod with Init:Error.
 * Test harness only: never shipped.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { verifyPresignedS3, type FakeCredentials } from './sigv4'

type Obj = Record<string, any>

interface Resource {
  group: string
  version: string
  plural: string
  kind: string
  namespaced: boolean
  shortNames?: string[]
}

const CORE: Resource[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'] },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }
]
const SECRETS = CORE[5]
const PYTORCH: Resource = { group: 'kubeflow.org', version: 'v1', plural: 'pytorchjobs', kind: 'PyTorchJob', namespaced: true }

export interface K8sFakeOptions {
  stepMs?: number
  token?: string
  user?: string
  namespaces?: string[]
  /** Namespaces that exist but the fake's user may not touch (403). */
  forbidden?: string[]
  /** Whether the Kubeflow training operator's PyTorchJob CRD is installed. */
  pytorchCrd?: boolean
  nodes?: number
  gpusPerNode?: number
  /** Epochs each pod prints before it succeeds. */
  epochs?: number
  /** Keys S3 knows: presigned S3 URLs fetched by init containers must verify against one of them. */
  s3Credentials?: FakeCredentials[]
}

/** What an init container downloaded (the URL from its env). */
export interface InitFetch {
  pod: string
  container: string
  url: string
  status: number
  body: Buffer
  /** Why the download failed (S3's error code, or the HTTP status), null when it worked. */
  error: string | null
}

interface Watcher {
  res: ServerResponse
  res_: Resource
  namespace: string | null
  match: (o: Obj) => boolean
}

export class K8sFake {
  readonly stepMs: number
  readonly token: string
  readonly user: string
  readonly forbidden: Set<string>
  pytorchCrd: boolean
  readonly nodes: number
  readonly gpusPerNode: number
  readonly epochs: number
  port = 0
  /** Every request as `METHOD path?query` (for counting watches against polls). */
  readonly requests: string[] = []
  private server: Server | null = null
  private rv = 1
  private store = new Map<string, Map<string, Obj>>()
  private watchers = new Set<Watcher>()
  /** Recent watch events, so a watch that starts from a list's resourceVersion misses none in between. */
  private history: { rv: number; r: Resource; ns: string | null; obj: Obj; line: string }[] = []
  private logs = new Map<string, string[]>()
  private timer: NodeJS.Timeout | null = null
  /** Keys S3 knows (a test may swap them to model a key rotated away after an upload). */
  s3Credentials: FakeCredentials[] | null
  /** Every download an init container made, in order. */
  readonly initFetches: InitFetch[] = []

  constructor(opts: K8sFakeOptions = {}) {
    this.stepMs = opts.stepMs ?? 150
    this.token = opts.token ?? 'fake-token-' + randomBytes(6).toString('hex')
    this.user = opts.user ?? 'atelier'
    this.forbidden = new Set(opts.forbidden ?? [])
    this.pytorchCrd = opts.pytorchCrd ?? true
    this.nodes = opts.nodes ?? 3
    this.gpusPerNode = opts.gpusPerNode ?? 0
    this.epochs = opts.epochs ?? 3
    this.s3Credentials = opts.s3Credentials ?? null
    for (const ns of ['default', ...(opts.namespaces ?? []), ...this.forbidden]) {
      this.put(CORE[0], null, { metadata: { name: ns }, status: { phase: 'Active' } }, false)
    }
  }

  /** PEM of the server's self-signed certificate (kubeconfig's certificate-authority-data). */
  ca = ''

  get server_(): string {
    return `https://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    // Clients send bearer tokens only over TLS, so the fake serves HTTPS with a throwaway certificate.
    const dir = mkdtempSync(join(tmpdir(), 'atelier-k8s-tls-'))
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')
    ], { stdio: 'ignore' })
    const key = readFileSync(join(dir, 'key.pem'))
    this.ca = readFileSync(join(dir, 'cert.pem'), 'utf8')
    rmSync(dir, { recursive: true, force: true })
    this.server = createServer({ key, cert: this.ca }, (req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    this.timer = setInterval(() => this.tick(), this.stepMs)
    return this
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    for (const w of this.watchers) w.res.end()
    this.watchers.clear()
    const s = this.server
    this.server = null
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  /** Writes a kubeconfig for this server (token auth) and returns its path. */
  writeKubeconfig(path: string, namespace = 'default', context = 'fake'): string {
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: ${context}-cluster`,
        '  cluster:',
        `    server: ${this.server_}`,
        `    certificate-authority-data: ${Buffer.from(this.ca).toString('base64')}`,
        'users:',
        `- name: ${this.user}`,
        '  user:',
        `    token: ${this.token}`,
        'contexts:',
        `- name: ${context}`,
        '  context:',
        `    cluster: ${context}-cluster`,
        `    user: ${this.user}`,
        `    namespace: ${namespace}`,
        `current-context: ${context}`,
        ''
      ].join('\n')
    )
    return path
  }

  /** Ends every open watch stream (as an API server restart or a proxy timeout does). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.end()
    this.watchers.clear()
  }

  /** Deletes pods whose name starts with `prefix` without telling any watch (they were dropped). */
  deletePodsQuietly(namespace: string, prefix: string): void {
    const m = this.store.get(this.key(CORE[1], namespace))
    for (const name of [...(m?.keys() ?? [])]) if (name.startsWith(prefix)) m!.delete(name)
  }

  /** Deletes one object without events or garbage collection (for a test to make it go missing). */
  deleteQuietly(plural: string, namespace: string, name: string): void {
    const r = [...CORE, PYTORCH].find((x) => x.plural === plural)
    if (!r) throw new Error(`no resource ${plural}`)
    this.store.get(this.key(r, namespace))?.delete(name)
  }

  watchCount(plural?: string): number {
    return this.requests.filter((r) => /[?&]watch=(true|1)/.test(r) && (!plural || r.includes(`/${plural}?`))).length
  }

  list(plural: string, namespace: string): Obj[] {
    const r = [...CORE, PYTORCH].find((x) => x.plural === plural)!
    return [...(this.store.get(this.key(r, namespace))?.values() ?? [])]
  }

  // ------------------------------------------------------------------ storage

  private key(r: Resource, ns: string | null): string {
    return `${r.group}/${r.plural}/${r.namespaced ? ns : ''}`
  }

  private put(r: Resource, ns: string | null, o: Obj, notify = true, type: 'ADDED' | 'MODIFIED' = 'ADDED'): Obj {
    const k = this.key(r, ns)
    let m = this.store.get(k)
    if (!m) this.store.set(k, (m = new Map()))
    o.apiVersion = r.group ? `${r.group}/${r.version}` : r.version
    o.kind = r.kind
    o.metadata = o.metadata ?? {}
    if (r.namespaced) o.metadata.namespace = ns
    if (!o.metadata.uid) {
      o.metadata.uid = randomUUID()
      o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    }
    o.metadata.resourceVersion = String(++this.rv)
    m.set(o.metadata.name, o)
    if (notify) this.emit(r, type, o)
    return o
  }

  private remove(r: Resource, ns: string | null, name: string): Obj | undefined {
    const m = this.store.get(this.key(r, ns))
    const o = m?.get(name)
    if (!o) return undefined
    m!.delete(name)
    o.metadata.resourceVersion = String(++this.rv)
    this.emit(r, 'DELETED', o)
    return o
  }

  private emit(r: Resource, type: string, o: Obj): void {
    const line = JSON.stringify({ type, object: o }) + '\n'
    this.history.push({ rv: this.rv, r, ns: o.metadata.namespace ?? null, obj: JSON.parse(line).object, line })
    if (this.history.length > 2000) this.history.splice(0, 1000)
    for (const w of this.watchers) if (this.wants(w, r, o)) w.res.write(line)
  }

  private wants(w: Watcher, r: Resource, o: Obj): boolean {
    return w.res_ === r && (!w.namespace || o.metadata.namespace === w.namespace) && w.match(o)
  }

  private modify(r: Resource, o: Obj): void {
    this.put(r, o.metadata.namespace ?? null, o, true, 'MODIFIED')
  }

  // ------------------------------------------------------------------ simulation

  private event(ns: string, pod: Obj, type: string, reason: string, message: string): void {
    const ev = CORE[3]
    const name = `${pod.metadata.name}.${randomBytes(8).toString('hex')}`
    const now = new Date().toISOString()
    this.put(ev, ns, {
      metadata: { name },
      involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid, apiVersion: 'v1' },
      reason,
      message,
      type,
      source: { component: reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet'
    })
  }

  private gpuRequest(pod: Obj): number {
    let n = 0
    for (const c of pod.spec?.containers ?? []) {
      n += Number(c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'] ?? 0)
    }
    return n
  }

  /** Runs a pod's init containers in order: each downloads the http(s) URLs in its env. */
  private async runInit(ns: string, pod: Obj): Promise<void> {
    for (const c of pod.spec.initContainers as Obj[]) {
      for (const e of (c.env ?? []) as Obj[]) {
        if (typeof e.value !== 'string' || !/^https?:\/\//.test(e.value)) continue
        const f: InitFetch = { pod: pod.metadata.name, container: c.name, url: e.value, status: 0, body: Buffer.alloc(0), error: null }
        this.initFetches.push(f)
        const presigned = new URL(e.value).searchParams.has('X-Amz-Signature')
        const bad = presigned && this.s3Credentials ? verifyPresignedS3({ url: e.value, known: this.s3Credentials }) : null
        if (bad) {
          f.status = bad.status
          f.error = `${bad.type}: ${bad.message}`
        } else {
          try {
            const r = await fetch(e.value)
            f.status = r.status
            f.body = Buffer.from(await r.arrayBuffer())
            if (!r.ok) f.error = `HTTP ${r.status}`
          } catch (err) {
            f.error = (err as Error).message
          }
        }
        if (f.error) {
          pod.__init = 'failed'
          pod.status = {
            phase: 'Failed',
            reason: 'Init:Error',
            initContainerStatuses: [{ name: c.name, ready: false, restartCount: 0, image: c.image, state: { terminated: { exitCode: 22, reason: 'Error', message: f.error, finishedAt: new Date().toISOString() } } }],
            containerStatuses: (pod.spec.containers ?? []).map((x: Obj) => ({ name: x.name, ready: false, restartCount: 0, image: x.image, state: { waiting: { reason: 'PodInitializing' } } }))
          }
          this.logs.set(`${ns}/${pod.metadata.name}`, [])
          this.modify(CORE[1], pod)
          return
        }
      }
    }
    pod.__init = 'done'
  }

  /** The API server's validation of a pod spec's volume mounts (each names a declared volume). */
  private invalidMounts(spec: Obj, at: string): string | null {
    const volumes = new Set(((spec?.volumes ?? []) as Obj[]).map((v) => v.name))
    for (const kind of ['initContainers', 'containers']) {
      for (const [i, c] of ((spec?.[kind] ?? []) as Obj[]).entries()) {
        for (const [j, m] of ((c.volumeMounts ?? []) as Obj[]).entries()) {
          if (!volumes.has(m.name)) return `${at}.${kind}[${i}].volumeMounts[${j}].name: Not found: "${m.name}"`
        }
      }
    }
    return null
  }

  private makePod(ns: string, name: string, template: Obj, labels: Record<string, string>, owner: Obj): void {
    const spec = JSON.parse(JSON.stringify(template.spec ?? {}))
    const pod: Obj = {
      metadata: {
        name,
        labels: { ...(template.metadata?.labels ?? {}), ...labels },
        annotations: template.metadata?.annotations ?? {},
        ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true }]
      },
      spec,
      status: { phase: 'Pending', conditions: [] }
    }
    pod.__born = Date.now()
    this.put(CORE[1], ns, pod)
    if (this.gpuRequest(pod) > this.gpusPerNode) {
      pod.status.conditions = [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: this.unschedulable(), lastTransitionTime: new Date().toISOString() }
      ]
      pod.__unschedulable = true
      this.modify(CORE[1], pod)
      this.event(ns, pod, 'Warning', 'FailedScheduling', this.unschedulable())
    }
  }

  /** The kubelet's message for the first env value a container takes from a Secret that is not there, or null. */
  private missingSecret(pod: Obj): string | null {
    for (const c of (pod.spec.containers ?? []) as Obj[]) {
      for (const e of (c.env ?? []) as Obj[]) {
        const ref = e.valueFrom?.secretKeyRef
        if (!ref || ref.optional) continue
        const secret = this.store.get(this.key(SECRETS, pod.metadata.namespace))?.get(ref.name)
        if (!secret) return `secret "${ref.name}" not found`
        if (!(ref.key in (secret.data ?? {}))) return `couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}`
      }
    }
    return null
  }

  /** A container's environment as the kubelet gives it to the process: values, and those taken from Secrets. */
  containerEnv(ns: string, podName: string, container = 0): Record<string, string> {
    const pod = this.store.get(this.key(CORE[1], ns))?.get(podName)
    if (!pod) throw new Error(`no pod ${ns}/${podName}`)
    const env: Record<string, string> = {}
    for (const e of (pod.spec.containers?.[container]?.env ?? []) as Obj[]) {
      const ref = e.valueFrom?.secretKeyRef
      if (!ref) env[e.name] = e.value ?? ''
      else {
        const b64 = this.store.get(this.key(SECRETS, ns))?.get(ref.name)?.data?.[ref.key]
        if (b64 !== undefined) env[e.name] = Buffer.from(b64, 'base64').toString('utf8')
      }
    }
    return env
  }

  private unschedulable(): string {
    const n = this.nodes
    return `0/${n} nodes are available: ${n} Insufficient nvidia.com/gpu. preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.`
  }

  private podLog(pod: Obj, lines: number): string[] {
    const c = pod.spec.containers?.[0] ?? {}
    const cmd = [...(c.command ?? []), ...(c.args ?? [])].join(' ')
    // what the container prints; the pod name is not part of it (`kubectl logs --prefix` adds it)
    const out = [`running: ${cmd}`]
    const rank = Number(pod.metadata.labels?.['training.kubeflow.org/replica-index'] ?? 0)
    for (let i = 0; i < lines; i++) out.push(`rank=${rank} epoch=${i + 1} loss=${(1 / (i + 2)).toFixed(4)}`)
    return out
  }

  /** Advances every pod by one step and updates the owning jobs. */
  private tick(): void {
    const podsR = CORE[1]
    for (const [k, m] of this.store) {
      if (!k.startsWith('/pods/')) continue
      for (const pod of [...m.values()]) {
        if (pod.__unschedulable || pod.metadata.deletionTimestamp) continue
        const ns = pod.metadata.namespace
        const phase = pod.status.phase
        if (phase === 'Pending' && (pod.spec.initContainers ?? []).length && pod.__init !== 'done') {
          if (!pod.__init) {
            pod.__init = 'running'
            void this.runInit(ns, pod)
          }
        } else if (phase === 'Pending') {
          const missing = this.missingSecret(pod)
          if (missing) {
            // the kubelet keeps trying; the pod waits with the reason it gives
            if (pod.__waiting !== missing) {
              pod.__waiting = missing
              pod.status.containerStatuses = (pod.spec.containers ?? []).map((c: Obj) => ({ name: c.name, ready: false, restartCount: 0, image: c.image, state: { waiting: { reason: 'CreateContainerConfigError', message: missing } } }))
              this.modify(podsR, pod)
              this.event(ns, pod, 'Warning', 'Failed', `Error: ${missing}`)
            }
            continue
          }
          pod.status = {
            phase: 'Running',
            startTime: new Date().toISOString(),
            podIP: '10.0.0.' + (this.rv % 250),
            conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }],
            containerStatuses: (pod.spec.containers ?? []).map((c: Obj) => ({ name: c.name, ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } }, image: c.image }))
          }
          pod.__lines = 0
          this.logs.set(`${ns}/${pod.metadata.name}`, this.podLog(pod, 0))
          this.event(ns, pod, 'Normal', 'Started', `Started container ${pod.spec.containers?.[0]?.name ?? 'main'}`)
          this.modify(podsR, pod)
        } else if (phase === 'Running') {
          if (pod.__lines < this.epochs) {
            pod.__lines++
            this.logs.set(`${ns}/${pod.metadata.name}`, this.podLog(pod, pod.__lines))
          } else {
            const fail = (pod.spec.containers?.[0]?.env ?? []).find((e: Obj) => e.name === 'FAKE_EXIT_CODE')
            const code = fail ? Number(fail.value) : 0
            pod.status.phase = code === 0 ? 'Succeeded' : 'Failed'
            pod.status.containerStatuses = (pod.spec.containers ?? []).map((c: Obj) => ({
              name: c.name,
              ready: false,
              restartCount: 0,
              image: c.image,
              state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt: new Date().toISOString() } }
            }))
            this.modify(podsR, pod)
          }
        }
      }
    }
    this.syncJobs()
  }

  private podsOf(ns: string, uid: string): Obj[] {
    return this.list('pods', ns).filter((p) => p.metadata.ownerReferences?.some((o: Obj) => o.uid === uid))
  }

  private syncJobs(): void {
    const now = new Date().toISOString()
    for (const [k, m] of this.store) {
      const isJob = k.startsWith('batch/jobs/')
      const isPt = k.startsWith('kubeflow.org/pytorchjobs/')
      if (!isJob && !isPt) continue
      for (const job of [...m.values()]) {
        if (job.metadata.deletionTimestamp) continue
        const pods = this.podsOf(job.metadata.namespace, job.metadata.uid)
        const running = pods.filter((p) => p.status.phase === 'Running').length
        const ok = pods.filter((p) => p.status.phase === 'Succeeded').length
        const failed = pods.filter((p) => p.status.phase === 'Failed').length
        const before = JSON.stringify(job.status ?? {})
        if (isJob) {
          const st: Obj = { ...(job.status ?? {}), active: pods.length - ok - failed, ready: running }
          if (!st.startTime) st.startTime = now
          if (ok) st.succeeded = ok
          if (failed) st.failed = failed
          if (pods.length && ok === pods.length && !st.completionTime) {
            st.completionTime = now
            st.conditions = [{ type: 'Complete', status: 'True', lastTransitionTime: now }]
          } else if (failed && !st.conditions) {
            st.conditions = [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now }]
          }
          if (st.active === 0) delete st.active
          job.status = st
          if (JSON.stringify(st) !== before) this.modify(CORE[4], job)
        } else {
          const conds: Obj[] = [{ type: 'Created', status: 'True', reason: 'PyTorchJobCreated', message: `PyTorchJob ${job.metadata.name} is created.`, lastTransitionTime: job.metadata.creationTimestamp }]
          const master = pods.find((p) => p.metadata.labels['training.kubeflow.org/replica-type'] === 'master')
          if (running) conds.push({ type: 'Running', status: 'True', reason: 'PyTorchJobRunning', message: `PyTorchJob ${job.metadata.namespace}/${job.metadata.name} is running.` })
          if (master?.status.phase === 'Succeeded' && ok === pods.length) {
            conds.push({ type: 'Succeeded', status: 'True', reason: 'PyTorchJobSucceeded', message: `PyTorchJob ${job.metadata.namespace}/${job.metadata.name} successfully completed.` })
          } else if (failed) {
            conds.push({ type: 'Failed', status: 'True', reason: 'PyTorchJobFailed', message: `PyTorchJob ${job.metadata.namespace}/${job.metadata.name} has failed because ${failed} replica(s) failed.` })
          }
          const replicaStatuses: Obj = {}
          for (const p of pods) {
            const t = p.metadata.labels['training.kubeflow.org/replica-type'] === 'master' ? 'Master' : 'Worker'
            const rs = (replicaStatuses[t] = replicaStatuses[t] ?? {})
            if (p.status.phase === 'Running') rs.active = (rs.active ?? 0) + 1
            if (p.status.phase === 'Succeeded') rs.succeeded = (rs.succeeded ?? 0) + 1
            if (p.status.phase === 'Failed') rs.failed = (rs.failed ?? 0) + 1
          }
          const st: Obj = { conditions: conds, replicaStatuses, startTime: job.status?.startTime ?? now }
          if (conds.some((c) => c.type === 'Succeeded' || c.type === 'Failed')) st.completionTime = job.status?.completionTime ?? now
          job.status = st
          if (JSON.stringify(st) !== before) this.modify(PYTORCH, job)
        }
      }
    }
  }

  private created(r: Resource, ns: string, o: Obj): void {
    if (r.plural === 'jobs') {
      const id = randomBytes(3).toString('hex').slice(0, 5)
      const labels = { 'batch.kubernetes.io/job-name': o.metadata.name, 'job-name': o.metadata.name, 'controller-uid': o.metadata.uid }
      this.makePod(ns, `${o.metadata.name}-${id}`, o.spec.template, labels, o)
    } else if (r.plural === 'pytorchjobs') {
      const specs: Obj = o.spec?.pytorchReplicaSpecs ?? {}
      for (const [type, rs] of Object.entries<Obj>(specs)) {
        const n = Number(rs.replicas ?? 1)
        for (let i = 0; i < n; i++) {
          const lt = type.toLowerCase()
          this.makePod(ns, `${o.metadata.name}-${lt}-${i}`, rs.template, {
            'training.kubeflow.org/job-name': o.metadata.name,
            'training.kubeflow.org/operator-name': 'pytorchjob-controller',
            'training.kubeflow.org/replica-type': lt,
            'training.kubeflow.org/replica-index': String(i),
            ...(lt === 'master' ? { 'training.kubeflow.org/job-role': 'master' } : {})
          }, o)
        }
      }
    }
  }

  /** Deletes an object; with Foreground propagation the owner goes after its pods. */
  private delete(r: Resource, ns: string | null, name: string, propagation: string): Obj | undefined {
    const o = this.store.get(this.key(r, ns))?.get(name)
    if (!o) return undefined
    if (propagation !== 'Orphan' && ns) {
      // the garbage collector: Secrets and ConfigMaps the object owns go with it
      for (const dr of [SECRETS, CORE[2]]) {
        for (const d of this.list(dr.plural, ns)) if (d.metadata.ownerReferences?.some((x: Obj) => x.uid === o.metadata.uid)) setTimeout(() => this.remove(dr, ns, d.metadata.name), this.stepMs)
      }
    }
    const dependents = r.plural === 'jobs' || r.plural === 'pytorchjobs' ? this.podsOf(ns!, o.metadata.uid) : []
    if (propagation === 'Orphan' || !dependents.length) return this.remove(r, ns, name)
    const finish = () => {
      for (const p of dependents) this.remove(CORE[1], ns, p.metadata.name)
      this.remove(r, ns, name)
    }
    if (propagation === 'Foreground') {
      o.metadata.deletionTimestamp = new Date().toISOString()
      o.metadata.finalizers = ['foregroundDeletion']
      this.modify(r, o)
      for (const p of dependents) {
        p.metadata.deletionTimestamp = new Date().toISOString()
        this.modify(CORE[1], p)
      }
      setTimeout(finish, this.stepMs)
      return o
    }
    this.remove(r, ns, name)
    setTimeout(() => dependents.forEach((p) => this.remove(CORE[1], ns, p.metadata.name)), this.stepMs)
    return o
  }

  // ------------------------------------------------------------------ HTTP

  private status(res: ServerResponse, code: number, reason: string, message: string, details: Obj = {}): void {
    this.json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code })
  }

  private json(res: ServerResponse, code: number, body: Obj): void {
    const text = JSON.stringify(body, (k, v) => (k.startsWith('__') ? undefined : v))
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  private resources(): Resource[] {
    return this.pytorchCrd ? [...CORE, PYTORCH] : CORE
  }

  private discovery(path: string): Obj | null {
    const groups = new Map<string, Resource[]>()
    for (const r of this.resources()) if (r.group) groups.set(r.group, [...(groups.get(r.group) ?? []), r])
    const list = (gv: string, rs: Resource[]) => {
      const out: Obj[] = []
      for (const r of rs) {
        const verbs = r.plural === 'events' ? ['create', 'delete', 'get', 'list', 'watch'] : ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
        out.push({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs, ...(r.shortNames ? { shortNames: r.shortNames } : {}) })
        if (r.plural === 'pods') out.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] })
        if (r.plural !== 'events' && r.plural !== 'configmaps' && r.plural !== 'namespaces') out.push({ name: `${r.plural}/status`, singularName: '', namespaced: true, kind: r.kind, verbs: ['get', 'patch', 'update'] })
      }
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: out }
    }
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] }
    if (path === '/api/v1') return list('v1', CORE.filter((r) => !r.group))
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups.keys()].map((g) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' } }))
      }
    }
    const m = /^\/apis\/([^/]+)\/v1$/.exec(path)
    if (m && groups.has(m[1])) return list(`${m[1]}/v1`, groups.get(m[1])!)
    return null
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    this.requests.push(`${method} ${url.pathname}${url.search}`)
    if (url.pathname !== '/version' && req.headers.authorization !== `Bearer ${this.token}`) {
      return this.status(res, 401, 'Unauthorized', 'Unauthorized')
    }
    if (url.pathname === '/version') {
      return this.json(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.0-atelier-fake', platform: 'linux/amd64' })
    }
    const disc = this.discovery(url.pathname)
    if (disc) return this.json(res, 200, disc)
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(url.pathname)
    const group = m?.[1] ?? ''
    const ns = m?.[2] ?? null
    const plural = m?.[3] ?? ''
    const name = m?.[4] ?? null
    const sub = m?.[5] ?? null
    const r = m ? this.resources().find((x) => x.group === group && x.plural === plural) : undefined
    if (!r) return this.status(res, 404, 'NotFound', 'the server could not find the requested resource')
    const target = r.plural === 'namespaces' ? name : ns
    if (target && this.forbidden.has(target)) {
      const verb = method === 'GET' ? (url.searchParams.get('watch') ? 'watch' : name && r.plural !== 'namespaces' ? 'get' : r.plural === 'namespaces' ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : 'update'
      const resName = sub === 'log' ? 'pods/log' : r.plural
      const group_ = r.group ? `"${r.group}"` : '""'
      const where = r.plural === 'namespaces' ? '' : ` in the namespace "${ns}"`
      const what = r.plural === 'namespaces' ? `namespaces "${name}"` : name ? `${r.plural} "${name}"` : r.plural
      return this.status(res, 403, 'Forbidden', `${what} is forbidden: User "${this.user}" cannot ${verb} resource "${resName}" in API group ${group_}${where}`, { ...(name ? { name } : {}), ...(r.group ? { group: r.group } : {}), kind: r.plural })
    }
    if (r.namespaced && ns && !this.store.get(this.key(CORE[0], null))?.has(ns) && method === 'POST') {
      return this.status(res, 404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' })
    }
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null
    const coll = () => [...(this.store.get(this.key(r, ns))?.values() ?? [])]
    const all = () => (r.namespaced && !ns ? [...this.store.entries()].filter(([k]) => k.startsWith(`${r.group}/${r.plural}/`)).flatMap(([, m2]) => [...m2.values()]) : coll())
    const notFound = () => this.status(res, 404, 'NotFound', `${r.plural}${r.group ? '.' + r.group : ''} "${name}" not found`, { name, ...(r.group ? { group: r.group } : {}), kind: r.plural })

    if (method === 'GET' && !name) {
      const match = selector(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
        const since = Number(url.searchParams.get('resourceVersion') || 0)
        const w: Watcher = { res, res_: r, namespace: ns, match }
        if (!since) for (const o of all().filter(match)) res.write(JSON.stringify({ type: 'ADDED', object: strip(o) }) + '\n')
        else for (const e of this.history) if (e.rv > since && this.wants(w, r, e.obj)) res.write(e.line)
        this.watchers.add(w)
        const timeout = Number(url.searchParams.get('timeoutSeconds') || 0)
        const t = timeout ? setTimeout(() => res.end(), timeout * 1000) : null
        req.on('close', () => (this.watchers.delete(w), t && clearTimeout(t)))
        res.on('close', () => this.watchers.delete(w))
        return
      }
      const items = all().filter(match).map(strip)
      return this.json(res, 200, { kind: `${r.kind}List`, apiVersion: r.group ? `${r.group}/v1` : 'v1', metadata: { resourceVersion: String(this.rv) }, items })
    }
    if (method === 'GET' && name && sub === 'log') {
      const pod = this.store.get(this.key(r, ns))?.get(name)
      if (!pod) return notFound()
      if (pod.status.phase === 'Pending') {
        return this.status(res, 400, 'BadRequest', `container "${pod.spec.containers?.[0]?.name}" in pod "${name}" is waiting to start: ContainerCreating`)
      }
      const lines = this.logs.get(`${ns}/${name}`) ?? []
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(lines.map((l) => l + '\n').join(''))
      return
    }
    if (method === 'GET' && name) {
      const o = (r.plural === 'namespaces' ? this.store.get(this.key(r, null)) : this.store.get(this.key(r, ns)))?.get(name)
      return o ? this.json(res, 200, strip(o)) : notFound()
    }
    if (method === 'POST' && !name) {
      if (!body?.metadata?.name && !body?.metadata?.generateName) return this.status(res, 422, 'Invalid', `${r.kind} "" is invalid: metadata.name: Required value: name or generateName is required`)
      const n = body.metadata.name ?? body.metadata.generateName + randomBytes(3).toString('hex').slice(0, 5)
      if (this.store.get(this.key(r, ns))?.has(n)) {
        return this.status(res, 409, 'AlreadyExists', `${r.plural}${r.group ? '.' + r.group : ''} "${n}" already exists`, { name: n, ...(r.group ? { group: r.group } : {}), kind: r.plural })
      }
      body.metadata.name = n
      if (r.plural === 'secrets') {
        // as the API server does: stringData is written into data (base64) and never stored
        body.data = { ...(body.data ?? {}), ...Object.fromEntries(Object.entries<string>(body.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }
        delete body.stringData
        body.type ??= 'Opaque'
      }
      const templates: [Obj, string][] =
        r.plural === 'pods'
          ? [[body.spec, 'spec']]
          : r.plural === 'jobs'
            ? [[body.spec?.template?.spec, 'spec.template.spec']]
            : r.plural === 'pytorchjobs'
              ? Object.entries<Obj>(body.spec?.pytorchReplicaSpecs ?? {}).map(([t, rs]) => [rs.template?.spec, `spec.pytorchReplicaSpecs[${t}].template.spec`])
              : []
      for (const [spec, at] of templates) {
        const problem = this.invalidMounts(spec, at)
        if (problem) return this.status(res, 422, 'Invalid', `${r.kind}${r.group ? '.' + r.group : ''} "${n}" is invalid: ${problem}`)
      }
      const o = this.put(r, ns, body)
      this.created(r, ns!, o)
      return this.json(res, 201, strip(o))
    }
    if (method === 'DELETE' && name) {
      const propagation = body?.propagationPolicy ?? url.searchParams.get('propagationPolicy') ?? (r.plural === 'jobs' ? 'Orphan' : 'Background')
      const o = this.delete(r, r.plural === 'namespaces' ? null : ns, name, propagation)
      if (!o) return notFound()
      return this.json(res, 200, strip(o))
    }
    return this.status(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
  }
}

function strip(o: Obj): Obj {
  return JSON.parse(JSON.stringify(o, (k, v) => (k.startsWith('__') ? undefined : v)))
}

function selector(labels: string | null, fields: string | null): (o: Obj) => boolean {
  const l = (labels ?? '').split(',').filter(Boolean).map((s) => s.split('='))
  const f = (fields ?? '').split(',').filter(Boolean).map((s) => s.split('='))
  return (o) =>
    l.every(([k, v]) => (v === undefined ? k in (o.metadata.labels ?? {}) : o.metadata.labels?.[k] === v)) &&
    f.every(([k, v]) => {
      const val = k.split('.').reduce<any>((a, p) => a?.[p], o)
      return String(val) === v
    })
}
