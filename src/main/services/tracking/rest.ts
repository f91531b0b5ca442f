/**
 * The MLflow REST API 2.0 over the tracking store: `/api/2.0/mlflow/…` (and `/ajax-api/2.0/mlflow/…`)
 * and the proxied artifact API `/api/2.0/mlflow-artifacts/artifacts/…`. A mount for any HTTP door
 * that has already checked the token (serve, or the desktop loopback TrackingHttpServer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../../log'
import { LOCAL_CONTEXT, type CallContext } from '../../../shared/auth'
import { roleCan } from '../../../shared/permissions'
import { safeSegments } from './artifacts'
import { invalid, MlflowError } from './errors'
import { parseRequest, queryToObject, requireRunId, type Endpoint } from './restSchemas'
import type { TrackingService } from './TrackingService'
import { DEFAULT_EXPERIMENT_ID } from './types'
import { BodyTooLargeError, JsonTooDeepError, parseJson, readBody } from '../../serve/http'

export interface HttpMountLike {
  prefixes: readonly string[]
  handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx?: CallContext): Promise<void>
  onListening?(info: { origin: string; token: string | (() => string) }): void
  refusal?(status: 401 | 403, message: string): unknown
}

const API_PREFIXES = ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/']
const ARTIFACT_PREFIXES = ['/api/2.0/mlflow-artifacts/', '/ajax-api/2.0/mlflow-artifacts/']
const MAX_JSON_BODY = 32 * 1024 * 1024

type Handler = (p: any) => unknown
type Route = { methods: readonly string[]; handler: Handler }

export function createTrackingRest(t: TrackingService, log: Logger): HttpMountLike {
  const { experiments, runs } = t
  const done = {}
  const R = (methods: readonly string[], handler: Handler): Route => ({ methods, handler })
  const GET = ['GET'] as const
  const POST = ['POST'] as const
  const ANY = ['GET', 'POST'] as const

  const routes: Record<Endpoint, Route> = {
    'experiments/create': R(POST, (p) => {
      const id = experiments.create(p.name, p.artifact_location, p.tags)
      t.changed(id, null)
      return { experiment_id: id }
    }),
    'experiments/get': R(GET, (p) => ({ experiment: experiments.get(p.experiment_id) })),
    'experiments/get-by-name': R(GET, (p) => ({ experiment: experiments.getByName(p.experiment_name) })),
    'experiments/search': R(ANY, (p) =>
      experiments.search({ filter: p.filter, orderBy: p.order_by, maxResults: p.max_results, pageToken: p.page_token, viewType: p.view_type })
    ),
    'experiments/update': R(POST, (p) => {
      experiments.rename(p.experiment_id, p.new_name)
      t.changed(p.experiment_id, null)
      return done
    }),
    'experiments/delete': R(POST, (p) => {
      experiments.delete(p.experiment_id)
      t.changed(p.experiment_id, null)
      return done
    }),
    'experiments/restore': R(POST, (p) => {
      experiments.restore(p.experiment_id)
      t.changed(p.experiment_id, null)
      return done
    }),
    'experiments/set-experiment-tag': R(POST, (p) => {
      experiments.setTag(p.experiment_id, p.key, p.value)
      t.changed(p.experiment_id, null)
      return done
    }),
    'experiments/delete-experiment-tag': R(POST, (p) => {
      experiments.deleteTag(p.experiment_id, p.key)
      t.changed(p.experiment_id, null)
      return done
    }),
    'runs/create': R(POST, (p) => {
      const run = runs.create({
        experimentId: p.experiment_id || DEFAULT_EXPERIMENT_ID,
        userId: p.user_id,
        runName: p.run_name,
        startTime: p.start_time,
        tags: p.tags
      })
      t.changed(run.info.experiment_id, run.info.run_id)
      return { run }
    }),
    'runs/get': R(GET, (p) => ({ run: runs.get(requireRunId(p)) })),
    'runs/update': R(POST, (p) => {
      const info = runs.update(requireRunId(p), { status: p.status, endTime: p.end_time, runName: p.run_name })
      t.changed(info.experiment_id, info.run_id)
      return { run_info: info }
    }),
    'runs/delete': R(POST, (p) => {
      t.runChanged(runs.setLifecycle(requireRunId(p), 'deleted'))
      return done
    }),
    'runs/restore': R(POST, (p) => {
      t.runChanged(runs.setLifecycle(requireRunId(p), 'active'))
      return done
    }),
    'runs/log-metric': R(POST, (p) => {
      t.runChanged(runs.logBatch(requireRunId(p), [{ key: p.key, value: p.value, timestamp: p.timestamp, step: p.step }], [], []).run)
      return done
    }),
    'runs/log-parameter': R(POST, (p) => {
      t.runChanged(runs.logBatch(requireRunId(p), [], [{ key: p.key, value: p.value }], []).run)
      return done
    }),
    'runs/set-tag': R(POST, (p) => {
      t.runChanged(runs.logBatch(requireRunId(p), [], [], [{ key: p.key, value: p.value }]).run)
      return done
    }),
    'runs/delete-tag': R(POST, (p) => {
      t.runChanged(runs.deleteTag(requireRunId(p), p.key))
      return done
    }),
    'runs/log-batch': R(POST, (p) => {
      t.runChanged(runs.logBatch(requireRunId(p), p.metrics, p.params, p.tags).run)
      return done
    }),
    'runs/log-inputs': R(POST, (p) => {
      t.runChanged(runs.logInputs(requireRunId(p), p.datasets))
      return done
    }),
    'runs/log-model': R(POST, (p) => {
      t.runChanged(runs.appendModelHistory(requireRunId(p), p.model_json))
      return done
    }),
    'runs/search': R(ANY, (p) =>
      t.searcher.search({
        experimentIds: p.experiment_ids,
        filter: p.filter,
        runViewType: p.run_view_type,
        maxResults: p.max_results,
        orderBy: p.order_by,
        pageToken: p.page_token
      })
    ),
    'metrics/get-history': R(GET, (p) => runs.history(requireRunId(p), p.metric_key, p.max_results, p.page_token)),
    'artifacts/list': R(GET, async (p) => {
      const id = requireRunId(p)
      const run = runs.require(id)
      const files = await t.listRunArtifacts(id, p.path ?? '')
      return { root_uri: run.artifact_uri, files }
    })
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, rest: string, ctx: CallContext) {
    const route = Object.prototype.hasOwnProperty.call(routes, rest) ? routes[rest as Endpoint] : undefined
    if (!route) throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint found for ${url.pathname}`)
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
    if (!route.methods.includes(method)) {
      res.setHeader('Allow', route.methods.join(', '))
      return send(res, 405, { error_code: 'BAD_REQUEST', message: `Method ${method} is not allowed for ${url.pathname}` })
    }
    // endpoints that answer GET only read (searches also take POST); the others write
    if (!route.methods.includes('GET')) requireWrite(ctx)
    let body: unknown
    if (method === 'GET') body = queryToObject(url.searchParams)
    else {
      const text = await readBody(req, MAX_JSON_BODY)
      try {
        body = text.trim() === '' ? {} : parseJson(text)
      } catch (err) {
        if (err instanceof JsonTooDeepError) throw new MlflowError('INVALID_PARAMETER_VALUE', err.message)
        throw new MlflowError('BAD_REQUEST', 'Malformed JSON in the request body')
      }
    }
    const params = parseRequest(rest as Endpoint, body)
    send(res, 200, await route.handler(params))
  }

  /** `/api/2.0/mlflow-artifacts/artifacts[/<path>]`: PUT upload, GET download or list, DELETE. */
  async function artifacts(req: IncomingMessage, res: ServerResponse, url: URL, rest: string, ctx: CallContext) {
    if (req.method !== 'GET' && req.method !== 'HEAD') requireWrite(ctx)
    if (rest !== 'artifacts' && !rest.startsWith('artifacts/')) throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint found for ${url.pathname}`)
    const rel = decodePath(rest.slice('artifacts'.length))
    if (rel === '') {
      if (req.method !== 'GET') return send(res, 405, { error_code: 'BAD_REQUEST', message: `Method ${req.method} is not allowed` })
      const listed = safeSegments(url.searchParams.get('path') ?? '').join('/')
      return send(res, 200, { files: await t.artifacts.list(listed) })
    }
    if (req.method === 'PUT') {
      const segs = safeSegments(rel)
      // only into a live run's folder: <experiment>/<run>/…
      const run = segs.length >= 3 ? runs.requireActive(segs[1]) : null
      if (!run || String(run.experiment_id) !== segs[0] || t.runArtifactDir(run) !== segs.slice(0, 3).join('/')) {
        throw invalid(`Artifacts can only be uploaded under <experiment_id>/<run_id>/artifacts/ of an active run: '${rel}'`)
      }
      await t.artifacts.write(segs.join('/'), req)
      t.runChanged(run)
      return send(res, 200, {})
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const { size, stream } = await t.artifacts.open(rel)
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Content-Disposition': 'attachment' })
      if (req.method === 'HEAD') {
        stream.destroy()
        return void res.end()
      }
      stream.pipe(res)
      await new Promise<void>((r) => {
        res.on('close', () => r())
        stream.on('error', () => {
          res.destroy()
          r()
        })
      })
      return
    }
    if (req.method === 'DELETE') {
      await t.artifacts.remove(rel)
      return send(res, 200, {})
    }
    return send(res, 405, { error_code: 'BAD_REQUEST', message: `Method ${req.method} is not allowed` })
  }

  return {
    prefixes: [...API_PREFIXES, ...ARTIFACT_PREFIXES],
    async handle(req, res, url, ctx = LOCAL_CONTEXT) {
      try {
        const api2 = API_PREFIXES.find((p) => url.pathname.startsWith(p))
        if (api2) return await api(req, res, url, url.pathname.slice(api2.length).replace(/\/+$/, ''), ctx)
        const art = ARTIFACT_PREFIXES.find((p) => url.pathname.startsWith(p))!
        return await artifacts(req, res, url, url.pathname.slice(art.length), ctx)
      } catch (err) {
        if (res.headersSent) return void res.destroy()
        if (err instanceof MlflowError) return send(res, err.status, err.toJSON())
        if (err instanceof BodyTooLargeError) {
          res.setHeader('Connection', 'close')
          return send(res, 413, { error_code: 'INVALID_PARAMETER_VALUE', message: err.message })
        }
        log.error(`tracking ${req.method} ${url.pathname} failed`, err)
        return send(res, 500, { error_code: 'INTERNAL_ERROR', message: 'Internal error; see the Atelier log for details.' })
      }
    },
    onListening({ origin, token }) {
      t.setEndpoint(origin, token)
    },
    refusal(status, message) {
      return { error_code: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED', message }
    }
  }
}

/** Tracking writes through REST need the 'write' permission (MLflow's PERMISSION_DENIED, 403). */
function requireWrite(ctx: CallContext): void {
  if (!roleCan(ctx.principal.role, 'write')) {
    throw new MlflowError('PERMISSION_DENIED', `Writing to the tracking store needs the 'write' permission, which the role '${ctx.principal.role}' does not have`)
  }
}

/** Percent-decodes each segment; an encoded slash or a bad escape is refused. */
function decodePath(raw: string): string {
  const segs = raw.split('/').filter((s) => s !== '')
  return segs
    .map((s) => {
      let d: string
      try {
        d = decodeURIComponent(s)
      } catch {
        throw invalid('Invalid artifact path encoding')
      }
      if (d.includes('/') || d.includes('\\')) throw invalid('Invalid artifact path')
      return d
    })
    .join('/')
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

