import type { Method } from '../../../shared/api'
import { redactEndpoint } from '../../../shared/endpoints'
import { roleCan } from '../../../shared/permissions'
import type { Handlers } from '../../rpc/router'
import type { EndpointService } from './EndpointService'
import { hostingPrices } from './SageMakerBackend'

type EndpointMethod = Extract<Method, `endpoints.${string}`>

export function endpointHandlers(endpoints: EndpointService): Pick<Handlers, EndpointMethod> {
  return {
    'endpoints.deploy': (p) => endpoints.deploy(p),
    'endpoints.sagemaker.prices': () => hostingPrices(),
    'endpoints.list': (_, ctx) => endpoints.list().map((e) => redactEndpoint(e, roleCan(ctx.principal.role, 'write'))),
    'endpoints.get': ({ name }, ctx) => ({ endpoint: redactEndpoint(endpoints.get(name).endpoint, roleCan(ctx.principal.role, 'write')) }),
    'endpoints.invoke': ({ name, body, contentType }) => endpoints.invoke(name, body, contentType),
    'endpoints.update': (p) => endpoints.update(p),
    'endpoints.capture': ({ name, enabled, samplingPercent }) => endpoints.setCapture(name, enabled, samplingPercent),
    'endpoints.openCapture': ({ name }, ctx) => endpoints.openCapture(name, ctx.principal),
    'endpoints.metrics': ({ name }) => endpoints.metrics(name),
    'endpoints.signature': ({ name }) => endpoints.signature(name),
    'endpoints.start': ({ name }) => endpoints.start(name),
    'endpoints.stop': ({ name }) => endpoints.stop(name),
    'endpoints.delete': ({ name }) => endpoints.delete(name),
    'endpoints.drift.baseline': ({ name, table }) => endpoints.monitor(name).setBaseline(table),
    'endpoints.drift.configure': ({ name, ...p }) => endpoints.monitor(name).configure(p),
    'endpoints.drift.check': async ({ name }) => {
      const m = endpoints.monitor(name)
      return { window: await m.check(), monitor: m.info() }
    },
    'endpoints.drift.get': ({ name }) => endpoints.monitor(name).info(),
    'endpoints.replay': ({ name, n, labelColumn }) => endpoints.replay(name, { n: n ?? 200, labelColumn }),
    'endpoints.drift.backtest': ({ name, ...p }) => endpoints.monitor(name).backtest(p),
    'endpoints.batch.start': ({ name, table, output }) => endpoints.startBatch(name, table, output),
    'endpoints.batch.get': ({ batchId }) => endpoints.batch(batchId).status,
    'endpoints.batch.cancel': ({ batchId }) => endpoints.batch(batchId).cancel()
  }
}
