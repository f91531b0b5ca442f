import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Principal } from '../../shared/auth'
import { createTestCore, type TestCore } from '../testing/core'
import type { RunningServer } from './server'
import { loginThrottle } from './authn'
import { startTestServer } from '../testing/serve'

let core: TestCore
let server: RunningServer
let base: string
const TOKEN = 'startup-token-789'
let viewerToken: string
let scientistToken: string
let viewer: Principal

beforeAll(async () => {
  core = await createTestCore()
  server = await startTestServer(core, TOKEN, { recheckMs: 100 })
  base = `http://127.0.0.1:${server.port}`
  const admin = { id: 'test', name: 'test', role: 'admin', via: 'local' } as const
  const v = await core.auth.createUser('vera', 'viewer', 'vera-password', admin)
  await core.auth.createUser('sam', 'scientist', 'sam-password', admin)
  viewer = { id: v.id, name: 'vera', role: 'viewer', via: 'session' }
  viewerToken = core.auth.createToken('vera', 'cli', admin).token
  scientistToken = core.auth.createToken('sam', 'cli', admin).token
})
afterAll(async () => {
  await server?.close()
  await core?.cleanup()
})

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` })

async function rpcHttp(headers: Record<string, string>, method: string, params: unknown = {}) {
  const r = await fetch(`${base}/api/rpc`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ method, params }) })
  return { status: r.status, body: (await r.json()) as any }
}

/** How the server closed each socket (a socket may be closed before the test's next call). */
const closeCodes = new WeakMap<WebSocket, number>()

function openWs(opts: { token?: string; headers?: Record<string, string> }): Promise<WebSocket> {
  const q = opts.token ? `?token=${opts.token}` : ''
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws${q}`, { headers: opts.headers })
    ws.on('open', () => res(ws))
    ws.on('close', (code) => closeCodes.set(ws, code))
    ws.on('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)))
    ws.on('error', rej)
  })
}

/** A call on a socket whose sign-in ended: refused as UNAUTHORIZED, or the socket already closed with 4001. */
function expectSignedOut(reply: { closed?: number | null; error?: { code: string } }) {
  if (reply.closed === undefined) expect(reply.error?.code).toBe('UNAUTHORIZED')
  else expect(reply.closed).toBe(4001)
}

let nextId = 1
/** The reply to one call, or `{closed: code}` when the server closes the socket first. */
function rpcWs(ws: WebSocket, method: string, params: unknown = {}): Promise<any> {
  const id = nextId++
  // closing already (the server's close frame came in): its code arrives with the 'close' event
  if (ws.readyState === ws.CLOSING) return new Promise((res) => ws.once('close', (code: number) => res({ closed: code })))
  if (ws.readyState !== ws.OPEN) return Promise.resolve({ closed: closeCodes.get(ws) ?? null })
  return new Promise((res) => {
    const onMsg = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data))
      if (m.id === id) {
        ws.off('message', onMsg)
        ws.off('close', onClose)
        res(m)
      }
    }
    const onClose = (code: number) => {
      ws.off('message', onMsg)
      res({ closed: code })
    }
    ws.on('message', onMsg)
    ws.once('close', onClose)
    ws.send(JSON.stringify({ id, method, params }))
  })
}

async function login(name: string, password: string) {
  const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base }, body: JSON.stringify({ name, password }) })
  const setCookie = r.headers.get('set-cookie') ?? ''
  return { status: r.status, body: (await r.json()) as any, setCookie, cookie: setCookie.split(';')[0] }
}

describe('permissions at every door', () => {
  it('direct dispatch: a viewer calling a write method gets FORBIDDEN before the handler runs', async () => {
    await expect(core.router.dispatch('settings.set', { key: 'k', value: 1 }, { principal: viewer })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      details: { permission: 'write', role: 'viewer' }
    })
    expect(await core.router.dispatch('settings.get', { key: 'k' }, { principal: viewer })).toEqual({ value: null })
    // refused even with invalid params: the permission comes first
    await expect(core.router.dispatch('auth.users.create', { bogus: 1 }, { principal: viewer })).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('HTTP /api/rpc: the personal token carries its user role', async () => {
    const refused = await rpcHttp(bearer(viewerToken), 'settings.set', { key: 'k', value: 1 })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('FORBIDDEN')
    expect((await rpcHttp(bearer(viewerToken), 'settings.get', { key: 'k' })).status).toBe(200)
    expect((await rpcHttp(bearer(scientistToken), 'settings.set', { key: 'k', value: 1 })).status).toBe(200)
    expect((await rpcHttp(bearer(viewerToken), 'auth.whoami')).body.result.principal).toMatchObject({ name: 'vera', role: 'viewer', via: 'api-token' })
    expect((await rpcHttp(bearer(TOKEN), 'auth.whoami')).body.result.principal).toEqual({ id: 'startup', name: 'admin', role: 'admin', via: 'startup-token' })
    expect((await rpcHttp(bearer(scientistToken), 'auth.users.list')).body.error.code).toBe('FORBIDDEN')
    expect((await rpcHttp(bearer(TOKEN), 'auth.users.list')).body.result.map((u: any) => u.name)).toEqual(expect.arrayContaining(['sam', 'vera']))
  })

  it('WebSocket: the same refusal', async () => {
    const ws = await openWs({ token: viewerToken })
    expect((await rpcWs(ws, 'settings.set', { key: 'k', value: 2 })).error.code).toBe('FORBIDDEN')
    expect((await rpcWs(ws, 'settings.get', { key: 'k' })).result).toEqual({ value: 1 })
    ws.close()
  })

  it('MLflow REST: tracking writes need write', async () => {
    const create = (t: string, name: string) =>
      fetch(`${base}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { ...bearer(t), 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) })
    const refused = await create(viewerToken, 'by-viewer')
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error_code: 'PERMISSION_DENIED' })
    const search = await fetch(`${base}/api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { ...bearer(viewerToken), 'Content-Type': 'application/json' }, body: '{"max_results": 5}' })
    expect(search.status).toBe(200)
    expect((await create(scientistToken, 'by-scientist')).status).toBe(200)
    const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/0/x/artifacts/a.txt`, { method: 'PUT', headers: bearer(viewerToken), body: 'x' })
    expect(put.status).toBe(403)
  })

  it('query tabs are each signed-in user\'s own; a viewer may keep theirs', async () => {
    const tab = (sql: string) => ({ tabs: [{ id: 't1', title: 'Q', sql }], activeId: 't1' })
    expect((await rpcHttp(bearer(viewerToken), 'tabs.save', tab('select 1'))).status).toBe(200)
    expect((await rpcHttp(bearer(scientistToken), 'tabs.save', tab('select 2'))).status).toBe(200)
    expect((await rpcHttp(bearer(viewerToken), 'tabs.load')).body.result.tabs[0].sql).toBe('select 1')
    expect((await rpcHttp(bearer(scientistToken), 'tabs.load')).body.result.tabs[0].sql).toBe('select 2')
    expect((await rpcHttp(bearer(TOKEN), 'tabs.load')).body.result.tabs).toEqual([])
  })

  it('a revoked or disabled user token stops working at once', async () => {
    const admin = { id: 'test', name: 'test', role: 'admin', via: 'local' } as const
    const { token, info } = core.auth.createToken('sam', 'temp', admin)
    expect((await rpcHttp(bearer(token), 'settings.get', { key: 'k' })).status).toBe(200)
    core.auth.revokeToken(info.id, admin)
    expect((await rpcHttp(bearer(token), 'settings.get', { key: 'k' })).status).toBe(403)
    await core.auth.createUser('temp', 'scientist', 'temp-password', admin)
    const t2 = core.auth.createToken('temp', 'x', admin).token
    const ws = await openWs({ token: t2 })
    expect((await rpcWs(ws, 'settings.get', { key: 'k' })).result).toBeDefined()
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)))
    core.auth.setDisabled('temp', true, admin)
    expect((await rpcHttp(bearer(t2), 'settings.get', { key: 'k' })).status).toBe(403)
    // an open socket finds out at its next call (unless the periodic re-check closed it first), and an idle one is closed
    expectSignedOut(await rpcWs(ws, 'settings.get', { key: 'k' }))
    expect(await closed).toBe(4001)
    const t3 = core.auth.createToken('sam', 'idle', admin)
    const idle = await openWs({ token: t3.token })
    const idleClosed = new Promise<number>((r) => idle.on('close', (code) => r(code)))
    core.auth.revokeToken(t3.info.id, admin)
    expect(await idleClosed).toBe(4001)
  })
})

describe('login sessions', () => {
  it('signs in with a password: HttpOnly SameSite=Strict cookie and a CSRF token; wrong passwords get 401', async () => {
    expect((await login('vera', 'wrong-password')).status).toBe(401)
    expect((await login('nobody', 'vera-password')).status).toBe(401)
    const foreign = await fetch(`${base}/api/login`, { method: 'POST', headers: { Origin: 'http://evil.example' }, body: '{"name":"vera","password":"vera-password"}' })
    expect(foreign.status).toBe(403)
    const s = await login('vera', 'vera-password')
    expect(s.status).toBe(200)
    expect(s.setCookie).toMatch(/HttpOnly/)
    expect(s.setCookie).toMatch(/SameSite=Strict/)
    expect(s.body.principal).toMatchObject({ name: 'vera', role: 'viewer', via: 'session' })
    const me = await fetch(`${base}/api/session`, { headers: { Cookie: s.cookie } })
    expect(await me.json()).toMatchObject({ principal: { name: 'vera' }, csrfToken: s.body.csrfToken })
  })

  it('makes a name wait after five wrong passwords from one address', async () => {
    const admin = { id: 'test', name: 'test', role: 'admin', via: 'local' } as const
    await core.auth.createUser('guessme', 'viewer', 'guessme-password', admin)
    for (let i = 0; i < 5; i++) expect((await login('guessme', `wrong-${i}-password`)).status).toBe(401)
    const blocked = await fetch(`${base}/api/login`, { method: 'POST', body: JSON.stringify({ name: 'guessme', password: 'guessme-password' }) })
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    // other names are not held up
    expect((await login('sam', 'sam-password')).status).toBe(200)
  })

  it('loginThrottle: waits double after each further failure and a success clears them', () => {
    let t = 0
    const th = loginThrottle(() => t)
    for (let i = 0; i < 4; i++) th.failed('k')
    expect(th.wait('k')).toBe(0)
    th.failed('k')
    expect(th.wait('k')).toBe(60_000)
    t += 60_000
    expect(th.wait('k')).toBe(0)
    th.failed('k')
    expect(th.wait('k')).toBe(120_000)
    th.succeeded('k')
    expect(th.wait('k')).toBe(0)
  })

  it('refuses cookie-authenticated POSTs without the CSRF token', async () => {
    const s = await login('sam', 'sam-password')
    const without = await rpcHttp({ Cookie: s.cookie }, 'settings.get', { key: 'k' })
    expect(without.status).toBe(403)
    expect(JSON.stringify(without.body)).toMatch(/CSRF/)
    expect((await rpcHttp({ Cookie: s.cookie, 'X-CSRF-Token': 'guess' }, 'settings.get', { key: 'k' })).status).toBe(403)
    const ok = await rpcHttp({ Cookie: s.cookie, 'X-CSRF-Token': s.body.csrfToken }, 'settings.set', { key: 'k', value: 3 })
    expect(ok.status).toBe(200)
    const logoutNoCsrf = await fetch(`${base}/api/logout`, { method: 'POST', headers: { Cookie: s.cookie } })
    expect(logoutNoCsrf.status).toBe(403)
  })

  it('opens the WebSocket with the session cookie (Origin checked); sign-out ends it', async () => {
    const s = await login('vera', 'vera-password')
    await expect(openWs({ headers: { Cookie: s.cookie, Origin: 'http://evil.example' } })).rejects.toThrow('HTTP 403')
    const ws = await openWs({ headers: { Cookie: s.cookie, Origin: base } })
    expect((await rpcWs(ws, 'auth.whoami')).result.principal).toMatchObject({ name: 'vera', role: 'viewer', via: 'session' })
    expect((await rpcWs(ws, 'settings.set', { key: 'k', value: 4 })).error.code).toBe('FORBIDDEN')
    const out = await fetch(`${base}/api/logout`, { method: 'POST', headers: { Cookie: s.cookie, 'X-CSRF-Token': s.body.csrfToken } })
    expect(out.status).toBe(200)
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/)
    // the socket's next call is refused, or the periodic re-check has already closed it as signed out
    expectSignedOut(await rpcWs(ws, 'auth.whoami'))
    expect((await fetch(`${base}/api/session`, { headers: { Cookie: s.cookie } })).status).toBe(401)
    await expect(openWs({ headers: { Cookie: s.cookie, Origin: base } })).rejects.toThrow('HTTP 401')
  })
})

describe('the tracking token kernels and jobs get', () => {
  it('works on the MLflow REST routes only, and is not the serve token', async () => {
    const t = core.tracking.trackingEnv().MLFLOW_TRACKING_TOKEN
    expect(t).toMatch(/^atl_/)
    expect(t).not.toBe(TOKEN)
    expect((await fetch(`${base}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: bearer(t) })).status).toBe(200)
    const create = await fetch(`${base}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: bearer(t), body: '{"name":"from-kernel"}' })
    expect(create.status).toBe(200)
    const rpc = await rpcHttp(bearer(t), 'app.info')
    expect(rpc.status).toBe(403)
    expect((await fetch(`${base}/api/health`, { headers: bearer(t) })).status).toBe(403)
    await expect(openWs({ token: t })).rejects.toThrow('HTTP 403')
  })

  it('is revocable; the next kernel or job gets a new one', async () => {
    const t = core.tracking.trackingEnv().MLFLOW_TRACKING_TOKEN
    const tokens = (await rpcHttp(bearer(TOKEN), 'auth.tokens.list')).body.result as any[]
    const mine = tokens.find((x) => x.scope === 'tracking' && !x.revokedAt)
    expect(mine).toMatchObject({ userName: null })
    expect((await rpcHttp(bearer(TOKEN), 'auth.tokens.revoke', { id: mine.id })).status).toBe(200)
    expect((await fetch(`${base}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: bearer(t) })).status).toBe(403)
    const next = core.tracking.trackingEnv().MLFLOW_TRACKING_TOKEN
    expect(next).not.toBe(t)
    expect((await fetch(`${base}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: bearer(next) })).status).toBe(200)
  })
})
