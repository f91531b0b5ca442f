/**
 * The Kubernetes fake is checked by an independent client, kubectl, through a kubeconfig the fake
 * writes: discovery, get, logs, delete, watch, 403 and a missing CRD as kubectl itself reports them.
 * The fake serves no OpenAPI schema, so `kubectl create` runs with --validate=false.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { K8sFake } from './k8sFake'

const exec = promisify(execFile)

function kubectlMissing(): string | null {
  try {
    require('node:child_process').execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' })
    return null
  } catch {
    return 'kubectl is missing (apt install kubernetes-client)'
  }
}

const until = async (ok: () => Promise<boolean> | boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(kubectlMissing())('Kubernetes fake driven by kubectl', () => {
  let k8s: K8sFake
  let dir: string
  let kc: string
  const kubectl = async (...args: string[]) => {
    try {
      const r = await exec('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 })
      return { code: 0, out: r.stdout, err: r.stderr }
    } catch (e: any) {
      return { code: e.code as number, out: String(e.stdout ?? ''), err: String(e.stderr ?? '') }
    }
  }
  beforeAll(async () => {
    k8s = await new K8sFake({ stepMs: 100, namespaces: ['ml'], forbidden: ['secret'], gpusPerNode: 1 }).start()
    dir = mkdtempSync(join(tmpdir(), 'atelier-k8s-'))
    kc = k8s.writeKubeconfig(join(dir, 'kubeconfig'), 'ml')
  })
  afterAll(async () => {
    await k8s?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('creates a Job, shows its pod going to Succeeded, prints its log, deletes it', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train-1', labels: { 'atelier/job': 'j1' } },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'python:3.12', command: ['python', 'train.py'] }] } } }
    }
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job))
    const created = await kubectl('create', '--validate=false', '-f', join(dir, 'job.json'))
    expect(created.err).toBe('')
    expect(created.out.trim()).toBe('job.batch/train-1 created')
    expect((await kubectl('get', 'jobs', '-o', 'name')).out.trim()).toBe('job.batch/train-1')
    const pods = await kubectl('get', 'pods', '-l', 'job-name=train-1', '-o', 'jsonpath={.items[*].metadata.name}')
    const pod = pods.out.trim()
    expect(pod).toMatch(/^train-1-[0-9a-f]{5}$/)
    await until(async () => (await kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}')).out === 'Succeeded')
    const logs = await kubectl('logs', pod)
    expect(logs.out.split('\n').filter(Boolean)).toEqual([
      'running: python train.py',
      'rank=0 epoch=1 loss=0.5000',
      'rank=0 epoch=2 loss=0.3333',
      'rank=0 epoch=3 loss=0.2500'
    ])
    expect((await kubectl('get', 'job', 'train-1', '-o', 'jsonpath={.status.conditions[0].type}')).out).toBe('Complete')
    const del = await kubectl('delete', 'job', 'train-1', '--cascade=foreground')
    expect(del.out.trim()).toBe('job.batch "train-1" deleted')
    expect((await kubectl('get', 'pods', '-o', 'name')).out.trim()).toBe('')
    const gone = await kubectl('get', 'job', 'train-1')
    expect(gone.code).not.toBe(0)
    expect(gone.err).toContain('jobs.batch "train-1" not found')
  })

  it('runs a PyTorchJob as master + 2 workers, each pod with its log; kubectl watch sees the phases', async () => {
    const template = { spec: { containers: [{ name: 'pytorch', image: 'pytorch/pytorch', command: ['torchrun', 'train.py'] }] } }
    const pj = {
      apiVersion: 'kubeflow.org/v1',
      kind: 'PyTorchJob',
      metadata: { name: 'dist' },
      spec: { nprocPerNode: '2', pytorchReplicaSpecs: { Master: { replicas: 1, template }, Worker: { replicas: 2, template } } }
    }
    writeFileSync(join(dir, 'pj.json'), JSON.stringify(pj))
    const watch = spawn('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), 'get', 'pods', '--watch', '-o', 'jsonpath={.metadata.name}={.status.phase}{"\\n"}'])
    let seen = ''
    watch.stdout.on('data', (d) => (seen += d))
    // kubectl lists, then watches from the list's resourceVersion: create the job once it is watching
    await until(() => k8s.requests.some((q) => q.startsWith('GET /api/v1/namespaces/ml/pods?') && /[?&]watch=(true|1)/.test(q)))
    expect((await kubectl('create', '--validate=false', '-f', join(dir, 'pj.json'))).out.trim()).toBe('pytorchjob.kubeflow.org/dist created')
    await until(async () => (await kubectl('get', 'pytorchjob', 'dist', '-o', 'jsonpath={.status.conditions[-1:].type}')).out === 'Succeeded')
    await until(() => seen.includes('dist-worker-1=Succeeded'))
    watch.kill()
    expect(seen).toContain('dist-master-0=Running')
    expect(seen).toContain('dist-worker-0=Pending')
    const names = (await kubectl('get', 'pods', '-l', 'training.kubeflow.org/job-name=dist', '-o', 'name')).out.trim().split('\n')
    expect(names).toEqual(['pod/dist-master-0', 'pod/dist-worker-0', 'pod/dist-worker-1'])
    for (const [i, n] of ['dist-worker-0', 'dist-worker-1'].entries()) {
      expect((await kubectl('logs', n)).out).toContain(`\nrank=${i} epoch=3 loss=0.2500\n`)
      // --prefix is kubectl's own: it names the pod (and container) once per line
      expect((await kubectl('logs', n, '--prefix')).out).toContain(`[pod/${n}/pytorch] rank=${i} epoch=3 loss=0.2500\n`)
    }
  })

  it('a container taking a value from a Secret waits until the Secret exists; the Secret goes with the Job that owns it', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'tok' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok-secret', key: 'token' } } }] }] } } }
    }
    writeFileSync(join(dir, 'tok.json'), JSON.stringify(job))
    await kubectl('create', '--validate=false', '-f', join(dir, 'tok.json'))
    const pod = (await kubectl('get', 'pods', '-l', 'job-name=tok', '-o', 'jsonpath={.items[0].metadata.name}')).out
    const waiting = () => kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}')
    await until(async () => (await waiting()).out === 'Pending CreateContainerConfigError: secret "tok-secret" not found')
    const uid = (await kubectl('get', 'job', 'tok', '-o', 'jsonpath={.metadata.uid}')).out
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tok-secret', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'tok', uid }] }, stringData: { token: 's3cr3t' } }
    writeFileSync(join(dir, 'secret.json'), JSON.stringify(secret))
    expect((await kubectl('create', '--validate=false', '-f', join(dir, 'secret.json'))).out.trim()).toBe('secret/tok-secret created')
    // stored as data (base64), as the API server does with stringData
    expect((await kubectl('get', 'secret', 'tok-secret', '-o', 'jsonpath={.data.token}')).out).toBe(Buffer.from('s3cr3t').toString('base64'))
    await until(async () => (await kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}')).out === 'Succeeded')
    expect(k8s.containerEnv('ml', pod)).toEqual({ TOKEN: 's3cr3t' })
    await kubectl('delete', 'job', 'tok', '--cascade=foreground')
    await until(async () => (await kubectl('get', 'secrets', '-o', 'name')).out.trim() === '')
  })

  it('leaves a pod asking for too many GPUs Pending with the scheduler message as an event', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'big' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x', resources: { limits: { 'nvidia.com/gpu': '4' } } }] } } }
    }
    writeFileSync(join(dir, 'big.json'), JSON.stringify(job))
    await kubectl('create', '--validate=false', '-f', join(dir, 'big.json'))
    const pod = (await kubectl('get', 'pods', '-l', 'job-name=big', '-o', 'jsonpath={.items[0].metadata.name}')).out
    const ev = await kubectl('get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'jsonpath={.items[*].reason}: {.items[*].message}')
    expect(ev.out).toBe('FailedScheduling: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.')
    await new Promise((r) => setTimeout(r, 400))
    expect((await kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}')).out).toBe('Pending')
  })

  it('answers 403 for a forbidden namespace and 404 when the PyTorchJob CRD is missing, as kubectl reports them', async () => {
    const forbidden = await kubectl('get', 'pods', '-n', 'secret')
    expect(forbidden.code).not.toBe(0)
    expect(forbidden.err).toContain('pods is forbidden: User "atelier" cannot list resource "pods" in API group "" in the namespace "secret"')
    k8s.pytorchCrd = false
    const noCrd = await kubectl('get', 'pytorchjobs', '--cache-dir', join(dir, 'cache2'))
    expect(noCrd.code).not.toBe(0)
    expect(noCrd.err).toContain(`the server doesn't have a resource type "pytorchjobs"`)
    k8s.pytorchCrd = true
  })
})
