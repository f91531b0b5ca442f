import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { startSshd, sshdUnavailable, type TestSshd } from '../../testing/sshd'
import { silentLogger } from '../../log'
import { type KnownHost } from '../ssh/connect'
import { SshRunner } from './runners'
import { allLogLines, createJobsTestCore, type JobsTestCore } from './testing'

const PY = '/usr/bin/python3'
const haveSh = existsSync(PY)

describe.skipIf(!haveSh)('local jobs (real processes)', () => {
  let core: JobsTestCore
  beforeAll(async () => {
    core = await createJobsTestCore({ localConcurrency: 2 })
    writeFileSync(
      join(core.workspaceDir, 'train.py'),
      [
        'import os, sys, json, urllib.request',
        'lr = float(os.environ["HP_LR"])',
        'print("args", sys.argv[1:])',
        'for step in range(3):',
        '    print(f"step={step} loss={1.0 / (step + 1) * lr:.3f}", flush=True)',
        '# log one metric through the MLflow REST API into THIS job\'s run',
        'uri, run = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"]',
        'body = json.dumps({"run_id": run, "key": "acc", "value": 0.9, "timestamp": 0, "step": 0}).encode()',
        'req = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]})',
        'urllib.request.urlopen(req).read()',
        'print("done")'
      ].join('\n')
    )
    writeFileSync(join(core.workspaceDir, 'fail.py'), 'import sys\nprint("about to fail")\nsys.exit(3)\n')
    writeFileSync(join(core.workspaceDir, 'sleep.py'), 'import time\nprint("sleeping", flush=True)\ntime.sleep(120)\n')
  }, 60_000)
  afterAll(async () => core?.cleanup())

  const spec = (entry: string, extra: Record<string, unknown> = {}) => ({
    name: `local-${entry.replace('.py', '')}`,
    target: { kind: 'local' },
    entry: { kind: 'script', path: entry },
    env: { python: PY },
    ...extra
  })

  it('runs a script to success with its log, HP arguments, regex metrics and an MLflow metric in the job run', async () => {
    const job = await core.call('jobs.submit', {
      spec: spec('train.py', { hyperparameters: { lr: 0.5 }, metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }] })
    })
    expect(job.remoteId).toMatch(/^\d+@localhost$/)
    const done = await core.waitState(job.id, ['succeeded', 'failed'])
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0 })
    const lines = await allLogLines(core, job.id)
    expect(lines).toContain("args ['--lr', '0.5']")
    expect(lines).toContain('done')
    expect(done.metrics).toMatchObject({ loss: 0.167, acc: 0.9 })
    const run = await core.call('tracking.run.get', { runId: done.runId })
    expect(run.status).toBe('FINISHED')
    expect(run.params).toEqual({ lr: '0.5' })
    expect(run.tags).toMatchObject({ 'atelier.job.backend': 'local', 'atelier.job.id': job.id, 'atelier.job.remote_id': job.remoteId })
    const hist = await core.call('tracking.metrics.history', { runId: done.runId, key: 'loss', raw: true })
    expect(JSON.stringify(hist)).toContain('0.25')
    expect(core.seen.some((e) => e.name === 'job.log' && e.payload.jobId === job.id)).toBe(true)
    expect(core.seen.some((e) => e.name === 'job.status' && e.payload.id === job.id && e.payload.state === 'succeeded')).toBe(true)
  })

  it('reports a failing exit code as failed with the reason, and the run as FAILED', async () => {
    const job = await core.call('jobs.submit', { spec: spec('fail.py') })
    const done = await core.waitState(job.id, ['failed', 'succeeded'])
    expect(done).toMatchObject({ state: 'failed', exitCode: 3, reason: 'exited with code 3' })
    expect(await allLogLines(core, job.id)).toEqual(['about to fail'])
    expect((await core.call('tracking.run.get', { runId: done.runId })).status).toBe('FAILED')
  })

  it('cancels a running job by killing its process group; a third job waits for a free slot', async () => {
    const a = await core.call('jobs.submit', { spec: spec('sleep.py') })
    const b = await core.call('jobs.submit', { spec: spec('sleep.py') })
    const c = await core.call('jobs.submit', { spec: spec('sleep.py') })
    await core.waitState(a.id, ['running'])
    await core.waitState(b.id, ['running'])
    expect((await core.call('jobs.get', { jobId: c.id })).state).toBe('queued')
    expect((await core.call('jobs.get', { jobId: c.id })).remoteId).toBeNull()
    const pid = Number(a.remoteId.split('@')[0])
    const cancelled = await core.call('jobs.cancel', { jobId: a.id })
    expect(cancelled.state).toBe('cancelled')
    expect(() => process.kill(pid, 0)).toThrow()
    await core.waitState(c.id, ['running'])
    await core.call('jobs.cancel', { jobId: b.id })
    await core.call('jobs.cancel', { jobId: c.id })
    expect((await core.call('tracking.run.get', { runId: cancelled.runId })).status).toBe('KILLED')
  })

  it('keeps a local job running when the app quits and re-attaches to it on restart with its full log', async () => {
    const first = await createJobsTestCore()
    writeFileSync(join(first.workspaceDir, 'slow.py'), 'import time\nfor i in range(4):\n    print("tick", i, flush=True)\n    time.sleep(0.5)\n')
    const job = await first.call('jobs.submit', { spec: { name: 'slow', target: { kind: 'local' }, entry: { kind: 'script', path: 'slow.py' }, env: { python: PY } } })
    await first.waitState(job.id, ['running'])
    await first.close()
    const pid = Number(job.remoteId.split('@')[0])
    expect(() => process.kill(pid, 0)).not.toThrow() // it outlived the app
    const second = await createJobsTestCore({}, { root: first.root })
    try {
      const done = await second.waitState(job.id, ['succeeded', 'failed', 'lost'])
      expect(done).toMatchObject({ state: 'succeeded', exitCode: 0 })
      expect(await allLogLines(second, job.id)).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3'])
    } finally {
      await second.cleanup()
    }
  })

  it('refuses an invalid spec with field errors and submits nothing', async () => {
    const before = (await core.call('jobs.list', {})).length
    const bad = { ...spec('missing.py'), resources: { gpus: 1 }, metricDefinitions: [{ name: 'x', regex: 'no group' }] }
    const { fieldErrors } = await core.call('jobs.validate', { spec: bad })
    expect(fieldErrors.map((e: any) => e.field).sort()).toEqual(['entry.path', 'metricDefinitions.0.regex', 'resources.gpus'])
    const err = await core.call('jobs.submit', { spec: bad }).catch((e) => e)
    expect(err.code).toBe('INVALID_SPEC')
    expect(err.details.fieldErrors).toHaveLength(3)
    expect((await core.call('jobs.list', {})).length).toBe(before)
    const shape = await core.call('jobs.submit', { spec: { ...spec('train.py'), name: '' } }).catch((e) => e)
    expect(shape.code).toBe('INVALID_REQUEST')
  })

  it('converts a notebook to a script with magics commented out', async () => {
    writeFileSync(
      join(core.workspaceDir, 'nb.ipynb'),
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          { cell_type: 'markdown', metadata: {}, source: '# title' },
          { cell_type: 'code', metadata: {}, source: ['%matplotlib inline\n', '!pip list\n', 'x = 21\n'], outputs: [], execution_count: null },
          { cell_type: 'code', metadata: {}, source: 'print("answer", x * 2)', outputs: [], execution_count: null }
        ]
      })
    )
    const job = await core.call('jobs.submit', { spec: { name: 'nb', target: { kind: 'local' }, entry: { kind: 'notebook', path: 'nb.ipynb' }, env: { python: PY } } })
    await core.waitState(job.id, ['succeeded'])
    expect(await allLogLines(core, job.id)).toEqual(['answer 42'])
  })
})

const sshWhy = sshdUnavailable()
if (sshWhy) console.warn(`SSH job tests skipped: ${sshWhy}`)

describe.skipIf(sshWhy !== null || !haveSh)('SSH host jobs (real sshd on loopback)', () => {
  let core: JobsTestCore
  let sshd: TestSshd
  beforeAll(async () => {
    sshd = await startSshd()
    core = await createJobsTestCore()
    writeFileSync(join(core.workspaceDir, 'remote.py'), 'import os, time\nprint("on host", os.environ["HP_EPOCHS"], flush=True)\nprint("loss=0.25", flush=True)\ntime.sleep(float(os.environ.get("NAP", "0")))\n')
  }, 60_000)
  afterAll(async () => {
    await core?.cleanup()
    await sshd?.stop()
  })

  const target = (extra: Record<string, unknown> = {}) => ({
    name: 'gpu box',
    kind: 'ssh',
    ssh: { host: '127.0.0.1', port: sshd.port, username: userInfo().username, privateKeyPath: sshd.key, ...extra },
    workRoot: join(sshd.dir, 'work')
  })

  it('refuses an unknown host key naming the host, then uploads, runs, tails and cancels over SSH', async () => {
    const t = await core.call('jobs.targets.save', { target: target() })
    const spec = {
      name: 'remote',
      target: { kind: 'ssh', targetId: t.id },
      entry: { kind: 'script', path: 'remote.py' },
      env: { python: PY },
      hyperparameters: { epochs: 2 },
      metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }]
    }
    const refused = await core.call('jobs.submit', { spec }).catch((e) => e)
    expect(refused.code).toBe('SSH_HOST_KEY')
    expect(refused.message).toContain(`127.0.0.1:${sshd.port}`)
    expect(refused.details.fingerprint).toBe(sshd.hostFingerprint)
    await core.call('jobs.targets.save', { target: { ...target({ acceptHostKey: refused.details.fingerprint }), id: t.id } })
    const test = await core.call('jobs.targets.test', { targetId: t.id })
    expect(test.ok).toBe(true)
    const job = await core.call('jobs.submit', { spec })
    expect(job.remoteId).toMatch(/^\d+@/)
    const done = await core.waitState(job.id, ['succeeded', 'failed'])
    expect(done.state).toBe('succeeded')
    expect(await allLogLines(core, job.id)).toEqual(['on host 2', 'loss=0.25'])
    expect(done.metrics.loss).toBe(0.25)
    expect(existsSync(join(sshd.dir, 'work', job.id, 'src', 'remote.py'))).toBe(true)

    const long = await core.call('jobs.submit', { spec: { ...spec, env: { python: PY, vars: { NAP: '60' } } } })
    await core.waitState(long.id, ['running'])
    const pid = Number(long.remoteId.split('@')[0])
    expect((await core.call('jobs.cancel', { jobId: long.id })).state).toBe('cancelled')
    expect(() => process.kill(pid, 0)).toThrow()
  })

  it('writes a job folder of many files in many folders with one remote command (each one is a login shell)', async () => {
    const known = new Map<string, KnownHost>()
    const runner = new SshRunner(
      {
        host: '127.0.0.1',
        port: sshd.port,
        username: userInfo().username,
        privateKey: readFileSync(sshd.key),
        knownHosts: { get: (hp) => known.get(hp), set: (hp, e) => known.set(hp, e) },
        acceptFingerprint: sshd.hostFingerprint
      },
      silentLogger
    )
    try {
      const root = join(sshd.dir, 'work', 'many')
      const files = Array.from({ length: 20 }, (_, i) => ({ path: join(root, `d${i % 4}`, 'deeper', `f${i}.py`), content: `print(${i})\n` }))
      await runner.writeFiles([...files, { path: join(root, 'run.sh'), content: 'echo hi\n', mode: 0o755 }])
      expect(runner.calls).toBe(1)
      for (const f of files) expect(readFileSync(f.path, 'utf8')).toBe(f.content)
      expect(statSync(join(root, 'run.sh')).mode & 0o777).toBe(0o755)
      expect(statSync(files[0].path).mode & 0o777).toBe(0o644)
      await runner.writeFiles([])
      expect(runner.calls).toBe(1)
    } finally {
      await runner.close()
    }
  })

  it('reports an SSH key the host refuses as an authentication error naming the host', async () => {
    const t = await core.call('jobs.targets.save', { target: { ...target({ privateKeyPath: sshd.otherKey }), name: 'wrong key' } })
    const err = await core.call('jobs.targets.test', { targetId: t.id }).catch((e) => e)
    expect(err.code).toBe('SSH_ERROR')
    expect(err.message).toMatch(new RegExp(`authentication.*127\\.0\\.0\\.1:${sshd.port}`))
  })
})
