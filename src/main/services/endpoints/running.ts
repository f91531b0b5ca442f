import type { RunningProvider } from '../running/RunningService'
import type { EndpointService } from './EndpointService'

/**
 * Endpoints in the Running panel: each one not stopped, with the memory of its scoring servers'
 * process trees (every variant, shadow included) read from /proc; stopping one stops all its variants.
 * A SageMaker endpoint shows its instances and what they cost per hour; stopping it deletes it.
 */
export function endpointProvider(endpoints: Pick<EndpointService, 'list' | 'stop'>): RunningProvider {
  return {
    kind: 'endpoint',
    async list(proc) {
      return endpoints
        .list()
        .filter((e) => e.state !== 'stopped')
        .map((e) => {
          const sm = e.sagemaker
          if (sm) {
            const weights = e.variants.map((v) => `v${v.version}${e.variants.length > 1 ? ` ${v.weight}%` : ''}`).join(', ')
            const now = Date.now()
            return {
              id: e.name,
              name: e.name,
              state: sm.status ?? e.state,
              detail: `${e.model} ${weights} · SageMaker ${sm.targetName}: ${sm.instanceType} × ${sm.instanceCount * e.variants.length}${sm.pricePerHour === null ? ' (no price in sagemaker-prices.json)' : ''} · endpoint ${sm.endpointName}`,
              idle: false,
              memoryBytes: null,
              costPerHour: sm.costPerHour,
              // at today's instances since SageMaker created it
              costSoFar: sm.costPerHour === null || sm.createdAt === null ? null : (sm.costPerHour * Math.max(0, now - sm.createdAt)) / 3_600_000
            }
          }
          const pids = e.variants.map((v) => v.pid).filter((p): p is number => p !== null)
          const rss = pids.map((p) => proc.treeRss(p)).filter((b): b is number => b !== null)
          const versions = e.variants.map((v) => `v${v.version}${v.shadow ? ' shadow' : v.weight < 100 ? ` ${v.weight}%` : ''}`).join(', ')
          return {
            id: e.name,
            name: e.name,
            state: e.state,
            detail: `${e.model} ${versions}${pids.length ? ` · pid ${pids.join(', ')}` : ''}`,
            idle: false,
            memoryBytes: rss.length ? rss.reduce((a, b) => a + b, 0) : null
          }
        })
    },
    async stop(id) {
      await endpoints.stop(id)
    }
  }
}
