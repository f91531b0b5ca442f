import type { EventName, Events, Method, Params, Result, ServerMessage, WorkbenchApi } from '../../../shared/api'
import { RemoteError, type ErrorPayload } from '../../../shared/errors'
import { unpackReply } from '../../../shared/binaryFrame'
import { seriesFromArrow } from '../../../shared/arrowSeries'

type Listener = (payload: unknown) => void

/** The preload bridge, present only inside Electron. */
interface Bridge {
  invoke(method: string, params: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: ErrorPayload }>
  on(listener: (event: string, payload: unknown) => void): () => void
}

declare global {
  interface Window {
    workbench?: Bridge
  }
}

class Emitter {
  private listeners = new Map<string, Set<Listener>>()
  on(event: string, l: Listener): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(l)
    return () => set.delete(l)
  }
  emit(event: string, payload: unknown): void {
    this.listeners.get(event)?.forEach((l) => l(payload))
  }
}

function bridgeApi(bridge: Bridge): WorkbenchApi {
  const emitter = new Emitter()
  bridge.on((event, payload) => emitter.emit(event, payload))
  return {
    async call(method, params) {
      const out = await bridge.invoke(method, params)
      if (out.ok) return out.result as never
      throw new RemoteError(out.error)
    },
    on: (event, listener) => emitter.on(event, listener as Listener)
  }
}

/** JSON-RPC over one WebSocket to `serve`; the token comes from the page URL and is kept for the session. */
function socketApi(url: string): WorkbenchApi & { ready: Promise<void> } {
  const emitter = new Emitter()
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  const queue: string[] = []
  let nextId = 1
  let ws: WebSocket
  let readyResolve!: () => void
  const ready = new Promise<void>((r) => (readyResolve = r))
  let retry = 0

  const connect = () => {
    ws = new WebSocket(url)
    ws.binaryType = 'arraybuffer'
    ws.onopen = () => {
      retry = 0
      readyResolve()
      for (const m of queue.splice(0)) ws.send(m)
    }
    ws.onmessage = (ev) => {
      // binary frames are replies holding bytes (Arrow pages)
      const msg = (ev.data instanceof ArrayBuffer ? unpackReply(ev.data) : JSON.parse(String(ev.data))) as ServerMessage
      if ('event' in msg) return emitter.emit(msg.event, msg.payload)
      const p = pending.get(msg.id)
      if (!p) return
      pending.delete(msg.id)
      if ('error' in msg) p.reject(new RemoteError(msg.error))
      else p.resolve(msg.result)
    }
    ws.onclose = () => {
      for (const [, p] of pending) p.reject(new RemoteError({ code: 'INTERNAL', message: 'Connection to Atelier lost' }))
      pending.clear()
      emitter.emit('connection', { connected: false })
      // a page on a login session whose session ended (sign-out elsewhere, expiry): back to the sign-in form
      if (!url.includes('?token=')) {
        void fetch('/api/session', { credentials: 'same-origin' }).then((r) => r.status === 401 && location.reload(), () => {})
      }
      setTimeout(connect, Math.min(5000, 250 * 2 ** retry++))
    }
  }
  connect()

  return {
    ready,
    call(method, params) {
      const id = nextId++
      const text = JSON.stringify({ id, method, params })
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        if (ws.readyState === WebSocket.OPEN) ws.send(text)
        else queue.push(text)
      })
    },
    on: (event, listener) => emitter.on(event, listener as Listener)
  }
}

function tokenFromLocation(): string {
  const params = new URLSearchParams(location.search)
  const fromUrl = params.get('token')
  if (fromUrl) {
    sessionStorage.setItem('atelier.token', fromUrl)
    // keep the token out of the address bar and history
    params.delete('token')
    const q = params.toString()
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash)
    return fromUrl
  }
  return sessionStorage.getItem('atelier.token') ?? ''
}

function createApi(): WorkbenchApi {
  if (window.workbench) return bridgeApi(window.workbench)
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  // without a token the browser's session cookie goes with the upgrade
  const token = tokenFromLocation()
  return socketApi(`${scheme}://${location.host}/api/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`)
}

export const api: WorkbenchApi = createApi()

/**
 * In a browser against `serve`: the page's token for authenticated HTTP requests such as downloads
 * ('' when the page signed in with a session cookie, which the browser sends itself). Null in Electron.
 */
export function serveToken(): string | null {
  return window.workbench ? null : sessionStorage.getItem('atelier.token') ?? ''
}

export function call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
  // metric series travel as Arrow bytes (both doors of the app carry bytes), read back into arrays here
  if (method === 'tracking.metrics.history') {
    const asked = { ...(params as Params<'tracking.metrics.history'>), format: 'arrow' as const }
    return api.call('tracking.metrics.history', asked).then((s) => seriesFromArrow(s) as Result<M>)
  }
  return api.call(method, params)
}

export function onEvent<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
  return api.on(event, listener)
}
