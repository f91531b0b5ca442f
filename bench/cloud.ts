/**
 * `npm run bench:cloud`: the SageMaker and Kubernetes backends against the loopback protocol fakes.
 *  - submit overhead: Atelier's SageMaker submit (pack sourcedir.tar.gz, upload, CreateTrainingJob)
 *    against the same upload + CreateTrainingJob made directly with the SDK (tarball already packed);
 *  - refreshing 500 tracked SageMaker jobs: wall time and API calls (paged ListTrainingJobs), and
 *    the resulting calls per job per minute at the backend's refresh interval;
 *  - following 1,000 Kubernetes pods: how many watches and how many per-pod reads it takes.
 * Prints `name: value` lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateTrainingJobCommand } from '@aws-sdk/client-sagemaker'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import type { JobSpec } from '../src/shared/jobs'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../src/main/testing/cloud/awsFake'
import { K8sFake } from '../src/main/testing/cloud/k8sFake'
import { startS3Fake } from '../src/main/testing/cloud/s3Fake'
import { KubernetesBackend } from '../src/main/services/jobs/KubernetesBackend'
import { SageMakerBackend } from '../src/main/services/jobs/SageMakerBackend'
import type { JobRef, PreparedJob } from '../src/main/services/jobs/types'

const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 30)
const TRACKED = Number(process.env.BENCH_TRACKED ?? 500)
const PODS = Number(process.env.BENCH_PODS ?? 1000)
const REFRESH_MS = 5_000

const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ref = (id: string, remoteId: string): JobRef => ({ id, remoteId, workDir: null, logPath: null, extra: {} })

async function main(): Promise<void> {
  const src = mkdtempSync(join(tmpdir(), 'atelier-bench-cloud-'))
  writeFileSync(join(src, 'train.py'), 'import time\nprint("epoch=1 loss=0.5")\n')
  const aws = await new AwsFake({ stepMs: 60_000 }).start()
  const s3 = await startS3Fake(['atelier-ml'])
  const k8s = await new K8sFake({ stepMs: 200, namespaces: ['ml'], epochs: 1 }).start()
  try {
    const b = new SageMakerBackend({
      region: aws.region,
      roleArn: FAKE_ROLE,
      bucket: 'atelier-ml',
      endpoint: aws.endpoint,
      s3Endpoint: s3.endpoint,
      credentials: FAKE_CREDENTIALS,
      minPollIntervalMs: REFRESH_MS
    })
    const spec: JobSpec = {
      name: 'bench',
      target: { kind: 'local' },
      entry: { kind: 'script', path: 'train.py' },
      sagemaker: { framework: 'sklearn', instanceType: 'ml.m5.large' }
    }
    const job = (id: string): PreparedJob => ({
      folderId: id,
      name: 'bench',
      spec,
      sourceDir: src,
      files: ['train.py'],
      generated: {},
      env: {},
      tasks: [{ jobId: id, env: {}, command: 'python3 train.py', hyperparameters: { lr: 0.1 } }]
    })

    // ---- submit overhead ----
    const atelier: number[] = []
    const direct: number[] = []
    const tarball = Buffer.alloc(512, 1)
    for (let i = 0; i < SUBMITS + 3; i++) {
      let t = performance.now()
      await b.submit(job(`sub-a-${i}`))
      if (i >= 3) atelier.push(performance.now() - t)
      const req = b.request(job(`sub-d-${i}`), 0, `s3://atelier-ml/direct/${i}/sourcedir.tar.gz`, 'train.py')
      t = performance.now()
      await b.s3.send(new PutObjectCommand({ Bucket: 'atelier-ml', Key: `direct/${i}/sourcedir.tar.gz`, Body: tarball }))
      await b.sm.send(new CreateTrainingJobCommand(req))
      if (i >= 3) direct.push(performance.now() - t)
    }
    const overhead = median(atelier) - median(direct)
    line('sagemaker_submit_atelier_ms_p50', median(atelier).toFixed(1))
    line('sagemaker_submit_sdk_direct_ms_p50', median(direct).toFixed(1))
    line('sagemaker_submit_overhead_ms', overhead.toFixed(1))
    line('sagemaker_submit_overhead_within_50ms', overhead <= 50 ? 'yes' : 'NO')

    // ---- refreshing tracked jobs ----
    const refs: JobRef[] = []
    for (let i = 0; i < TRACKED; i++) {
      const req = b.request(job(`track-${i}`), 0, 's3://atelier-ml/x/sourcedir.tar.gz', 'train.py')
      await b.sm.send(new CreateTrainingJobCommand(req))
      refs.push(ref(`track-${i}`, req.TrainingJobName!))
    }
    const callsBefore = aws.calls.length
    b.pollCalls = 0
    const t0 = performance.now()
    const m = await b.poll(refs)
    const refreshMs = performance.now() - t0
    if (m.size !== TRACKED) throw new Error(`refresh saw ${m.size} of ${TRACKED} jobs`)
    const calls = aws.calls.length - callsBefore
    const perJobPerMin = (calls / TRACKED) * (60_000 / REFRESH_MS)
    line('sagemaker_tracked_jobs', TRACKED)
    line('sagemaker_total_jobs_in_account', aws.jobNames().length)
    line('sagemaker_refresh_ms', refreshMs.toFixed(0))
    line('sagemaker_refresh_api_calls', calls)
    line('sagemaker_calls_per_job_per_minute_at_5s_refresh', perJobPerMin.toFixed(3))
    line('sagemaker_refresh_within_2s_and_rate', refreshMs <= 2000 && perJobPerMin <= 1 ? 'yes' : 'NO')
    await b.dispose()

    // ---- 1,000 pods with one watch ----
    const kc = k8s.writeKubeconfig(join(src, 'kubeconfig'), 'ml')
    const kb = new KubernetesBackend({ kubeconfigPath: kc })
    const kspec: JobSpec = { ...spec, sagemaker: undefined, kubernetes: { image: 'python:3.12' } }
    const krefs: JobRef[] = []
    const ts = performance.now()
    for (let i = 0; i < PODS; i++) {
      const s = await kb.submit({ ...job(`pod-${i}`), spec: kspec })
      krefs.push(ref(`pod-${i}`, s.remoteIds[0]))
    }
    line('k8s_submit_1000_jobs_s', ((performance.now() - ts) / 1000).toFixed(1))
    const before = k8s.requests.length
    const tw = performance.now()
    let polls = 0
    for (;;) {
      polls++
      const st = await kb.poll(krefs)
      if (st.size === PODS && [...st.values()].every((u) => u.state === 'succeeded')) break
      if (performance.now() - tw > 120_000) throw new Error('pods did not finish')
      await new Promise((r) => setTimeout(r, 200))
    }
    const during = k8s.requests.slice(before)
    line('k8s_pods_followed', PODS)
    line('k8s_status_refreshes', polls)
    line('k8s_watches_opened', k8s.watchCount('pods'))
    line('k8s_api_requests_while_following', during.length)
    line('k8s_until_all_succeeded_s', ((performance.now() - tw) / 1000).toFixed(1))
    line('k8s_one_watch_not_polls', k8s.watchCount('pods') === 1 && during.length === 0 ? 'yes' : 'NO')
    await kb.dispose()
  } finally {
    await aws.stop()
    await s3.stop()
    await k8s.stop()
    rmSync(src, { recursive: true, force: true })
  }
}

if (!process.env.VITEST) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    }
  )
}
