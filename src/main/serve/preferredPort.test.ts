import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { choosePort, rememberedPort, rememberPort } from './preferredPort'

const listen = (port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(port, '127.0.0.1', () => resolve(s))
  })
const portOf = (s: Server) => (s.address() as { port: number }).port
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()))

describe('serve prefers the port it had last time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-port-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('nothing remembered: any free port; an explicit --port wins', async () => {
    expect(rememberedPort(dir)).toBeNull()
    expect(await choosePort(dir, '127.0.0.1', null)).toBe(0)
    expect(await choosePort(dir, '127.0.0.1', 8123)).toBe(8123)
  })

  it('the remembered port when it is free, else any free port', async () => {
    const s = await listen()
    const port = portOf(s)
    rememberPort(dir, port)
    expect(statSync(join(dir, 'serve-port.json')).mode & 0o777).toBe(0o600)
    expect(rememberedPort(dir)).toBe(port)
    expect(await choosePort(dir, '127.0.0.1', null)).toBe(0) // taken
    await close(s)
    expect(await choosePort(dir, '127.0.0.1', null)).toBe(port)
    expect(await choosePort(dir, '127.0.0.1', 0)).toBe(0) // --port 0 asks for any free port
    const again = await listen(port) // and it can really be listened on
    await close(again)
  })

  it('ignores a damaged file', async () => {
    writeFileSync(join(dir, 'serve-port.json'), '{"port": "x"}')
    expect(rememberedPort(dir)).toBeNull()
    writeFileSync(join(dir, 'serve-port.json'), 'not json')
    expect(await choosePort(dir, '127.0.0.1', null)).toBe(0)
  })
})
