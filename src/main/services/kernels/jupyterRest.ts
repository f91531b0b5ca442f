import { ServerConnection } from '@jupyterlab/services'
import WebSocket from 'ws'
import { AppError } from '../../../shared/errors'

/** Where a Jupyter server answers, as seen from this process (for ssh: the local end of the tunnel). */
export interface Endpoint {
  baseUrl: string
  token: string
}

export function normalizeBaseUrl(url: string): string {
  const u = new URL(url)
  u.search = ''
  u.hash = ''
  if (!u.pathname.endsWith('/')) u.pathname += '/'
  return u.toString()
}

/**
 * `@jupyterlab/services` settings for Node: `ws` for WebSockets and the global fetch, passed
 * explicitly; the token travels in the Authorization header (REST) and the socket URL.
 */
export function makeSettings(ep: Endpoint, requestTimeoutMs = 10_000): ServerConnection.ISettings {
  const base = normalizeBaseUrl(ep.baseUrl)
  const timedFetch = (input: RequestInfo, init?: RequestInit) => {
    const signal = AbortSignal.timeout(requestTimeoutMs)
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal })
  }
  return ServerConnection.makeSettings({
    baseUrl: base,
    wsUrl: base.replace(/^http/, 'ws'),
    token: ep.token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: timedFetch as typeof fetch,
    Request,
    Headers
  })
}

/**
 * GET /api/status with the token, within `timeoutMs`: resolves on 200, else a clear error
 * (JUPYTER_AUTH for a wrong token, JUPYTER_UNAVAILABLE for anything unreachable or not Jupyter).
 */
export async function checkServer(ep: Endpoint, timeoutMs = 4000, label?: string): Promise<{ version: string | null }> {
  const base = normalizeBaseUrl(ep.baseUrl)
  const name = label ?? base
  let res: Response
  try {
    res = await fetch(new URL('api/status', base), {
      headers: ep.token ? { Authorization: `token ${ep.token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual'
    })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    const why =
      e.name === 'TimeoutError' || e.name === 'AbortError'
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message)
    throw new AppError('JUPYTER_UNAVAILABLE', `Cannot reach the Jupyter server at ${name}: ${why}.`, { baseUrl: name, reason: why })
  }
  if (res.status === 401 || res.status === 403 || (res.status >= 300 && res.status < 400 && /login/.test(res.headers.get('location') ?? ''))) {
    await res.body?.cancel().catch(() => {})
    throw new AppError('JUPYTER_AUTH', `The Jupyter server at ${name} refused the token (HTTP ${res.status}); check the token.`, {
      baseUrl: name,
      status: res.status
    })
  }
  let body: unknown = null
  try {
    body = await res.json()
  } catch {
    body = null
  }
  if (!res.ok || !body || typeof body !== 'object' || !('started' in body)) {
    throw new AppError('JUPYTER_UNAVAILABLE', `${name} answered HTTP ${res.status} but does not look like a Jupyter server.`, {
      baseUrl: name,
      status: res.status
    })
  }
  const version = await fetch(new URL('api', base), { signal: AbortSignal.timeout(timeoutMs) })
    .then((r) => r.json() as Promise<{ version?: string }>)
    .then((j) => j.version ?? null)
    .catch(() => null)
  return { version }
}
