/** KubernetesBackend against the Kubernetes API fake (which kubectl checks in its own tests). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobSpec } from '../../../shared/jobs'
import { K8sFake } from '../../testing/cloud/k8sFake'
import { KubernetesBackend } from './KubernetesBackend'
import type { JobRef, PreparedJob } from './types'

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
  const ref = (id: string, remoteId: string): JobRef => ({ id, remoteId, workDir: null, logPath: null, extra: {} })

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
