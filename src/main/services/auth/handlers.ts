import type { Method } from '../../../shared/api'
import type { Principal } from '../../../shared/auth'
import { AppError } from '../../../shared/errors'
import type { Handlers } from '../../rpc/router'
import type { AuthService } from './AuthService'

type AuthMethod = Extract<Method, `auth.${string}`>

/** Whether the principal is a user account (not the start-up token's or the desktop's own admin). */
const hasAccount = (p: Principal) => p.via === 'session' || p.via === 'api-token'

/** The auth methods: admins manage users (the router checks that); everyone manages their own tokens. */
export function authHandlers(auth: AuthService): Pick<Handlers, AuthMethod> {
  return {
    'auth.whoami': (_p, ctx) => ({ principal: ctx.principal }),
    'auth.users.list': () => auth.listUsers(),
    'auth.users.create': ({ name, role, password }, ctx) => auth.createUser(name, role, password, ctx.principal),
    'auth.users.setRole': ({ name, role }, ctx) => auth.setRole(name, role, ctx.principal),
    'auth.users.setDisabled': ({ name, disabled }, ctx) => auth.setDisabled(name, disabled, ctx.principal),
    'auth.tokens.list': (_p, { principal }) =>
      principal.role === 'admin' ? auth.listAllTokens() : hasAccount(principal) ? auth.listTokens(principal.id) : [],
    'auth.tokens.create': ({ name }, { principal }) => {
      if (!hasAccount(principal)) {
        throw new AppError('INVALID_REQUEST', 'Personal API tokens belong to a user account: sign in as a user (npm run users -- add …) to create one')
      }
      return auth.createToken(principal.name, name, principal)
    },
    'auth.tokens.revoke': ({ id }, { principal }) => {
      auth.revokeToken(id, principal, principal.role === 'admin' ? undefined : principal.id)
      return { ok: true as const }
    }
  }
}
