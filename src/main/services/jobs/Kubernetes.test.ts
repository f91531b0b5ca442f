/** KubernetesBackend against the Kubernetes API fake (which kubectl checks in its own tests). */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobSpec } from '../../../shared/jobs'
import { FAKE_CREDENTIALS } from '../../testing/cloud/awsFake'
import { K8sFake } from '../../testing/cloud/k8sFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { verifyPresignedS3 } from '../../testing/cloud/sigv4'
import { DEFAULT_FETCH_IMAGE, KubernetesBackend, type KubernetesTargetConfig } from './KubernetesBackend'
import { S3Code } from './s3Code'
import { sourceFiles } from './spec'
import type { JobRef, PreparedJob } from './types'

const ref = (id: string, remoteId: string): JobRef => ({ id, remoteId, workDir: null, logPath: null, extra: {} })
const until = async <T>(f: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('KubernetesBackend against the API fake', () => {
  let k8s: K8sFake
  let dir: string
  let kc: string
  beforeAll(async () => {
    k8s = await new K8sFake({ stepMs: 100, namespaces: ['ml'], forbidden: ['secret'], gpusPerNode: 1 }).start()
    dir = mkdtempSync(join(tmpdir(), 'atelier-kb-'))
    kc = k8s.writeKubeconfig(join(dir, 'kubeconfig'), 'ml')
    writeFileSync(join(dir, 'train.py'), 'print(1)\n')
  })
  afterAll(async () => {
    await k8s?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
    name: 'k job',
    target: { kind: 'local' },
    entry: { kind: 'script', path: 'train.py' },
    kubernetes: { image: 'python:3.12' },
    ...over
  })
  const prepared = (jobId: string, s: JobSpec): PreparedJob => ({
    folderId: jobId,
    name: s.name,
    spec: s,
    sourceDir: dir,
    files: ['train.py'],
    generated: {},
    env: { MLFLOW_TRACKING_URI: 'http://tracking:5000' },
    tasks: [{ jobId, env: { MLFLOW_RUN_ID: 'r-' + jobId }, command: "python3 'train.py'", hyperparameters: {} }]
  })

  it('runs a batch Job with its code in a ConfigMap, followed by one watch, with its log', async () => {
    const b = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0 })
    expect((await b.contexts()).current).toBe('fake')
    const sub = await b.submit(prepared('j1', spec({ resources: { cpus: 2, memoryMb: 1024 } })))
    expect(sub.remoteIds).toEqual(['job/atelier-j1'])
    const job = k8s.list('jobs', 'ml')[0]
    const c = job.spec.template.spec.containers[0]
    expect(c.command).toEqual(['bash', '-c', "cd /atelier/src && python3 'train.py'"])
    expect(c.env).toEqual([{ name: 'MLFLOW_TRACKING_URI', value: 'http://tracking:5000' }, { name: 'MLFLOW_RUN_ID', value: 'r-j1' }])
    expect(c.resources).toEqual({ requests: { cpu: '2', memory: '1024Mi' }, limits: { cpu: '2', memory: '1024Mi' } })
    expect(k8s.list('configmaps', 'ml')[0].data).toEqual({ f0: 'print(1)\n' })
    const r = ref('j1', sub.remoteIds[0])
    const states: string[] = []
    await until(async () => {
      const u = (await b.poll([r])).get('j1')
      if (u && states[states.length - 1] !== u.state) states.push(u.state)
      return u?.state === 'succeeded'
    })
    expect(states).toEqual(expect.arrayContaining(['running', 'succeeded']))
    const log = (await b.readLog(r, 0, 1 << 20)).toString()
    // one pod: its lines as the container printed them
    expect(log).toMatch(/^running: bash -c cd \/atelier\/src && python3 'train.py'\n.*\nrank=0 epoch=3 loss=0.2500\n$/s)
    expect(k8s.watchCount('pods')).toBe(1)
    await b.dispose()
  })

  it("reads a job's last log lines once it ended, even inside the log rate limit", async () => {
    // a slower cluster of its own: 8 epochs, 300 ms each
    const slow = await new K8sFake({ stepMs: 300, namespaces: ['ml'], epochs: 8 }).start()
    const b = new KubernetesBackend({ kubeconfigPath: slow.writeKubeconfig(join(dir, 'kubeconfig-slow'), 'ml'), minLogIntervalMs: 60_000 })
    const r = ref('jl', (await b.submit(prepared('jl', spec()))).remoteIds[0])
    // one read while it runs: the only one the limit allows before it ends
    await until(async () => (await b.poll([r])).get('jl')?.state === 'running')
    const early = (await b.readLog(r, 0, 1 << 20)).toString()
    expect(early).not.toContain('epoch=8')
    await until(async () => (await b.poll([r])).get('jl')?.state === 'succeeded')
    const from = Buffer.byteLength(early)
    expect((await b.readLog(r, from, 1 << 20)).length).toBe(0)
    expect((await b.readLog(r, from, 1 << 20, { final: true })).toString()).toContain('rank=0 epoch=8 loss=')
    await b.dispose()
    await slow.stop()
  }, 30_000)

  it('runs a PyTorchJob with 2 workers, logs from each pod, cancel deletes with foreground propagation', async () => {
    const b = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0 })
    const sub = await b.submit(prepared('dist', spec({ kubernetes: { image: 'pytorch/pytorch', workers: 2, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { pool: 'train' } }, resources: { torchrun: { nprocPerNode: 2 } } })))
    expect(sub.remoteIds).toEqual(['pytorchjob/atelier-dist'])
    const pj = k8s.list('pytorchjobs', 'ml')[0]
    expect(pj.spec.nprocPerNode).toBe('2')
    expect(pj.spec.pytorchReplicaSpecs.Worker.replicas).toBe(2)
    expect(pj.spec.pytorchReplicaSpecs.Master.template.spec.tolerations).toEqual([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }])
    const r = ref('dist', sub.remoteIds[0])
    await until(async () => (await b.poll([r])).get('dist')?.state === 'succeeded')
    const log = (await b.readLog(r, 0, 1 << 20)).toString()
    for (const p of ['atelier-dist-master-0', 'atelier-dist-worker-0', 'atelier-dist-worker-1']) {
      expect(log).toContain(`[${p}] running: bash -c cd /atelier/src && torchrun 'train.py'`)
      expect(log).toContain(`[${p}] rank=`)
    }
    // each line names its pod once
    for (const line of log.trimEnd().split('\n')) expect(line).toMatch(/^\[atelier-dist-(master|worker)-\d\] (running: |rank=\d epoch=\d loss=)/)
    await b.cancel([r])
    const deletes = k8s.requests.filter((q) => q.startsWith('DELETE /apis/kubeflow.org/v1/namespaces/ml/pytorchjobs/atelier-dist'))
    expect(deletes).toHaveLength(1)
    expect(deletes[0]).toContain('propagationPolicy=Foreground')
    await until(async () => k8s.list('pytorchjobs', 'ml').length === 0 && k8s.list('pods', 'ml').every((p) => !p.metadata.name.startsWith('atelier-dist')))
    await b.dispose()
  })

  it('a submit retried after its Job was created still gives that Job its token Secret', async () => {
    const b = new KubernetesBackend({ kubeconfigPath: kc })
    const job = prepared('tok-retry', spec())
    job.env = { ...job.env, MLFLOW_TRACKING_TOKEN: 'retry-token' }
    await b.submit(job)
    k8s.deleteQuietly('secrets', 'ml', 'atelier-tok-retry-tracking')
    // the second submit meets the Job (409) and creates the missing Secret for it
    const again = await b.submit(job)
    expect(again.remoteIds).toEqual(['job/atelier-tok-retry'])
    const secret = k8s.list('secrets', 'ml').find((x) => x.metadata.name === 'atelier-tok-retry-tracking')!
    expect(secret.metadata.ownerReferences[0].uid).toBe(k8s.list('jobs', 'ml').find((j) => j.metadata.name === 'atelier-tok-retry')!.metadata.uid)
    expect(Buffer.from(secret.data.token, 'base64').toString()).toBe('retry-token')
    await b.dispose()
  })

  it('re-attaches to running jobs by label after a restart', async () => {
    const first = new KubernetesBackend({ kubeconfigPath: kc })
    const sub = await first.submit(prepared('again', spec()))
    await first.dispose()
    const second = new KubernetesBackend({ kubeconfigPath: kc })
    const u = await until(async () => (await second.poll([ref('again', sub.remoteIds[0])])).get('again'))
    expect(['starting', 'running', 'succeeded']).toContain(u.state)
    await second.dispose()
  })

  it('after a dropped watch, pods deleted meanwhile are forgotten (the reconnect re-lists)', async () => {
    const b = new KubernetesBackend({ kubeconfigPath: kc })
    const sub = await b.submit(prepared('dropped', spec()))
    const r = ref('dropped', sub.remoteIds[0])
    await until(async () => (await b.poll([r])).get('dropped'))
    k8s.dropWatches()
    k8s.deletePodsQuietly('ml', 'atelier-dropped')
    const opened = k8s.watchCount('pods')
    await until(async () => k8s.watchCount('pods') > opened, 5000)
    await until(async () => !(await b.poll([r])).has('dropped'), 5000)
    await b.dispose()
  })

  it('shows the scheduler message for a pod that cannot be placed', async () => {
    const b = new KubernetesBackend({ kubeconfigPath: kc })
    const sub = await b.submit(prepared('gpu', spec({ resources: { gpus: 4 } })))
    const u = await until(async () => {
      const x = (await b.poll([ref('gpu', sub.remoteIds[0])])).get('gpu')
      return x?.reason ? x : null
    })
    expect(u.state).toBe('starting')
    expect(u.reason).toBe('FailedScheduling: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.')
    await b.dispose()
  })

  it('names a forbidden namespace and a missing PyTorchJob CRD in the API server words', async () => {
    const forbidden = await new KubernetesBackend({ kubeconfigPath: kc, namespace: 'secret' }).test()
    expect(forbidden.ok).toBe(false)
    expect(forbidden.problems[0]).toBe('namespace secret: pods is forbidden: User "atelier" cannot list resource "pods" in API group "" in the namespace "secret"')
    await expect(new KubernetesBackend({ kubeconfigPath: kc, namespace: 'secret' }).submit(prepared('nope', spec()))).rejects.toMatchObject({
      code: 'CLOUD_ERROR',
      message: expect.stringContaining('is forbidden: User "atelier" cannot create resource "configmaps"')
    })
    expect((await new KubernetesBackend({ kubeconfigPath: kc }).test()).ok).toBe(true)
    k8s.pytorchCrd = false
    try {
      const t = await new KubernetesBackend({ kubeconfigPath: kc }).test()
      expect(t.pytorchJob).toBe(false)
      expect(t.problems[0]).toContain('the Kubeflow training operator is not installed')
      expect(t.problems[0]).toContain('the server could not find the requested resource')
      await expect(new KubernetesBackend({ kubeconfigPath: kc }).submit(prepared('nocrd', spec({ kubernetes: { image: 'x', workers: 1 } })))).rejects.toMatchObject({
        message: expect.stringContaining('the Kubeflow training operator (PyTorchJob CRD) is not installed')
      })
    } finally {
      k8s.pytorchCrd = true
    }
  })
})

describe('Kubernetes code from S3: sourcedir.tar.gz behind a presigned URL, fetched by an init container', () => {
  const REGION = 'eu-west-1'
  let k8s: K8sFake
  let s3: S3Fake
  let dir: string
  let big: string
  let kc: string
  beforeAll(async () => {
    s3 = await startS3Fake(['atelier-code'])
    k8s = await new K8sFake({ stepMs: 100, namespaces: ['ml'], s3Credentials: [FAKE_CREDENTIALS] }).start()
    dir = mkdtempSync(join(tmpdir(), 'atelier-kbs3-'))
    kc = k8s.writeKubeconfig(join(dir, 'kubeconfig'), 'ml')
    big = join(dir, 'src')
    mkdirSync(join(big, 'data'), { recursive: true })
    writeFileSync(join(big, 'train.py'), 'print(1)\n')
    // 1.2 MiB of text: more than a ConfigMap holds
    writeFileSync(join(big, 'vocab.txt'), randomBytes(630 * 1024).toString('hex'))
    writeFileSync(join(big, '.gitignore'), 'data/\n')
    writeFileSync(join(big, 'data', 'huge.csv'), 'x\n')
    execFileSync('git', ['init', '-q', big])
  })
  afterAll(async () => {
    await k8s?.stop()
    await s3?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const s3cfg = (over: Partial<KubernetesTargetConfig['s3']> = {}): KubernetesTargetConfig['s3'] => ({
    bucket: 'atelier-code',
    prefix: 'team/k8s',
    region: REGION,
    endpoint: s3.endpoint,
    credentials: FAKE_CREDENTIALS,
    ...over
  })
  const spec: JobSpec = { name: 'k job', target: { kind: 'local' }, entry: { kind: 'script', path: 'train.py' }, kubernetes: { image: 'python:3.12' } }
  const prepared = async (jobId: string, sourceDir: string): Promise<PreparedJob> => ({
    folderId: jobId,
    name: spec.name,
    spec,
    sourceDir,
    files: await sourceFiles(sourceDir),
    generated: {},
    env: {},
    tasks: [{ jobId, env: {}, command: "python3 'train.py'", hyperparameters: {} }]
  })

  it('ships a folder over 1 MiB through S3: an init container downloads the exact tarball into an emptyDir the job mounts', async () => {
    const b = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0, s3: s3cfg() })
    const sub = await b.submit(await prepared('big1', big))
    expect(sub.remoteIds).toEqual(['job/atelier-big1'])
    // no ConfigMap: the code is in S3
    expect(k8s.list('configmaps', 'ml').filter((c) => c.metadata.name === 'atelier-big1-src')).toEqual([])
    const pod = k8s.list('jobs', 'ml').find((j) => j.metadata.name === 'atelier-big1')!.spec.template.spec
    expect(pod.volumes).toEqual([{ name: 'src', emptyDir: {} }])
    expect(pod.initContainers).toHaveLength(1)
    const init = pod.initContainers[0]
    expect(init).toMatchObject({ name: 'fetch-code', image: DEFAULT_FETCH_IMAGE, volumeMounts: [{ name: 'src', mountPath: '/atelier/src' }] })
    expect(init.command).toEqual(['sh', '-c', 'curl -fsSL --retry 3 "$CODE_URL" | tar -xzf - -C /atelier/src'])
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'src', mountPath: '/atelier/src' }])
    const url: string = init.env.find((e: { name: string }) => e.name === 'CODE_URL').value
    // a presigned GET: no credentials travel to the cluster, only a signature valid for 7 days
    expect(url).not.toContain(FAKE_CREDENTIALS.secretAccessKey)
    expect(new URL(url).pathname).toBe('/atelier-code/team/k8s/big1/sourcedir.tar.gz')
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('604800')
    expect(verifyPresignedS3({ url, known: [FAKE_CREDENTIALS] })).toBeNull()

    await until(async () => (await b.poll([ref('big1', sub.remoteIds[0])])).get('big1')?.state === 'succeeded')
    const fetched = k8s.initFetches.filter((f) => f.pod.startsWith('atelier-big1-'))
    expect(fetched.map((f) => [f.container, f.status, f.error])).toEqual([['fetch-code', 200, null]])
    const stored = await new S3Code(s3cfg()!).s3.send(new GetObjectCommand({ Bucket: 'atelier-code', Key: 'team/k8s/big1/sourcedir.tar.gz' }))
    const tarball = Buffer.from(await stored.Body!.transformToByteArray())
    expect(fetched[0].body.equals(tarball)).toBe(true)
    // packed as for SageMaker: .gitignore honoured
    const tgz = join(dir, 'big1.tgz')
    writeFileSync(tgz, fetched[0].body)
    expect(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual(['.gitignore', 'train.py', 'vocab.txt'])
    await b.dispose()
  })

  it("takes code from S3 when the target says so, keeps small folders in a ConfigMap otherwise, and says what to do when a folder is too big", async () => {
    const small = join(dir, 'small')
    mkdirSync(small)
    writeFileSync(join(small, 'train.py'), 'print(2)\n')
    const forced = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0, codeFrom: 's3', s3: s3cfg() })
    await forced.submit(await prepared('small-s3', small))
    expect(k8s.list('jobs', 'ml').find((j) => j.metadata.name === 'atelier-small-s3')!.spec.template.spec.initContainers[0].name).toBe('fetch-code')
    const auto = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0, s3: s3cfg(), fetchImage: 'registry.local/fetch:1' })
    await auto.submit(await prepared('small-cm', small))
    const cmJob = k8s.list('jobs', 'ml').find((j) => j.metadata.name === 'atelier-small-cm')!.spec.template.spec
    expect(cmJob.initContainers).toBeUndefined()
    expect(cmJob.volumes[0].configMap.name).toBe('atelier-small-cm-src')
    // the image is the target's when code comes from S3
    await auto.submit(await prepared('big-img', big))
    expect(k8s.list('jobs', 'ml').find((j) => j.metadata.name === 'atelier-big-img')!.spec.template.spec.initContainers[0].image).toBe('registry.local/fetch:1')
    const noS3 = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0 })
    await expect(noS3.submit(await prepared('big-cm', big))).rejects.toMatchObject({ code: 'INVALID_SPEC', message: expect.stringContaining('Give the target an S3 bucket to ship code from S3') })
    await expect(new KubernetesBackend({ kubeconfigPath: kc, codeFrom: 's3' }).submit(await prepared('nos3', small))).rejects.toMatchObject({ code: 'INVALID_SPEC' })
    for (const b of [forced, auto, noS3]) await b.dispose()
  })

  it('signs URLs as boto3 does, and a pod whose URL S3 refuses fails with the reason', async () => {
    const code = new S3Code(s3cfg()!)
    const { url } = await code.upload('check', Buffer.from('archive bytes'), 600)
    // the verifier agrees with boto3's own presigned URLs (an independent client) and with ours
    const py = `import boto3, sys
from botocore.config import Config
c = boto3.client('s3', region_name=sys.argv[1], endpoint_url=sys.argv[2], aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4], config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
print(c.generate_presigned_url('get_object', Params={'Bucket': 'atelier-code', 'Key': 'team/k8s/check/sourcedir.tar.gz'}, ExpiresIn=600))`
    const boto = execFileSync('python3', ['-c', py, REGION, s3.endpoint, FAKE_CREDENTIALS.accessKeyId, FAKE_CREDENTIALS.secretAccessKey], { encoding: 'utf8' }).trim()
    expect(verifyPresignedS3({ url: boto, known: [FAKE_CREDENTIALS] })).toBeNull()
    expect(verifyPresignedS3({ url: boto.replace('/check/', '/other/'), known: [FAKE_CREDENTIALS] })).toMatchObject({ type: 'SignatureDoesNotMatch' })
    expect(verifyPresignedS3({ url, known: [FAKE_CREDENTIALS] })).toBeNull()
    expect(verifyPresignedS3({ url, known: [FAKE_CREDENTIALS], now: Date.now() + 601_000 })).toMatchObject({ type: 'AccessDenied', message: 'Request has expired' })
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).toString()).toBe('archive bytes')

    // a key S3 does not know cannot even upload the code: S3's words, and nothing reaches the cluster
    const wrong = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0, codeFrom: 's3', s3: s3cfg({ credentials: { accessKeyId: FAKE_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' } }) })
    const small = join(dir, 'small2')
    mkdirSync(small)
    writeFileSync(join(small, 'train.py'), 'print(3)\n')
    await expect(wrong.submit(await prepared('wrongkey', small))).rejects.toMatchObject({ message: expect.stringMatching(/signature we calculated does not match/) })
    expect(s3.refused.some((r) => r.method === 'PUT' && r.code === 'SignatureDoesNotMatch')).toBe(true)
    expect(k8s.list('jobs', 'ml').some((j) => j.metadata.name === 'atelier-wrongkey')).toBe(false)
    await wrong.dispose()

    // the key that signed the URL is rotated away before the pod starts: the init container's download fails, and so does the job
    const good = new KubernetesBackend({ kubeconfigPath: kc, minLogIntervalMs: 0, codeFrom: 's3', s3: s3cfg() })
    const known = k8s.s3Credentials
    k8s.s3Credentials = [{ accessKeyId: FAKE_CREDENTIALS.accessKeyId, secretAccessKey: 'rotated-secret' }]
    try {
      await good.submit(await prepared('badsig', small))
      const u = await until(async () => {
        const x = (await good.poll([ref('badsig', 'job/atelier-badsig')])).get('badsig')
        return x?.state === 'failed' ? x : null
      })
      expect(u.reason).toMatch(/^atelier-badsig-\w+: init container fetch-code: Error \(exit code 22\): SignatureDoesNotMatch: /)
    } finally {
      k8s.s3Credentials = known
      await good.dispose()
    }
  })

  it('the fake refuses a pod template that mounts a volume it does not declare, as the API server does', async () => {
    const { BatchV1Api, KubeConfig } = await import('@kubernetes/client-node')
    const cfg = new KubeConfig()
    cfg.loadFromFile(kc)
    const body = {
      metadata: { name: 'nomount' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x', volumeMounts: [{ name: 'src', mountPath: '/atelier/src' }] }] } } }
    }
    await expect(cfg.makeApiClient(BatchV1Api).createNamespacedJob({ namespace: 'ml', body })).rejects.toMatchObject({
      code: 422,
      body: expect.stringContaining('Job.batch \\"nomount\\" is invalid: spec.template.spec.containers[0].volumeMounts[0].name: Not found: \\"src\\"')
    })
  })
})
