import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../db'
import { LOCAL_PRINCIPAL } from '../../../shared/auth'
import { AuthService, type AuthChange } from './AuthService'
import { hashPassword, verifyPassword } from './passwords'
import { trackingTokenSource } from './trackingToken'

const FAST = { N: 1024, r: 8, p: 1, keylen: 32 }

function make(now = { t: Date.parse('2026-01-01T00:00:00Z') }) {
  const db = openDatabase(':memory:')
  const changes: AuthChange[] = []
  const auth = new AuthService({ db, scrypt: FAST, now: () => now.t, sessionTtlMs: 3600_000, onChange: (c) => changes.push(c) })
  return { db, auth, changes, now }
}

describe('passwords', () => {
  it('hashes with scrypt, a salt per hash and the parameters kept; verifies only the right password', async () => {
    const a = await hashPassword('correct horse', FAST)
    const b = await hashPassword('correct horse', FAST)
    expect(a.salt).not.toBe(b.salt)
    expect(a.hash).not.toBe(b.hash)
    expect(a.params).toEqual(FAST)
    expect(await verifyPassword('correct horse', a)).toBe(true)
    expect(await verifyPassword('correct hors', a)).toBe(false)
    // a hash made with other parameters still verifies: they are stored with it
    const strong = await hashPassword('pw-strong-1', { N: 4096, r: 8, p: 1, keylen: 32 })
    expect(await verifyPassword('pw-strong-1', strong)).toBe(true)
  })
})

describe('AuthService', () => {
  it('creates, lists, re-roles and disables users; stores no password in clear; reports every change', async () => {
    const { auth, db, changes } = make()
    const u = await auth.createUser('ada', 'scientist', 'analytical-engine', LOCAL_PRINCIPAL)
    expect(u).toMatchObject({ name: 'ada', role: 'scientist', disabled: false })
    await expect(auth.createUser('ADA', 'viewer', 'whatever-123', LOCAL_PRINCIPAL)).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    await expect(auth.createUser('bob', 'viewer', 'short', LOCAL_PRINCIPAL)).rejects.toThrow(/8 characters/)
    const row = db.prepare('SELECT * FROM users').get() as Record<string, string>
    expect(JSON.stringify(row)).not.toContain('analytical-engine')
    expect(JSON.parse(row.password_params)).toEqual(FAST)
    expect(auth.setRole('ada', 'reviewer', LOCAL_PRINCIPAL).role).toBe('reviewer')
    expect(auth.listUsers().map((x) => [x.name, x.role])).toEqual([['ada', 'reviewer']])
    expect(await auth.verifyPassword('ada', 'analytical-engine')).toMatchObject({ name: 'ada' })
    expect(await auth.verifyPassword('ada', 'wrong-password')).toBeNull()
    expect(await auth.verifyPassword('nobody', 'analytical-engine')).toBeNull()
    auth.setDisabled('ada', true, LOCAL_PRINCIPAL)
    expect(await auth.verifyPassword('ada', 'analytical-engine')).toBeNull()
    expect(changes.map((c) => c.kind)).toEqual(['user.created', 'user.role', 'user.disabled'])
    expect(changes[1]).toMatchObject({ before: 'scientist', user: { role: 'reviewer' }, actor: { id: 'local' } })
  })

  it('opens sessions that expire, end on logout and on disabling, each with its CSRF token', async () => {
    const { auth, db, now } = make()
    await auth.createUser('ada', 'viewer', 'analytical-engine', LOCAL_PRINCIPAL)
    await expect(auth.login('ada', 'nope-nope-nope')).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    const s = await auth.login('ada', 'analytical-engine')
    expect(s.csrfToken.length).toBeGreaterThan(30)
    // only the hash of the cookie is stored
    expect(JSON.stringify(db.prepare('SELECT * FROM sessions').all())).not.toContain(s.sessionSecret)
    expect(auth.resolveSession(s.sessionSecret)).toEqual({ principal: { id: expect.any(String), name: 'ada', role: 'viewer', via: 'session' }, csrfToken: s.csrfToken })
    expect(auth.resolveSession(s.sessionSecret + 'x')).toBeNull()
    now.t += 3600_000
    expect(auth.resolveSession(s.sessionSecret)).toBeNull()
    const s2 = await auth.login('ada', 'analytical-engine')
    expect(auth.resolveSession(s2.sessionSecret)).not.toBeNull()
    auth.logout(s2.sessionSecret)
    expect(auth.resolveSession(s2.sessionSecret)).toBeNull()
    const s3 = await auth.login('ada', 'analytical-engine')
    auth.setDisabled('ada', true, LOCAL_PRINCIPAL)
    expect(auth.resolveSession(s3.sessionSecret)).toBeNull()
  })

  it('issues personal API tokens shown once, stored hashed, carrying the current role, revocable', async () => {
    const { auth, db, changes } = make()
    await auth.createUser('ada', 'scientist', 'analytical-engine', LOCAL_PRINCIPAL)
    const { token, info } = auth.createToken('ada', 'laptop', LOCAL_PRINCIPAL)
    expect(token).toMatch(/^atl_/)
    expect(JSON.stringify(db.prepare('SELECT * FROM api_tokens').all())).not.toContain(token)
    expect(auth.resolveToken(token)).toMatchObject({ scope: 'full', principal: { name: 'ada', role: 'scientist', via: 'api-token' } })
    auth.setRole('ada', 'viewer', LOCAL_PRINCIPAL)
    expect(auth.resolveToken(token)?.principal.role).toBe('viewer')
    expect(auth.listTokens(auth.getUser('ada')!.id)[0]).toMatchObject({ name: 'laptop', userName: 'ada', lastUsedAt: expect.any(String), revokedAt: null })
    expect(() => auth.revokeToken(info.id, LOCAL_PRINCIPAL, 'someone-else')).toThrow(/No API token/)
    auth.revokeToken(info.id, LOCAL_PRINCIPAL)
    expect(auth.resolveToken(token)).toBeNull()
    expect(auth.resolveToken('atl_unknown')).toBeNull()
    expect(auth.resolveToken('')).toBeNull()
    expect(changes.filter((c) => c.kind.startsWith('token.')).map((c) => c.kind)).toEqual(['token.created', 'token.revoked'])
  })

  it('keeps one tracking-only token for kernels and jobs, and issues a new one once it is revoked', () => {
    const { auth } = make()
    const kept = new Map<string, string>()
    const secrets = { get: (k: string) => kept.get(k), set: (k: string, v: string) => void kept.set(k, v) }
    const source = trackingTokenSource(auth, secrets)
    const t1 = source()
    expect(source()).toBe(t1)
    expect(auth.resolveToken(t1)).toMatchObject({ scope: 'tracking', principal: { id: 'app:tracking' } })
    // a new app start (new source) reuses the kept token
    expect(trackingTokenSource(auth, secrets)()).toBe(t1)
    auth.revokeToken(auth.resolveToken(t1)!.tokenId, { id: 'x', name: 'x', role: 'admin', via: 'session' })
    const t2 = source()
    expect(t2).not.toBe(t1)
    expect(auth.resolveToken(t2)?.scope).toBe('tracking')
  })
})
