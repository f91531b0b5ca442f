/**
 * Electron entry. Binds the same handler table as `serve` to ipcMain (sender checked), serves the
 * renderer from app:// with a strict CSP, and locks navigation, new windows and permissions down.
 */
import { app, BrowserWindow, ipcMain, net, protocol, safeStorage, session, shell } from 'electron'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/channels'
import { createCore, type Core } from './core'
import { createLogger } from './log'
import { setSqliteNativeBinding } from './db/native'
import { APP_ORIGIN, APP_SCHEME, isAllowedNavigation, isSafeExternalUrl, isTrustedSender, resolveAppPath } from './electron/policy'
import { CSP } from './serve/server'
import { TrackingHttpServer } from './services/tracking/TrackingHttpServer'
import { createRegistryRest } from './services/registry/rest'
import { LOCAL_CONTEXT } from '../shared/auth'
import { decideKernelsOnQuit } from './electron/quitDialog'

const log = createLogger('electron')
const rendererDir = join(__dirname, '../renderer')
// The Electron-ABI build of better-sqlite3 made by `npm start` (scripts/electron-native.mjs).
setSqliteNativeBinding(process.env.ATELIER_SQLITE_BINDING || join(__dirname, '../native/electron/better_sqlite3.node'))

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }
])

let core: Core | undefined
let trackingServer: TrackingHttpServer | undefined
let mainWindow: BrowserWindow | undefined

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'Atelier',
    backgroundColor: '#1e1f22',
    // resources/ sits next to out/ in the app folder (electron-vite's layout).
    icon: join(__dirname, '../../resources/icon.png'),
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false
    }
  })
  win.once('ready-to-show', () => win.show())
  void win.loadURL(`${APP_ORIGIN}/index.html`)
  return win
}

async function main() {
  await app.whenReady()

  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppPath(rendererDir, request.url, process.platform === 'win32' ? '\\' : '/')
    if (!file) return new Response('Forbidden', { status: 403 })
    const res = await net.fetch(pathToFileURL(file).toString())
    const headers = new Headers(res.headers)
    headers.set('Content-Security-Policy', CSP)
    headers.set('X-Content-Type-Options', 'nosniff')
    return new Response(res.body, { status: res.status, headers })
  })

  // No permission (camera, notifications, geolocation…) is ever granted to page content.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false))
  session.defaultSession.setPermissionCheckHandler(() => false)

  core = await createCore({
    dataDir: app.getPath('userData'),
    mode: 'electron',
    version: app.getVersion(),
    log: createLogger('core'),
    secretCipher: safeStorage.isEncryptionAvailable()
      ? { encrypt: (s) => safeStorage.encryptString(s), decrypt: (b) => safeStorage.decryptString(b) }
      : undefined
  })

  // The MLflow REST API on a loopback port, so `mlflow` clients and kernels can log into the app.
  trackingServer = await TrackingHttpServer.start({ tracking: core.tracking, log, mounts: [createRegistryRest(core.registry, log)] })

  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method: unknown, params: unknown) => {
    const frame = event.senderFrame
    if (!frame || !isTrustedSender(frame.url, frame === event.sender.mainFrame)) {
      log.warn(`rejected IPC from ${frame?.url ?? 'unknown frame'}`)
      return { ok: false, error: { code: 'UNAUTHORIZED', message: 'Sender not allowed' } }
    }
    // IPC carries bytes: Arrow pages cross as ArrayBuffers (structured clone), not JSON
    return core!.router.handle(String(method), params, { ...LOCAL_CONTEXT, binary: true })
  })
  core.events.onAny((event, payload) => {
    for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC_EVENT_CHANNEL, event, payload)
  })

  mainWindow = createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
  })
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

let disposed = false
let deciding = false
app.on('before-quit', (event) => {
  if (disposed || !core) return
  event.preventDefault()
  if (deciding) return
  deciding = true
  // live kernels on the local Jupyter server: keep them running, stop them, or stay open
  void decideKernelsOnQuit(core.kernels)
    .catch((err) => {
      log.warn('could not ask about the kernels at quit; they stop with the app', err)
      core!.kernels.setExitChoice('stop')
      return 'stop' as const
    })
    .then((choice) => {
      deciding = false
      if (choice === 'cancel') {
        // the quit came from closing the last window: the app stays, so it gets a window back
        if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
        return
      }
      disposed = true
      return Promise.resolve(trackingServer?.close())
        .then(() => core!.dispose())
        .finally(() => app.quit())
    })
})

main().catch((err) => {
  log.error('failed to start', err)
  app.exit(1)
})
