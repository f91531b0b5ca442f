import type { EventName, Events } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import { RUNNING_KINDS, type RunningItem, type RunningKind, type RunningPolicy } from '../../../shared/running'
import type { Logger } from '../../log'
import { ProcSnapshot } from './procMem'

/** What a provider reports about one live thing it runs. */
export interface ProvidedItem {
  id: string
  name: string
  state: string
  detail?: string | null
  /** Idle now (a kernel with nothing to do, a server with no kernels); jobs never are. */
  idle: boolean
  /** Since when, where the owner knows (Jupyter's last_activity); else the panel counts from when it first saw it idle. */
  idleSince?: number | null
  memoryBytes: number | null
  /** Cloud resources: USD per hour while it runs, and since it started. */
  costPerHour?: number | null
  costSoFar?: number | null
}

/**
 * A service that runs things registers one provider per kind: the panel lists them, stops them,
 * and applies the kind's idle policy. A provider reads its own state each time it is asked; the
 * snapshot of /proc is shared by all providers of one listing.
 */
export interface RunningProvider {
  kind: RunningKind
  list(proc: ProcSnapshot): Promise<ProvidedItem[]>
  stop(id: string): Promise<void>
}

export interface KeyValue {
  get<T>(key: string): T | undefined
  set(key: string, value: unknown): void
}

export interface RunningServiceDeps {
  settings: KeyValue
  emit: <E extends EventName>(event: E, payload: Events[E]) => void
  log: Logger
  now?: () => number
  /** How often idle policies are checked; 0: never on a timer (tests call tick()). */
  tickMs?: number
}

const POLICIES = 'running.policies'

export const DEFAULT_POLICIES: RunningPolicy[] = [
  { kind: 'kernel', idleSeconds: 2 * 3600, warnSeconds: 5 * 60 },
  { kind: 'server', idleSeconds: null, warnSeconds: 5 * 60 },
  { kind: 'job', idleSeconds: null, warnSeconds: 0 },
  { kind: 'tunnel', idleSeconds: null, warnSeconds: 5 * 60 },
  { kind: 'endpoint', idleSeconds: null, warnSeconds: 5 * 60 }
]

const keyOf = (kind: RunningKind, id: string) => `${kind}:${id}`

/** The Running panel's service: every provider's live things in one list, stops, and idle policies. */
export class RunningService {
  private readonly providers = new Map<RunningKind, RunningProvider>()
  /** First time each item was seen idle, for providers that do not know since when. */
  private readonly idleSeen = new Map<string, number>()
  /** Pending policy stops: key → when. */
  private readonly pending = new Map<string, { at: number; name: string }>()
  private timer: NodeJS.Timeout | null = null
  private ticking = false

  constructor(private readonly d: RunningServiceDeps) {
    const every = d.tickMs ?? 15_000
    if (every > 0) {
      this.timer = setInterval(() => void this.tick().catch((err) => d.log.warn('running: idle check failed', err)), every)
      this.timer.unref()
    }
  }

  private now(): number {
    return this.d.now?.() ?? Date.now()
  }

  register(provider: RunningProvider): void {
    this.providers.set(provider.kind, provider)
  }

  policies(): RunningPolicy[] {
    const saved = this.d.settings.get<RunningPolicy[]>(POLICIES) ?? []
    return DEFAULT_POLICIES.map((p) => saved.find((s) => s.kind === p.kind) ?? p)
  }

  setPolicies(policies: RunningPolicy[]): RunningPolicy[] {
    const merged = this.policies().map((p) => policies.find((n) => n.kind === p.kind) ?? p)
    this.d.settings.set(POLICIES, merged)
    return merged
  }

  async list(): Promise<RunningItem[]> {
    const proc = new ProcSnapshot()
    const now = this.now()
    const out: RunningItem[] = []
    const seen = new Set<string>()
    for (const kind of RUNNING_KINDS) {
      const p = this.providers.get(kind)
      if (!p) continue
      let items: ProvidedItem[]
      try {
        items = await p.list(proc)
      } catch (err) {
        this.d.log.warn(`running: could not list ${kind}s`, err)
        continue
      }
      for (const it of items) {
        const key = keyOf(kind, it.id)
        seen.add(key)
        let idleMs: number | null = null
        if (it.idle) {
          if (!this.idleSeen.has(key)) this.idleSeen.set(key, now)
          idleMs = Math.max(0, now - (it.idleSince ?? this.idleSeen.get(key)!))
        } else this.idleSeen.delete(key)
        const stop = this.pending.get(key)
        out.push({
          kind,
          id: it.id,
          name: it.name,
          state: it.state,
          detail: it.detail ?? null,
          idleMs,
          memoryBytes: it.memoryBytes,
          stopAt: stop ? new Date(stop.at).toISOString() : null,
          costPerHour: it.costPerHour ?? null,
          costSoFar: it.costSoFar ?? null
        })
      }
    }
    for (const k of [...this.idleSeen.keys()]) if (!seen.has(k)) this.idleSeen.delete(k)
    for (const k of [...this.pending.keys()]) if (!seen.has(k)) this.pending.delete(k)
    return out
  }

  async stop(kind: RunningKind, id: string): Promise<void> {
    const p = this.providers.get(kind)
    if (!p) throw new AppError('NOT_FOUND', `Nothing of kind '${kind}' runs here`)
    await p.stop(id)
    this.pending.delete(keyOf(kind, id))
    this.idleSeen.delete(keyOf(kind, id))
  }

  /** Stops everything idle now (kernels before the servers they run on). */
  async stopIdle(): Promise<{ kind: RunningKind; id: string }[]> {
    const idle = (await this.list()).filter((i) => i.idleMs !== null)
    const stopped: { kind: RunningKind; id: string }[] = []
    for (const i of idle) {
      try {
        await this.stop(i.kind, i.id)
        stopped.push({ kind: i.kind, id: i.id })
      } catch (err) {
        this.d.log.warn(`running: could not stop ${i.kind} ${i.id}`, err)
      }
    }
    return stopped
  }

  /**
   * Applies the idle policies once: an item idle for (idle − warn) gets a warning with its stop time;
   * activity before then (it is no longer idle, or its idle time restarted) cancels the stop; at the
   * stop time it is stopped.
   */
  async tick(): Promise<void> {
    if (this.ticking) return
    this.ticking = true
    try {
      const policies = new Map(this.policies().map((p) => [p.kind, p]))
      const items = await this.list()
      const now = this.now()
      for (const it of items) {
        const key = keyOf(it.kind, it.id)
        const policy = policies.get(it.kind)
        const pending = this.pending.get(key)
        const limit = policy?.idleSeconds == null ? null : policy.idleSeconds * 1000
        if (limit === null || it.idleMs === null || it.idleMs < limit - (policy!.warnSeconds * 1000)) {
          if (pending) {
            this.pending.delete(key)
            this.d.emit('running.warning', { kind: it.kind, id: it.id, name: it.name, stopAt: null })
          }
          continue
        }
        const at = now - it.idleMs + limit
        if (it.idleMs >= limit) {
          this.pending.delete(key)
          try {
            await this.stop(it.kind, it.id)
            const reason = `idle for ${Math.round(it.idleMs / 1000)} s (policy: ${policy!.idleSeconds} s)`
            this.d.log.info(`running: stopped ${it.kind} ${it.name}: ${reason}`)
            this.d.emit('running.stopped', { kind: it.kind, id: it.id, name: it.name, reason })
          } catch (err) {
            this.d.log.warn(`running: idle policy could not stop ${it.kind} ${it.id}`, err)
          }
        } else if (!pending || Math.abs(pending.at - at) > 1000) {
          // a new warning, or the idle clock restarted (activity) and the stop moved
          this.pending.set(key, { at, name: it.name })
          this.d.emit('running.warning', { kind: it.kind, id: it.id, name: it.name, stopAt: new Date(at).toISOString() })
        }
      }
    } finally {
      this.ticking = false
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}
