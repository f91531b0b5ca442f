/**
 * The registry inside a real core: contract methods through the router with the caller's principal,
 * the shipped Python package on the PYTHONPATH of local jobs and kernels, and `registry.changed`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { CallContext } from '../../../shared/auth'
import { startTestServer } from '../../testing/serve'
import { createJobsTestCore, type JobsTestCore } from '../jobs/testing'

const PY = '/usr/bin/python3'
let core: JobsTestCore
beforeAll(async () => {
  core = await createJobsTestCore()
}, 60_000)
afterAll(async () => core?.cleanup())

const as = (id: string, role: 'scientist' | 'reviewer'): CallContext => ({ principal: { id, name: id, role, via: 'session' } })

describe('registry in the core', () => {
  it('contract methods record who acted, and refuse self-approval through the router', async () => {
    const sci = as('sam', 'scientist')
    await core.router.dispatch('registry.models.create', { name: 'fraud' }, sci)
    await expect(core.router.dispatch('registry.models.create', { name: 'bad/name' }, sci)).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    const m = (await core.router.dispatch('registry.models.get', { name: 'fraud' }, sci)) as { createdBy: { id: string } }
    expect(m.createdBy.id).toBe('sam')
    const audit = (await core.router.dispatch('audit.list', {}, sci)) as { events: { actor: { id: string }; action: string }[] }
    expect(audit.events[0]).toMatchObject({ actor: { id: 'sam' }, action: 'model.create' })
    expect(core.seen.some((e) => e.name === 'registry.changed' && e.payload.action === 'model.create')).toBe(true)
    expect(await core.router.dispatch('audit.verify', {}, sci)).toMatchObject({ ok: true })
  })

  it('local kernels get the shipped atelier package on PYTHONPATH', async () => {
    const env: Record<string, string> = {}
    for (const p of core.kernels.envProviders) Object.assign(env, await p())
    expect(env.PYTHONPATH?.split(':')[0]).toBe(resolve('resources/python'))
  })

  it.skipIf(!existsSync(PY))('local jobs can import atelier.models', async () => {
    const job = (await core.call('jobs.submit', {
      spec: { name: 'import-atelier', target: { kind: 'local' }, entry: { kind: 'command', command: `${PY} -c "import atelier.models as am; print('found', am.__file__)"` }, env: { python: PY } }
    })) as { id: string }
    const done = await core.waitState(job.id, ['succeeded', 'failed'])
    const lines = (await core.call('jobs.logs', { jobId: job.id, maxLines: 1000 })).lines as string[]
    expect(done.state, lines.join('\n')).toBe('succeeded')
    // every job folder receives the shipped package under lib/ (remote hosts have no copy of the app)
    expect(lines.some((l) => /^found \/.+\/lib\/atelier\/models\.py$/.test(l)), lines.join('\n')).toBe(true)
  })

  it('serve mounts the Model Registry REST API before the tracking API, behind its token', async () => {
    const server = await startTestServer(core, 'reg-token')
    try {
      const base = `http://127.0.0.1:${server.port}/api/2.0/mlflow`
      const headers = { Authorization: 'Bearer reg-token', 'Content-Type': 'application/json' }
      const created = await fetch(`${base}/registered-models/create`, { method: 'POST', headers, body: JSON.stringify({ name: 'served' }) })
      expect(created.status).toBe(200)
      const found = await (await fetch(`${base}/registered-models/search?filter=${encodeURIComponent("name = 'served'")}`, { headers })).json()
      expect(found.registered_models.map((m: { name: string }) => m.name)).toEqual(['served'])
      const anon = await fetch(`${base}/registered-models/get?name=served`)
      expect(anon.status).toBe(401)
      expect((await anon.json()).error_code).toBe('UNAUTHENTICATED')
      expect((await (await fetch(`${base}/experiments/get?experiment_id=0`, { headers })).json()).experiment.name).toBe('Default')
    } finally {
      await server.close()
    }
  })

  it('in serve, each user acts as themselves over REST: roles gate the routes, nobody approves their own version, users are audited', async () => {
    const admin = { id: 'cli', name: 'admin', role: 'admin', via: 'local' } as const
    const token: Record<string, string> = {}
    for (const [name, role] of [['sam', 'scientist'], ['rita', 'reviewer'], ['vic', 'viewer']] as const) {
      await core.auth.createUser(name, role, 'correct horse battery staple', admin)
      token[name] = core.auth.createToken(name, 'cli', admin).token
    }
    const server = await startTestServer(core, 'reg-token-2')
    try {
      const base = `http://127.0.0.1:${server.port}/api/2.0/mlflow`
      const call = async (who: string, method: string, endpoint: string, body?: unknown) => {
        const r = await fetch(`${base}/${endpoint}`, { method, headers: { Authorization: `Bearer ${token[who]}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
        return { status: r.status, body: await r.json() }
      }
      expect(await call('vic', 'POST', 'registered-models/create', { name: 'gated' })).toMatchObject({ status: 403, body: { error_code: 'PERMISSION_DENIED' } })
      expect((await call('sam', 'POST', 'registered-models/create', { name: 'gated' })).status).toBe(200)
      expect((await call('vic', 'GET', 'registered-models/get?name=gated')).body.registered_model.user_id).toBe('sam')
      const runId = (await call('sam', 'POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id
      expect((await call('sam', 'POST', 'model-versions/create', { name: 'gated', source: `runs:/${runId}/model`, run_id: runId })).status).toBe(200)
      expect((await call('sam', 'POST', 'model-versions/request-review', { name: 'gated', version: '1' })).body.approval_status).toBe('PendingManualApproval')
      // sam may write but not review; vic may do neither; rita reviews
      expect(await call('sam', 'POST', 'model-versions/approve', { name: 'gated', version: '1', comment: 'mine' })).toMatchObject({ status: 403, body: { error_code: 'PERMISSION_DENIED' } })
      expect(await call('vic', 'POST', 'model-versions/approve', { name: 'gated', version: '1', comment: 'x' })).toMatchObject({ status: 403 })
      expect(await call('rita', 'POST', 'registered-models/create', { name: 'nope' })).toMatchObject({ status: 403 })
      const ok = await call('rita', 'POST', 'model-versions/approve', { name: 'gated', version: '1', comment: 'reviewed' })
      expect(ok).toMatchObject({ status: 200, body: { approval_status: 'Approved' } })
      // through the contract the same roles hold
      await expect(core.router.dispatch('registry.review.approve', { name: 'gated', version: 1, comment: 'x' }, as('vic', 'scientist'))).rejects.toMatchObject({ code: 'FORBIDDEN' })
      const events = (await core.router.dispatch('audit.list', { limit: 100 }, as('vic', 'scientist'))) as { events: { action: string; actor: { name: string }; entity: string }[] }
      const seen = events.events.map((e) => `${e.actor.name}:${e.action}:${e.entity}`)
      expect(seen).toContain('admin:user.create:rita')
      expect(seen).toContain('sam:version.create:gated/1')
      expect(seen).toContain('rita:version.approved:gated/1')
    } finally {
      await server.close()
    }
  })
})
