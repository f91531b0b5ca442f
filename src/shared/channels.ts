/** IPC channel names; kept apart from the contract so the sandboxed preload bundles nothing else. */
export const IPC_INVOKE_CHANNEL = 'atelier:invoke'
export const IPC_EVENT_CHANNEL = 'atelier:event'
