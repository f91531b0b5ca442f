/**
 * MLflow's Model Registry REST API 2.0 over the registry: `/api/2.0/mlflow/registered-models/*` and
 * `/model-versions/*` (also under `/ajax-api/`), with MLflow's JSON shapes, error codes and HTTP
 * statuses. Mounted before the tracking API (its prefixes are inside the tracking API's). Reviews
 * are reachable here too (`model-versions/request-review|approve|reject`, Atelier's additions) and
 * go through the same service checks as the app: no door approves what the app would refuse.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { LOCAL_CONTEXT, type CallContext } from '../../../shared/auth'
import { AppError, type ErrorCode } from '../../../shared/errors'
import { roleCan, type Permission } from '../../../shared/permissions'
import type { ModelVersion, RegisteredModel } from '../../../shared/registry'
import type { Logger } from '../../log'
import { readBody } from '../../serve/http'
import type { HttpMountLike } from '../tracking/rest'
import type { RegistryService } from './RegistryService'

const PREFIXES = ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/']
const ROOTS = ['registered-models/', 'model-versions/']
const MAX_BODY = 4 * 1024 * 1024

type Code = 'INVALID_PARAMETER_VALUE' | 'RESOURCE_DOES_NOT_EXIST' | 'RESOURCE_ALREADY_EXISTS' | 'ENDPOINT_NOT_FOUND' | 'BAD_REQUEST' | 'INVALID_STATE' | 'PERMISSION_DENIED' | 'RESOURCE_CONFLICT' | 'INTERNAL_ERROR'
const STATUS: Record<Code, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  ENDPOINT_NOT_FOUND: 404,
  BAD_REQUEST: 400,
  INVALID_STATE: 400,
  PERMISSION_DENIED: 403,
  RESOURCE_CONFLICT: 409,
  INTERNAL_ERROR: 500
}
/** How the service's errors read in MLflow's vocabulary; the app's own code travels as `atelier_code`. */
const FROM_APP: Partial<Record<ErrorCode, Code>> = {
  NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  ALREADY_EXISTS: 'RESOURCE_ALREADY_EXISTS',
  INVALID_REQUEST: 'INVALID_PARAMETER_VALUE',
  COMMENT_REQUIRED: 'INVALID_PARAMETER_VALUE',
  REGISTRY_CONFLICT: 'RESOURCE_CONFLICT',
  POLICY_BLOCKED: 'INVALID_STATE',
  INVALID_STATE: 'INVALID_STATE',
  ALREADY_REVIEWED: 'INVALID_STATE',
  SELF_APPROVAL: 'PERMISSION_DENIED',
  UNAUTHORIZED: 'PERMISSION_DENIED'
}

class RestError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly extra: Record<string, unknown> = {}
  ) {
    super(message)
  }
}

type Params = Record<string, unknown>
type Handler = (p: Params, ctx: CallContext) => unknown
const GET = ['GET'] as const
const POST = ['POST'] as const
const PATCH = ['PATCH', 'POST'] as const
const DELETE = ['DELETE', 'POST'] as const
const ANY = ['GET', 'POST'] as const

const missing = (name: string) => new RestError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`)

function str(p: Params, name: string, required = true): string {
  const v = p[name]
  if (v === undefined || v === null || v === '') {
    if (required) throw missing(name)
    return ''
  }
  if (typeof v !== 'string') throw new RestError('INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected a string`)
  return v
}

function versionOf(p: Params): number {
  const v = p.version
  if (v === undefined || v === null || v === '') throw missing('version')
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n) || n < 1) throw new RestError('INVALID_PARAMETER_VALUE', `Parameter 'version' must be a positive integer, got ${JSON.stringify(v)}.`)
  return n
}

function intParam(p: Params, name: string): number | undefined {
  const v = p[name]
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN
  if (!Number.isSafeInteger(n)) throw new RestError('INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected an integer`)
  if (n < 1) throw new RestError('INVALID_PARAMETER_VALUE', `Invalid value for request parameter ${name}. It must be at least 1, but got value ${n}`)
  return n
}

function listParam(p: Params, name: string): string[] | undefined {
  const v = p[name]
  if (v === undefined) return undefined
  const list = Array.isArray(v) ? v : [v]
  if (!list.every((x) => typeof x === 'string')) throw new RestError('INVALID_PARAMETER_VALUE', `Invalid value for parameter '${name}': expected a list of strings`)
  return list as string[]
}

function tagsParam(p: Params): { key: string; value: string }[] | undefined {
  const v = p.tags
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || !v.every((t) => t && typeof t === 'object' && typeof (t as { key?: unknown }).key === 'string')) {
    throw new RestError('INVALID_PARAMETER_VALUE', "Invalid value for parameter 'tags': expected a list of {key, value}")
  }
  return (v as { key: string; value?: unknown }[]).map((t) => ({ key: t.key, value: t.value === undefined || t.value === null ? '' : String(t.value) }))
}

export function toMlflowModel(m: RegisteredModel, latest: ModelVersion[]): Record<string, unknown> {
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    user_id: m.createdBy.name,
    description: m.description,
    latest_versions: latest.map(toMlflowVersion),
    tags: Object.entries(m.tags).map(([key, value]) => ({ key, value })),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) }))
  }
}

export function toMlflowVersion(v: ModelVersion): Record<string, unknown> {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    user_id: v.createdBy.name,
    current_stage: 'None',
    description: v.description,
    source: v.source,
    run_id: v.runId ?? '',
    status: 'READY',
    run_link: '',
    tags: Object.entries(v.tags).map(([key, value]) => ({ key, value })),
    aliases: v.aliases
  }
}

/** Parses `runs:/<id>/<path>` or `<run artifact uri>/<path>` into the run and the folder. */
function sourceOf(r: RegistryService, source: string, runId: string): { runId: string | null; artifactPath: string } {
  const m = /^runs:\/([^/]+)\/?(.*)$/.exec(source)
  if (m) {
    if (runId && runId !== m[1]) throw new RestError('INVALID_PARAMETER_VALUE', `The source '${source}' names run ${m[1]} but run_id is ${runId}.`)
    r.run(m[1])
    return { runId: m[1], artifactPath: m[2].replace(/\/+$/, '') }
  }
  if (runId) {
    const run = r.run(runId)
    const root = run.artifact_uri.replace(/\/+$/, '')
    if (source.startsWith(`${root}/`)) return { runId, artifactPath: source.slice(root.length + 1).replace(/\/+$/, '') }
    return { runId, artifactPath: '' }
  }
  return { runId: null, artifactPath: '' }
}

export function createRegistryRest(r: RegistryService, log: Logger): HttpMountLike & {
  handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx?: CallContext): Promise<void>
} {
  const done = {}
  const latestOf = (m: RegisteredModel) => (m.latestVersion === null ? [] : [r.getVersion(m.name, m.latestVersion)])
  const model = (m: RegisteredModel) => ({ registered_model: toMlflowModel(m, latestOf(m)) })
  /** A route; reads need 'read', writes 'write' unless another permission is named. */
  const R = (methods: readonly string[], handler: Handler, permission?: Permission) => ({ methods, handler, permission: permission ?? (methods.includes('GET') ? 'read' : 'write') })

  const routes: Record<string, Record<string, { methods: readonly string[]; handler: Handler; permission: Permission }>> = {
    'registered-models/create': {
      POST: R(POST, (p, { principal }) => model(r.createModel({ name: str(p, 'name'), description: str(p, 'description', false), tags: tagsParam(p) }, principal)))
    },
    'registered-models/get': { GET: R(GET, (p) => model(r.getModel(str(p, 'name')))) },
    'registered-models/search': {
      GET: R(ANY, (p) => {
        const page = r.searchModels({ filter: str(p, 'filter', false), orderBy: listParam(p, 'order_by'), maxResults: intParam(p, 'max_results'), pageToken: str(p, 'page_token', false) || undefined })
        return {
          registered_models: page.models.map((m) => toMlflowModel(m, latestOf(m))),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {})
        }
      })
    },
    'registered-models/update': { PATCH: R(PATCH, (p, { principal }) => model(r.updateModel(str(p, 'name'), str(p, 'description', false), principal))) },
    'registered-models/rename': { POST: R(POST, (p, { principal }) => model(r.renameModel(str(p, 'name'), str(p, 'new_name'), principal))) },
    'registered-models/delete': { DELETE: R(DELETE, (p, { principal }) => (r.deleteModel(str(p, 'name'), principal), done)) },
    'registered-models/set-tag': {
      POST: R(POST, (p, { principal }) => (r.setTag(str(p, 'name'), null, str(p, 'key'), p.value === undefined ? '' : str(p, 'value', false), principal), done))
    },
    'registered-models/delete-tag': { DELETE: R(DELETE, (p, { principal }) => (r.deleteTag(str(p, 'name'), null, str(p, 'key'), principal), done)) },
    'registered-models/alias': {
      POST: R(POST, (p, { principal }) => (r.setAlias(str(p, 'name'), str(p, 'alias'), versionOf(p), principal), done)),
      DELETE: R(['DELETE'], (p, { principal }) => (r.deleteAlias(str(p, 'name'), str(p, 'alias'), principal), done)),
      GET: R(GET, (p) => ({ model_version: toMlflowVersion(r.versionByAlias(str(p, 'name'), str(p, 'alias'))) }))
    },
    'registered-models/get-latest-versions': {
      GET: R(ANY, (p) => {
        const m = r.getModel(str(p, 'name'))
        const stages = listParam(p, 'stages')
        // every version here is in stage None
        if (stages && stages.length && !stages.some((s) => s.toLowerCase() === 'none')) return { model_versions: [] }
        return { model_versions: latestOf(m).map(toMlflowVersion) }
      })
    },
    'model-versions/create': {
      POST: R(POST, (p, { principal }) => {
        const name = str(p, 'name')
        const source = str(p, 'source')
        const runId = str(p, 'run_id', false)
        const where = sourceOf(r, source, runId)
        return { model_version: toMlflowVersion(r.createVersion({ name, source, runId: where.runId, artifactPath: where.artifactPath, description: str(p, 'description', false), tags: tagsParam(p) }, principal)) }
      })
    },
    'model-versions/get': { GET: R(GET, (p) => ({ model_version: toMlflowVersion(r.getVersion(str(p, 'name'), versionOf(p))) })) },
    'model-versions/search': {
      GET: R(ANY, (p) => {
        const page = r.searchVersions({ filter: str(p, 'filter', false), orderBy: listParam(p, 'order_by'), maxResults: intParam(p, 'max_results'), pageToken: str(p, 'page_token', false) || undefined })
        return { model_versions: page.versions.map(toMlflowVersion), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) }
      })
    },
    'model-versions/update': {
      PATCH: R(PATCH, (p, { principal }) => ({ model_version: toMlflowVersion(r.updateVersion(str(p, 'name'), versionOf(p), { description: str(p, 'description', false) }, principal)) }))
    },
    'model-versions/delete': { DELETE: R(DELETE, (p, { principal }) => (r.deleteVersion(str(p, 'name'), versionOf(p), principal), done)) },
    'model-versions/set-tag': {
      POST: R(POST, (p, { principal }) => (r.setTag(str(p, 'name'), versionOf(p), str(p, 'key'), p.value === undefined ? '' : str(p, 'value', false), principal), done))
    },
    'model-versions/delete-tag': { DELETE: R(DELETE, (p, { principal }) => (r.deleteTag(str(p, 'name'), versionOf(p), str(p, 'key'), principal), done)) },
    'model-versions/get-download-uri': {
      GET: R(GET, (p) => {
        const v = r.store.version(str(p, 'name'), versionOf(p))
        return { artifact_uri: r.downloadUri(v) }
      })
    },
    // Atelier's additions: resolve a models:/ URI, and the review workflow
    'model-versions/resolve': {
      GET: R(GET, (p) => {
        const got = r.resolveModelUri(str(p, 'uri'))
        return { name: got.name, version: String(got.version), artifact_uri: got.artifactUri }
      })
    },
    'model-versions/request-review': {
      POST: R(POST, async (p, { principal }) => reviewReply(await r.reviews.request(str(p, 'name'), versionOf(p), principal, { comment: str(p, 'comment', false) })))
    },
    'model-versions/approve': {
      POST: R(POST, async (p, { principal }) =>
        reviewReply(await r.reviews.approve(str(p, 'name'), versionOf(p), principal, { comment: str(p, 'comment', false), moveAlias: str(p, 'alias', false) || undefined, expectedRevision: intOrUndefined(p.expected_revision) })),
        'review'
      )
    },
    'model-versions/reject': {
      POST: R(POST, async (p, { principal }) =>
        reviewReply(await r.reviews.reject(str(p, 'name'), versionOf(p), principal, { comment: str(p, 'comment', false), expectedRevision: intOrUndefined(p.expected_revision) })),
        'review'
      )
    }
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, rest: string, ctx: CallContext) {
    const byMethod = Object.prototype.hasOwnProperty.call(routes, rest) ? routes[rest] : undefined
    if (!byMethod) throw new RestError('ENDPOINT_NOT_FOUND', `No API endpoint found for ${url.pathname}`)
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
    const route = byMethod[method] ?? Object.values(byMethod).find((x) => x.methods.includes(method))
    if (!route) {
      const allowed = [...new Set(Object.values(byMethod).flatMap((x) => x.methods))]
      res.setHeader('Allow', allowed.join(', '))
      return send(res, 405, { error_code: 'BAD_REQUEST', message: `Method ${method} is not allowed for ${url.pathname}` })
    }
    if (!roleCan(ctx.principal.role, route.permission)) {
      throw new RestError('PERMISSION_DENIED', `${url.pathname} needs the '${route.permission}' permission, which the role '${ctx.principal.role}' does not have`)
    }
    let params: Params = {}
    for (const [k, v] of url.searchParams) {
      if (k === 'token') continue
      if (k === 'order_by' || k === 'stages') ((params[k] ??= []) as string[]).push(v)
      else params[k] = v
    }
    if (method !== 'GET') {
      const text = await readBody(req, MAX_BODY)
      if (text.trim() !== '') {
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          throw new RestError('BAD_REQUEST', 'Malformed JSON in the request body')
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RestError('INVALID_PARAMETER_VALUE', 'The request body must be a JSON object')
        params = { ...params, ...(body as Params) }
      }
    }
    send(res, 200, await route.handler(params, ctx))
  }

  return {
    prefixes: PREFIXES.flatMap((p) => ROOTS.map((root) => p + root.replace(/\/$/, ''))),
    async handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx: CallContext = LOCAL_CONTEXT) {
      try {
        const prefix = PREFIXES.find((p) => url.pathname.startsWith(p))!
        await api(req, res, url, url.pathname.slice(prefix.length).replace(/\/+$/, ''), ctx)
      } catch (err) {
        if (res.headersSent) return void res.destroy()
        if (err instanceof RestError) return send(res, STATUS[err.code], { error_code: err.code, message: err.message, ...err.extra })
        if (err instanceof AppError) {
          const code = FROM_APP[err.code] ?? 'INTERNAL_ERROR'
          const details = err.code === 'POLICY_BLOCKED' ? { reasons: err.details?.reasons } : {}
          return send(res, STATUS[code], { error_code: code, message: err.message, atelier_code: err.code, ...details })
        }
        if ((err as Error)?.message === 'Request body too large') return send(res, 413, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Request body too large' })
        if ((err as { errorCode?: string })?.errorCode) {
          const e = err as { errorCode: Code; message: string }
          return send(res, STATUS[e.errorCode] ?? 400, { error_code: e.errorCode, message: e.message })
        }
        log.error(`registry ${req.method} ${url.pathname} failed`, err)
        return send(res, 500, { error_code: 'INTERNAL_ERROR', message: 'Internal error; see the Atelier log for details.' })
      }
    },
    refusal(status, message) {
      return { error_code: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message }
    }
  }
}

function intOrUndefined(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new RestError('INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for parameter 'expected_revision': expected an integer`)
  return n
}

function reviewReply(o: Awaited<ReturnType<RegistryService['reviews']['approve']>>) {
  return {
    model_version: toMlflowVersion(o.version),
    approval_status: o.version.approvalStatus,
    revision: o.version.revision,
    approvals: o.approvals,
    required_approvals: o.requiredApprovals,
    policy_state: o.policies.state,
    warnings: o.policies.warnings
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
