/**
 * A request from another room to show one endpoint in the Endpoints room (e.g. one the builder just
 * deployed). The room takes it when it mounts, or at once when it is already open.
 */
let pending: string | null = null
const listeners = new Set<(name: string) => void>()

export function requestEndpoint(name: string): void {
  pending = name
  for (const l of listeners) l(name)
}

/** The pending request, left in place (a state initializer may run twice). */
export function requestedEndpoint(): string | null {
  return pending
}

export function takeRequestedEndpoint(): string | null {
  const p = pending
  pending = null
  return p
}

/** Follows later requests while the room is mounted; returns the unsubscribe. */
export function onEndpointRequested(l: (name: string) => void): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}
