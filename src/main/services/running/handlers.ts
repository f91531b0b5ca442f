import type { Method } from '../../../shared/api'
import type { Handlers } from '../../rpc/router'
import type { RunningService } from './RunningService'

type RunningMethod = Extract<Method, `running.${string}`>

export function runningHandlers(running: RunningService): Pick<Handlers, RunningMethod> {
  return {
    'running.list': () => running.list(),
    'running.stop': async ({ kind, id }) => (await running.stop(kind, id), { ok: true as const }),
    'running.stopIdle': async () => ({ stopped: await running.stopIdle() }),
    'running.policies.get': () => running.policies(),
    'running.policies.set': ({ policies }) => running.setPolicies(policies)
  }
}
