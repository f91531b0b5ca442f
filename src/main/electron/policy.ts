/**
 * Navigation, window and sender policies as pure functions (tested without Electron);
 * src/main/index.ts hooks them up.
 */
export const APP_SCHEME = 'app'
export const APP_ORIGIN = `${APP_SCHEME}://atelier`

/** The renderer may only ever show our own pages. */
export function isAllowedNavigation(url: string): boolean {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}` === APP_ORIGIN
  } catch {
    return false
  }
}

/** Links the user clicks may open in the system browser only if they are plain web pages. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const u = new URL(url)
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === ''
  } catch {
    return false
  }
}

/** IPC is answered only for our own top-level page. */
export function isTrustedSender(frameUrl: string | undefined, isMainFrame: boolean): boolean {
  return isMainFrame && frameUrl !== undefined && isAllowedNavigation(frameUrl)
}

/** Maps an app:// request to a file inside the renderer folder, or null when it would escape it. */
export function resolveAppPath(rootDir: string, url: string, sep = '/'): string | null {
  let pathname: string
  try {
    const u = new URL(url)
    if (`${u.protocol}//${u.host}` !== APP_ORIGIN) return null
    pathname = decodeURIComponent(u.pathname)
  } catch {
    return null
  }
  if (pathname === '/' || pathname === '') pathname = '/index.html'
  const parts: string[] = []
  for (const seg of pathname.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..' || seg.includes('\\') || seg.includes('\0')) return null
    parts.push(seg)
  }
  const root = rootDir.endsWith(sep) ? rootDir.slice(0, -1) : rootDir
  return [root, ...parts].join(sep)
}
