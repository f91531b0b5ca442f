import { describe, expect, it } from 'vitest'
import type { CallContext, Role } from '../../../shared/auth'
import type { EndpointInfo } from '../../../shared/endpoints'
import type { EndpointService } from './EndpointService'
import { endpointHandlers } from './handlers'

const info: EndpointInfo = {
  name: 'churn',
  model: 'churn',
  alias: null,
  url: 'http://127.0.0.1:1/endpoints/churn/invocations',
  token: 'secret-token',
  state: 'running',
  interpreter: '/usr/bin/python3',
  variants: [],
  previous: null,
  capture: { enabled: false, samplingPercent: 0 },
  createdAt: 0,
  updatedAt: 0
}

const fake = { list: () => [info], get: () => ({ endpoint: info }) } as unknown as EndpointService
const ctx = (role: Role): CallContext => ({ principal: { id: role, name: role, role, via: 'session' } })
const h = endpointHandlers(fake)

describe('endpoint tokens by role', () => {
  it.each(['viewer', 'reviewer'] as const)('%s: list and get carry no token', async (role) => {
    const list = (await h['endpoints.list']({}, ctx(role))) as EndpointInfo[]
    expect(list[0].token).toBe('')
    expect(list[0].url).toBe(info.url)
    const got = (await h['endpoints.get']({ name: 'churn' }, ctx(role))) as { endpoint: EndpointInfo }
    expect(got.endpoint.token).toBe('')
    expect(JSON.stringify([list, got])).not.toContain('secret-token')
  })

  it.each(['scientist', 'admin'] as const)('%s: list and get carry the token', async (role) => {
    expect(((await h['endpoints.list']({}, ctx(role))) as EndpointInfo[])[0].token).toBe('secret-token')
    expect(((await h['endpoints.get']({ name: 'churn' }, ctx(role))) as { endpoint: EndpointInfo }).endpoint.token).toBe('secret-token')
  })
})
