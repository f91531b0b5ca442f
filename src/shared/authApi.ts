/**
 * The auth domain's part of the contract: who am I, user accounts (admins) and personal API tokens.
 * `api.ts` spreads `authRequests()` into its request table and merges `AuthResults`.
 */
import { z } from 'zod'
import { ROLES, type Principal, type Role } from './auth'

export const UserName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, . _ @ - (at most 64)')
export const Password = z.string().min(8, 'at least 8 characters').max(1024)
export const RoleSchema = z.enum(ROLES)
export const TokenScope = z.enum(['full', 'tracking'])
export type TokenScope = z.infer<typeof TokenScope>

export function authRequests() {
  return {
    /** The caller's principal (the UI shows it and hides what the role cannot use). */
    'auth.whoami': z.object({}).strict(),
    'auth.users.list': z.object({}).strict(),
    'auth.users.create': z.object({ name: UserName, role: RoleSchema, password: Password }).strict(),
    'auth.users.setRole': z.object({ name: UserName, role: RoleSchema }).strict(),
    'auth.users.setDisabled': z.object({ name: UserName, disabled: z.boolean() }).strict(),
    /** The caller's own personal API tokens. */
    'auth.tokens.list': z.object({}).strict(),
    /** A new personal API token for the caller; the secret is in the answer once and never again. */
    'auth.tokens.create': z.object({ name: z.string().min(1).max(100) }).strict(),
    'auth.tokens.revoke': z.object({ id: z.string().min(1).max(100) }).strict()
  } as const
}

export interface UserInfo {
  id: string
  name: string
  role: Role
  createdAt: string
  disabled: boolean
}

export interface ApiTokenInfo {
  id: string
  name: string
  /** Owner's user name; null for tokens the app issues itself (kernels' and jobs' tracking token). */
  userName: string | null
  scope: TokenScope
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface AuthResults {
  'auth.whoami': { principal: Principal }
  'auth.users.list': UserInfo[]
  'auth.users.create': UserInfo
  'auth.users.setRole': UserInfo
  'auth.users.setDisabled': UserInfo
  'auth.tokens.list': ApiTokenInfo[]
  'auth.tokens.create': { token: string; info: ApiTokenInfo }
  'auth.tokens.revoke': { ok: true }
}
