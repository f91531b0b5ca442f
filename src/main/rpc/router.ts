import type { z } from 'zod'
import { requests, type Method, type Result } from '../../shared/api'
import { LOCAL_CONTEXT, type CallContext } from '../../shared/auth'
import { AppError, toErrorPayload, type ErrorPayload } from '../../shared/errors'
import { methodPermissions, roleCan } from '../../shared/permissions'
import type { Logger } from '../log'

export type Handlers = {
  [M in Method]: (params: z.output<(typeof requests)[M]>, ctx: CallContext) => Promise<Result<M>> | Result<M>
}

export type Dispatch = (method: string, params: unknown, ctx?: CallContext) => Promise<unknown>

export type Outcome = { ok: true; result: unknown } | { ok: false; error: ErrorPayload }

function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(requests, name)
}

/**
 * The one handler table behind every door. Checks the caller's permission for the method
 * (FORBIDDEN), validates the params with the contract's schemas before a handler runs, and turns
 * every failure into `{code, message, details}`.
 */
export function createRouter(handlers: Handlers, log: Logger) {
  async function dispatch(method: string, params: unknown, ctx: CallContext = LOCAL_CONTEXT): Promise<unknown> {
    if (typeof method !== 'string' || !isMethod(method)) {
      throw new AppError('UNKNOWN_METHOD', `Unknown method: ${String(method).slice(0, 100)}`)
    }
    const needed = methodPermissions[method]
    if (!roleCan(ctx.principal.role, needed)) {
      throw new AppError('FORBIDDEN', `${method} needs the '${needed}' permission, which the role '${ctx.principal.role}' does not have`, {
        method,
        permission: needed,
        role: ctx.principal.role
      })
    }
    const parsed = requests[method].safeParse(params ?? {})
    if (!parsed.success) {
      throw new AppError('INVALID_REQUEST', `Invalid parameters for ${method}`, {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
      })
    }
    const handler = handlers[method] as (p: unknown, c: CallContext) => Promise<unknown> | unknown
    return await handler(parsed.data, ctx)
  }

  /** Never throws: the shape every transport sends back. */
  async function handle(method: string, params: unknown, ctx: CallContext = LOCAL_CONTEXT): Promise<Outcome> {
    try {
      return { ok: true, result: await dispatch(method, params, ctx) }
    } catch (err) {
      if (!(err instanceof AppError)) log.error(`handler ${method} failed`, err)
      return { ok: false, error: toErrorPayload(err) }
    }
  }

  return { dispatch, handle }
}
export type Router = ReturnType<typeof createRouter>
