/**
 * How the page proves who it is to `serve`: the start-up token from the URL (kept for the tab), or a
 * login session (an HttpOnly cookie the page cannot read, plus a CSRF token it sends on POSTs). In
 * Electron the preload bridge is the door and none of this applies.
 */
import { create } from 'zustand'
import type { Principal } from '../../../../shared/auth'

export const TOKEN_KEY = 'atelier.token'

let csrfToken: string | null = null

/** What the page needs before it may start the app: 'app' (a token or a live session) or 'login'. */
export async function bootstrap(): Promise<'app' | 'login'> {
  if (window.workbench) return 'app'
  if (new URLSearchParams(location.search).get('token') || sessionStorage.getItem(TOKEN_KEY)) return 'app'
  try {
    const r = await fetch('/api/session', { credentials: 'same-origin' })
    if (!r.ok) return 'login'
    csrfToken = ((await r.json()) as { csrfToken: string | null }).csrfToken
    return 'app'
  } catch {
    return 'login'
  }
}

export async function signIn(name: string, password: string): Promise<void> {
  const r = await fetch('/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password })
  })
  if (r.status === 401) throw new Error('Wrong user name or password.')
  if (!r.ok) throw new Error(`Sign-in failed (HTTP ${r.status}).`)
  location.reload()
}

export async function signOut(): Promise<void> {
  await fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: csrfToken ? { 'X-CSRF-Token': csrfToken } : {} })
  sessionStorage.removeItem(TOKEN_KEY)
  location.reload()
}

/** Who is signed in (from `auth.whoami`), for the top bar and for hiding what the role cannot use. */
export const useSessionStore = create<{ principal: Principal | null; setPrincipal(p: Principal | null): void }>((set) => ({
  principal: null,
  setPrincipal: (principal) => set({ principal })
}))
