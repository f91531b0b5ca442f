/**
 * better-sqlite3 is a native module: the build in node_modules is for Node (tests, `serve`).
 * Electron needs one built for its own ABI; `npm start` builds it apart and the Electron entry
 * points here at it, so neither build replaces the other.
 */
let binding: string | undefined

export function setSqliteNativeBinding(path: string | undefined): void {
  binding = path
}

export function sqliteOptions<T extends object>(opts: T): T & { nativeBinding?: string } {
  return binding ? { ...opts, nativeBinding: binding } : opts
}
