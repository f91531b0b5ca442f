/**
 * Identity for `serve`: user accounts with roles, login sessions (cookie + CSRF token), personal API
 * tokens, and the app's own tracking-only token for kernels and jobs. Only hashes are stored. Every
 * request at a door is resolved here to a Principal, whose role the router checks.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { AppDatabase } from '../../db'
import type { Principal, Role } from '../../../shared/auth'
import type { ApiTokenInfo, TokenScope, UserInfo } from '../../../shared/authApi'
import { AppError } from '../../../shared/errors'
import { DEFAULT_SCRYPT, hashPassword, newSecret, sha256, verifyPassword, type PasswordHash, type ScryptParams } from './passwords'

/** A change to users or tokens, reported through `onChange` (the audit trail listens there). */
export type AuthChange =
  | { kind: 'user.created'; actor: Principal; user: UserInfo }
  | { kind: 'user.role'; actor: Principal; user: UserInfo; before: Role }
  | { kind: 'user.disabled'; actor: Principal; user: UserInfo; before: boolean }
  | { kind: 'user.password'; actor: Principal; user: UserInfo }
  | { kind: 'token.created'; actor: Principal; token: ApiTokenInfo }
  | { kind: 'token.revoked'; actor: Principal; token: ApiTokenInfo }

export interface AuthServiceOptions {
  db: AppDatabase
  /** Every user and token change, after it is committed. */
  onChange?: (change: AuthChange) => void
  /** scrypt cost for new passwords (tests lower it). */
  scrypt?: ScryptParams
  /** Session lifetime in ms (default 12 h). */
  sessionTtlMs?: number
  now?: () => number
}

export interface LoginResult {
  /** The cookie's value; only its hash is stored. */
  sessionSecret: string
  csrfToken: string
  expiresAt: number
  principal: Principal
}

export interface ResolvedSession {
  principal: Principal
  csrfToken: string
}

export interface ResolvedToken {
  principal: Principal
  scope: TokenScope
  tokenId: string
}

interface UserRow {
  id: string
  name: string
  role: Role
  password_hash: string
  password_salt: string
  password_params: string
  created_at: string
  disabled: number
}

interface TokenRow {
  id: string
  user_id: string | null
  user_name: string | null
  name: string
  scope: TokenScope
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}

const TOKEN_PREFIX = 'atl_'
/** The principal behind the app's own tracking token: may write to the tracking store, nothing else. */
export const TRACKING_PRINCIPAL: Principal = Object.freeze({ id: 'app:tracking', name: 'tracking', role: 'scientist', via: 'api-token' })

const toUser = (r: UserRow): UserInfo => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at, disabled: r.disabled === 1 })
const toToken = (r: TokenRow): ApiTokenInfo => ({
  id: r.id,
  name: r.name,
  userName: r.user_name,
  scope: r.scope,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at
})
const principalOf = (u: Pick<UserRow, 'id' | 'name' | 'role'>, via: Principal['via']): Principal => ({ id: u.id, name: u.name, role: u.role, via })

export class AuthService {
  private readonly db: AppDatabase
  private readonly scrypt: ScryptParams
  private readonly ttl: number
  private readonly now: () => number
  private readonly onChange: (change: AuthChange) => void
  /** A hash to compare against when the user does not exist, so that answer takes as long as a wrong password. */
  private decoy: Promise<PasswordHash> | null = null

  constructor(o: AuthServiceOptions) {
    this.db = o.db
    this.scrypt = o.scrypt ?? DEFAULT_SCRYPT
    this.ttl = o.sessionTtlMs ?? 12 * 3600_000
    this.now = o.now ?? Date.now
    this.onChange = o.onChange ?? (() => {})
  }

  // ---------- users ----------

  private row(name: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined
  }

  private requireRow(name: string): UserRow {
    const r = this.row(name)
    if (!r) throw new AppError('NOT_FOUND', `No user named '${name}'`)
    return r
  }

  listUsers(): UserInfo[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(toUser)
  }

  getUser(name: string): UserInfo | null {
    const r = this.row(name)
    return r ? toUser(r) : null
  }

  async createUser(name: string, role: Role, password: string, actor: Principal): Promise<UserInfo> {
    if (this.row(name)) throw new AppError('INVALID_REQUEST', `A user named '${name}' already exists`)
    if (password.length < 8) throw new AppError('INVALID_REQUEST', 'The password needs at least 8 characters')
    const h = await hashPassword(password, this.scrypt)
    const id = randomUUID()
    try {
      this.db
        .prepare('INSERT INTO users (id, name, role, password_hash, password_salt, password_params) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, name, role, h.hash, h.salt, JSON.stringify(h.params))
    } catch (err) {
      if (/UNIQUE/.test(String(err))) throw new AppError('INVALID_REQUEST', `A user named '${name}' already exists`)
      throw err
    }
    const user = toUser(this.requireRow(name))
    this.onChange({ kind: 'user.created', actor, user })
    return user
  }

  setRole(name: string, role: Role, actor: Principal): UserInfo {
    const before = this.requireRow(name)
    this.db.prepare('UPDATE users SET role = ? WHERE id = ?').run(role, before.id)
    const user = toUser(this.requireRow(name))
    if (before.role !== role) this.onChange({ kind: 'user.role', actor, user, before: before.role })
    return user
  }

  /** A disabled user cannot sign in; their sessions end at once and their tokens stop working. */
  setDisabled(name: string, disabled: boolean, actor: Principal): UserInfo {
    const before = this.requireRow(name)
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, before.id)
      if (disabled) this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(before.id)
    })()
    const user = toUser(this.requireRow(name))
    if ((before.disabled === 1) !== disabled) this.onChange({ kind: 'user.disabled', actor, user, before: before.disabled === 1 })
    return user
  }

  async setPassword(name: string, password: string, actor: Principal): Promise<UserInfo> {
    const before = this.requireRow(name)
    if (password.length < 8) throw new AppError('INVALID_REQUEST', 'The password needs at least 8 characters')
    const h = await hashPassword(password, this.scrypt)
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE users SET password_hash = ?, password_salt = ?, password_params = ? WHERE id = ?')
        .run(h.hash, h.salt, JSON.stringify(h.params), before.id)
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(before.id)
    })()
    const user = toUser(this.requireRow(name))
    this.onChange({ kind: 'user.password', actor, user })
    return user
  }

  /**
   * The user when the password is theirs and the account enabled, else null. Always runs one scrypt
   * (against a decoy for unknown names) and compares in constant time.
   */
  async verifyPassword(name: string, password: string): Promise<UserInfo | null> {
    const r = this.row(name)
    if (!r) {
      this.decoy ??= hashPassword(randomBytes(16).toString('hex'), this.scrypt)
      await verifyPassword(password, await this.decoy)
      return null
    }
    const ok = await verifyPassword(password, { hash: r.password_hash, salt: r.password_salt, params: JSON.parse(r.password_params) as ScryptParams })
    return ok && r.disabled === 0 ? toUser(r) : null
  }

  // ---------- sessions ----------

  async login(name: string, password: string): Promise<LoginResult> {
    const user = await this.verifyPassword(name, password)
    if (!user) throw new AppError('UNAUTHORIZED', 'Wrong user name or password')
    const now = this.now()
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now)
    const sessionSecret = newSecret()
    const csrfToken = newSecret()
    const expiresAt = now + this.ttl
    this.db.prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES (?, ?, ?, ?)').run(sha256(sessionSecret), user.id, csrfToken, expiresAt)
    return { sessionSecret, csrfToken, expiresAt, principal: principalOf(user, 'session') }
  }

  resolveSession(secret: string): ResolvedSession | null {
    if (!secret) return null
    const r = this.db
      .prepare(
        `SELECT s.csrf_token, s.expires_at, u.id, u.name, u.role, u.disabled
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`
      )
      .get(sha256(secret)) as { csrf_token: string; expires_at: number; id: string; name: string; role: Role; disabled: number } | undefined
    if (!r || r.disabled === 1 || r.expires_at <= this.now()) return null
    return { principal: principalOf(r, 'session'), csrfToken: r.csrf_token }
  }

  logout(secret: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(sha256(secret))
  }

  // ---------- API tokens ----------

  private tokenRow(id: string): TokenRow | undefined {
    return this.db
      .prepare('SELECT t.*, u.name AS user_name FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.id = ?')
      .get(id) as TokenRow | undefined
  }

  private insertToken(userId: string | null, name: string, scope: TokenScope, actor: Principal): { token: string; info: ApiTokenInfo } {
    const token = newSecret(TOKEN_PREFIX)
    const id = randomUUID()
    this.db.prepare('INSERT INTO api_tokens (id, user_id, name, token_hash, scope) VALUES (?, ?, ?, ?, ?)').run(id, userId, name, sha256(token), scope)
    const info = toToken(this.tokenRow(id)!)
    this.onChange({ kind: 'token.created', actor, token: info })
    return { token, info }
  }

  /** A personal API token for `userName` with the user's role at every door; the secret is returned once. */
  createToken(userName: string, name: string, actor: Principal): { token: string; info: ApiTokenInfo } {
    const u = this.requireRow(userName)
    if (u.disabled === 1) throw new AppError('INVALID_REQUEST', `The user '${userName}' is disabled`)
    return this.insertToken(u.id, name, 'full', actor)
  }

  /** A token issued by the app itself that works on the MLflow REST routes only. */
  createTrackingToken(name: string, actor: Principal): { token: string; info: ApiTokenInfo } {
    return this.insertToken(null, name, 'tracking', actor)
  }

  /** Tokens of one user (by user id), or of the app itself when `userId` is null. */
  listTokens(userId: string | null): ApiTokenInfo[] {
    const rows = this.db
      .prepare(
        `SELECT t.*, u.name AS user_name FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
         WHERE t.user_id IS ? ORDER BY t.created_at, t.id`
      )
      .all(userId) as TokenRow[]
    return rows.map(toToken)
  }

  listAllTokens(): ApiTokenInfo[] {
    const rows = this.db.prepare('SELECT t.*, u.name AS user_name FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id').all() as TokenRow[]
    return rows.map(toToken)
  }

  /** Revokes a token. `ownerId` (when given) must own it: a user revokes only their own tokens. */
  revokeToken(id: string, actor: Principal, ownerId?: string | null): ApiTokenInfo {
    const r = this.tokenRow(id)
    if (!r || (ownerId !== undefined && r.user_id !== ownerId)) throw new AppError('NOT_FOUND', `No API token ${id}`)
    if (!r.revoked_at) this.db.prepare("UPDATE api_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").run(id)
    const info = toToken(this.tokenRow(id)!)
    if (!r.revoked_at) this.onChange({ kind: 'token.revoked', actor, token: info })
    return info
  }

  /** The principal and scope of a presented token; null when unknown, revoked or its user disabled. */
  resolveToken(secret: string): ResolvedToken | null {
    if (!secret.startsWith(TOKEN_PREFIX)) return null
    const r = this.db
      .prepare(
        `SELECT t.id, t.scope, t.last_used_at, t.revoked_at, t.user_id, u.name, u.role, u.disabled
         FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`
      )
      .get(sha256(secret)) as
      | { id: string; scope: TokenScope; last_used_at: string | null; revoked_at: string | null; user_id: string | null; name: string | null; role: Role | null; disabled: number | null }
      | undefined
    if (!r || r.revoked_at) return null
    let principal: Principal
    if (r.user_id === null) principal = TRACKING_PRINCIPAL
    else if (r.disabled === 1 || !r.name || !r.role) return null
    else principal = principalOf({ id: r.user_id, name: r.name, role: r.role }, 'api-token')
    // last use, to the minute: no write per request on a busy token
    const now = this.now()
    if (!r.last_used_at || now - Date.parse(r.last_used_at) > 60_000) {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(new Date(now).toISOString(), r.id)
    }
    return { principal, scope: r.scope, tokenId: r.id }
  }
}
