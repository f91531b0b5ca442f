/**
 * Who is at `serve`'s doors. A request proves itself with the start-up token (the admin's), a
 * personal or tracking API token (`Authorization: Bearer`), or a login session cookie; cookie-borne
 * requests that change something must also carry the session's CSRF token (`X-CSRF-Token`).
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Principal } from '../../shared/auth'
import type { TokenScope } from '../../shared/authApi'
import { AppError } from '../../shared/errors'
import type { AuthService } from '../services/auth/AuthService'
import { parseJson, readBody } from './http'

/** The start-up token's principal: the admin of this server. */
export const STARTUP_PRINCIPAL: Principal = Object.freeze({ id: 'startup', name: 'admin', role: 'admin', via: 'startup-token' })

export interface Authenticated {
  principal: Principal
  scope: TokenScope
  /** Present when the request came with a session cookie. */
  session?: { secret: string; csrfToken: string }
  /** Whatever proves it again later (a WebSocket re-checks it on each message). */
  credential: { kind: 'startup' } | { kind: 'token'; secret: string } | { kind: 'session'; secret: string }
}

export type AuthOutcome = { ok: true; who: Authenticated } | { ok: false; status: 401 | 403; message: string }

export function constantTimeEqual(given: string | null | undefined, expected: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The token from `Authorization: Bearer` (scheme case-insensitive, RFC 7235), `X-Atelier-Token` or `?token=`. */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')
  if (auth) return auth[1]
  const header = req.headers['x-atelier-token']
  if (typeof header === 'string') return header
  return url.searchParams.get('token')
}

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return null
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Slows password guessing: after FREE_FAILURES wrong passwords for one name from one address, that pair
 * waits (1 min, doubling to 15 min) before it may try again; a success clears it.
 */
export function loginThrottle(now: () => number = Date.now) {
  const FREE_FAILURES = 5
  const entries = new Map<string, { fails: number; until: number; last: number }>()
  return {
    /** ms to wait before this pair may try again (0: go ahead). */
    wait(key: string): number {
      const e = entries.get(key)
      return e ? Math.max(0, e.until - now()) : 0
    },
    failed(key: string): void {
      const t = now()
      if (entries.size > 10_000) for (const [k, e] of entries) if (t - e.last > 15 * 60_000) entries.delete(k)
      const e = entries.get(key) ?? { fails: 0, until: 0, last: t }
      e.fails++
      e.last = t
      if (e.fails >= FREE_FAILURES) e.until = t + Math.min(15 * 60_000, 60_000 * 2 ** (e.fails - FREE_FAILURES))
      entries.set(key, e)
    },
    succeeded(key: string): void {
      entries.delete(key)
    }
  }
}

export function createAuthenticator(o: { startupToken: string; auth: AuthService; port: () => number }) {
  const throttle = loginThrottle()
  // cookies are shared by every port of a host: each server names its own
  const cookieName = () => `atelier_session_${o.port()}`

  function resolveCredential(c: Authenticated['credential']): Omit<Authenticated, 'credential'> | null {
    if (c.kind === 'startup') return { principal: STARTUP_PRINCIPAL, scope: 'full' }
    if (c.kind === 'token') {
      const t = o.auth.resolveToken(c.secret)
      return t && { principal: t.principal, scope: t.scope }
    }
    const s = o.auth.resolveSession(c.secret)
    return s && { principal: s.principal, scope: 'full', session: { secret: c.secret, csrfToken: s.csrfToken } }
  }

  /** Who sent the request; for cookie-borne requests that are not GET/HEAD, the CSRF token is checked too. */
  function authenticate(req: IncomingMessage, url: URL, opts: { csrf?: boolean } = {}): AuthOutcome {
    const given = requestToken(req, url)
    if (given) {
      const credential: Authenticated['credential'] = constantTimeEqual(given, o.startupToken) ? { kind: 'startup' } : { kind: 'token', secret: given }
      const who = resolveCredential(credential)
      return who ? { ok: true, who: { ...who, credential } } : { ok: false, status: 403, message: 'Wrong token' }
    }
    const secret = cookie(req, cookieName())
    if (!secret) return { ok: false, status: 401, message: 'Missing token' }
    const credential = { kind: 'session' as const, secret }
    const who = resolveCredential(credential)
    if (!who) return { ok: false, status: 401, message: 'Session expired: sign in again' }
    const needsCsrf = opts.csrf ?? !SAFE_METHODS.has(req.method ?? 'GET')
    if (needsCsrf) {
      const header = req.headers['x-csrf-token']
      if (!constantTimeEqual(typeof header === 'string' ? header : null, who.session!.csrfToken)) {
        return { ok: false, status: 403, message: 'Missing or wrong X-CSRF-Token' }
      }
    }
    return { ok: true, who: { ...who, credential } }
  }

  /** `POST /api/login {name, password}`: a session cookie (HttpOnly, SameSite=Strict) and the CSRF token. */
  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: { name?: unknown; password?: unknown }
    try {
      body = parseJson(await readBody(req, 64 * 1024)) as typeof body
    } catch {
      return json(res, 400, { error: { code: 'INVALID_REQUEST', message: 'Expected {"name": …, "password": …}' } })
    }
    if (typeof body?.name !== 'string' || typeof body.password !== 'string' || !body.name || body.name.length > 64 || body.password.length > 1024) {
      return json(res, 400, { error: { code: 'INVALID_REQUEST', message: 'Expected {"name": …, "password": …}' } })
    }
    const key = `${req.socket.remoteAddress ?? ''}|${body.name.toLowerCase()}`
    const wait = throttle.wait(key)
    if (wait > 0) {
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)))
      return json(res, 429, { error: { code: 'UNAUTHORIZED', message: `Too many wrong passwords: try again in ${Math.ceil(wait / 1000)} s` } })
    }
    try {
      const s = await o.auth.login(body.name, body.password)
      throttle.succeeded(key)
      const maxAge = Math.max(0, Math.floor((s.expiresAt - Date.now()) / 1000))
      res.setHeader('Set-Cookie', `${cookieName()}=${s.sessionSecret}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`)
      return json(res, 200, { principal: s.principal, csrfToken: s.csrfToken })
    } catch (err) {
      if (err instanceof AppError && err.code === 'UNAUTHORIZED') {
        throttle.failed(key)
        return json(res, 401, { error: err.toPayload() })
      }
      throw err
    }
  }

  /** `POST /api/logout`: ends the session (CSRF-checked like every cookie-borne POST) and clears the cookie. */
  function logout(who: Authenticated, res: ServerResponse): void {
    if (who.session) o.auth.logout(who.session.secret)
    res.setHeader('Set-Cookie', `${cookieName()}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`)
    json(res, 200, { ok: true })
  }

  /** `GET /api/session`: who the page is signed in as and the CSRF token it must send. */
  function session(who: Authenticated, res: ServerResponse): void {
    json(res, 200, { principal: who.principal, csrfToken: who.session?.csrfToken ?? null })
  }

  return { authenticate, resolveCredential, login, logout, session }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
  res.end(JSON.stringify(body))
}
