import type { Method } from '../../../shared/api'
import type { Handlers } from '../../rpc/router'
import type { BuilderService } from './BuilderService'

type BuilderMethod = Extract<Method, `builder.${string}`>

export function builderHandlers(b: BuilderService): Pick<Handlers, BuilderMethod> {
  return {
    'builder.list': () => b.list(),
    'builder.create': (p) => b.create(p),
    'builder.get': ({ buildId }) => b.get(buildId),
    'builder.delete': ({ buildId }) => b.delete(buildId),
    'builder.update': ({ buildId, settings }) => b.update(buildId, settings),
    'builder.columns': ({ table, target }) => b.columns(table, target),
    'builder.check': async ({ buildId }) => {
      const { relation: _r, ...c } = await b.check(buildId)
      return c
    },
    'builder.start': ({ buildId, mode, jobTarget }) => b.start(buildId, mode, jobTarget),
    'builder.cancel': ({ buildId }) => b.cancel(buildId),
    'builder.details': ({ buildId, candidate }) => b.details(buildId, candidate),
    'builder.bias': ({ buildId, candidate, column, threshold }) => b.bias(buildId, column, candidate, threshold),
    'builder.predict': ({ buildId, candidate, row }) => b.predict(buildId, row, candidate),
    'builder.batchPredict': ({ buildId, candidate, table, output }, ctx) => b.batchPredict(buildId, table, output, ctx.principal, candidate),
    'builder.register': ({ buildId, candidate, modelName }, ctx) => b.register(buildId, modelName, ctx.principal, candidate),
    'builder.notebook': ({ buildId, candidate }) => b.notebook(buildId, candidate)
  }
}
