import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../log'
import { RunningService, type ProvidedItem } from './RunningService'

/** The policy clock on its own: a provider whose items the test sets, and a clock the test moves. */
function setup() {
  let now = 1_000_000
  const store = new Map<string, unknown>()
  const events: { name: string; payload: any }[] = []
  const items: ProvidedItem[] = []
  const stopped: string[] = []
  const svc = new RunningService({
    settings: { get: (k) => store.get(k) as never, set: (k, v) => void store.set(k, v) },
    emit: (name, payload) => void events.push({ name, payload }),
    log: silentLogger,
    now: () => now,
    tickMs: 0
  })
  svc.register({
    kind: 'server',
    list: async () => items,
    stop: async (id) => {
      stopped.push(id)
      items.splice(items.findIndex((i) => i.id === id), 1)
    }
  })
  return { svc, items, stopped, events, store, advance: (ms: number) => (now += ms) }
}

describe('idle policies', () => {
  it('counts idle time from first sight when the owner does not know it, warns, and stops at the limit', async () => {
    const t = setup()
    t.svc.setPolicies([{ kind: 'server', idleSeconds: 60, warnSeconds: 20 }])
    expect(t.store.get('running.policies')).toContainEqual({ kind: 'server', idleSeconds: 60, warnSeconds: 20 })
    t.items.push({ id: 's1', name: 'one', state: 'ready', idle: true, memoryBytes: null })
    await t.svc.tick()
    t.advance(39_000)
    await t.svc.tick()
    expect(t.events).toEqual([])
    t.advance(2_000)
    await t.svc.tick()
    expect(t.events).toEqual([{ name: 'running.warning', payload: { kind: 'server', id: 's1', name: 'one', stopAt: new Date(1_000_000 + 60_000).toISOString() } }])
    expect((await t.svc.list())[0].stopAt).toBe(new Date(1_060_000).toISOString())
    t.advance(19_000)
    await t.svc.tick()
    expect(t.stopped).toEqual(['s1'])
    expect(t.events.at(-1)).toMatchObject({ name: 'running.stopped', payload: { id: 's1' } })
  })

  it('activity during the warning cancels the stop, and a later idle spell starts over', async () => {
    const t = setup()
    t.svc.setPolicies([{ kind: 'server', idleSeconds: 60, warnSeconds: 20 }])
    const item: ProvidedItem = { id: 's1', name: 'one', state: 'ready', idle: true, memoryBytes: null }
    t.items.push(item)
    await t.svc.tick()
    t.advance(45_000)
    await t.svc.tick()
    expect(t.events.map((e) => e.payload.stopAt === null)).toEqual([false])
    item.idle = false
    await t.svc.tick()
    expect(t.events.at(-1)?.payload.stopAt).toBeNull()
    item.idle = true
    await t.svc.tick()
    t.advance(50_000)
    await t.svc.tick()
    expect(t.stopped).toEqual([])
    t.advance(10_000)
    await t.svc.tick()
    expect(t.stopped).toEqual(['s1'])
  })

  it('no policy (null) never stops; "stop all idle" stops only idle items', async () => {
    const t = setup()
    t.items.push({ id: 'a', name: 'a', state: 'ready', idle: true, memoryBytes: null }, { id: 'b', name: 'b', state: 'busy', idle: false, memoryBytes: 5 })
    t.advance(10 * 24 * 3600_000)
    await t.svc.tick()
    expect(t.stopped).toEqual([])
    expect(await t.svc.stopIdle()).toEqual([{ kind: 'server', id: 'a' }])
    expect((await t.svc.list()).map((i) => i.id)).toEqual(['b'])
  })
})
