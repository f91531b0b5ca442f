/**
 * Who is calling. Every call through every door carries a principal: the local user on the desktop,
 * the token's owner or the logged-in user in `serve`. The router checks the method's permission for
 * it before the handler runs, and handlers that record who did something read it from the context.
 */
export const ROLES = ['viewer', 'scientist', 'reviewer', 'admin'] as const
export type Role = (typeof ROLES)[number]

export interface Principal {
  /** Stable user id (the `users` table's id; `local` for the desktop's own user). */
  id: string
  /** Display / login name. */
  name: string
  role: Role
  /** How the caller proved who it is. */
  via: 'local' | 'startup-token' | 'session' | 'api-token'
}

export interface CallContext {
  principal: Principal
  /** The door carries bytes (WebSocket binary frames, Electron IPC): results may hold Uint8Arrays. */
  binary?: boolean
}

/** The desktop's single user and direct calls from tests: full power. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ id: 'local', name: 'local', role: 'admin', via: 'local' })
export const LOCAL_CONTEXT: CallContext = Object.freeze({ principal: LOCAL_PRINCIPAL })
