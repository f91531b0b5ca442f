import { afterAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lifetimeArgs } from './JupyterServerManager'
import { isAlive, killAll } from './processTree'
import { DETACH_SIGNAL, withParentDeathSignal } from './serverRecord'

describe('the local server lifetime', () => {
  it('the server culls idle kernels nobody is attached to and stops when idle after idleHours, whatever its lifetime (one that stops with the app may be kept at quit)', () => {
    expect(lifetimeArgs('jupyter_server', { lifetime: 'keep-running', idleHours: 2 })).toEqual([
      '--MappingKernelManager.cull_idle_timeout=7200',
      '--MappingKernelManager.cull_interval=300',
      '--MappingKernelManager.cull_connected=False',
      '--ServerApp.shutdown_no_activity_timeout=7200'
    ])
    expect(lifetimeArgs('notebook', { lifetime: 'keep-running', idleHours: 1 })).toContain('--NotebookApp.shutdown_no_activity_timeout=3600')
    expect(lifetimeArgs('jupyter_server', { lifetime: 'keep-running', idleHours: 0 })).toEqual([])
    expect(lifetimeArgs('jupyter_server', { lifetime: 'stop-with-app', idleHours: 2 })).toEqual(lifetimeArgs('jupyter_server', { lifetime: 'keep-running', idleHours: 2 }))
  })

  const linuxPython = process.platform === 'linux' && existsSync('/usr/bin/python3')
  /**
   * A node parent that starts `python args` the way the server manager does (through the
   * parent-death boot), prints the child's pid, sends it the detach signal on 'detach' from stdin
   * and prints 'detached', and waits.
   */
  async function parentOf(args: string[], detached = false) {
    const script = `
      const { spawn } = require('node:child_process')
      const cmd = JSON.parse(process.argv[1])
      const boot = cmd.args.map((a) => a.replace('__PARENT__', String(process.pid)))
      const c = spawn(cmd.command, boot, { stdio: ['ignore', 'ignore', 'inherit'], detached: true })
      console.log(c.pid)
      process.stdin.on('data', () => { process.kill(c.pid, '${DETACH_SIGNAL}'); console.log('detached') })
      setInterval(() => {}, 1000)
    `
    const cmd = withParentDeathSignal('/usr/bin/python3', args, '__PARENT__', detached)
    const parent = spawn(process.execPath, ['-e', script, JSON.stringify(cmd)], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines: string[] = []
    parent.stdout!.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)))
    const line = async (i: number) => {
      while (lines.length <= i) await new Promise((r) => setTimeout(r, 20))
      return lines[i]
    }
    const pid = Number(await line(0))
    await new Promise((r) => setTimeout(r, 500)) // the prctl boot has run
    return { parent, pid, line }
  }
  async function goneWithin(pid: number, ms: number) {
    const deadline = Date.now() + ms
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    return !isAlive(pid)
  }
  const children: number[] = []
  afterAll(() => killAll(children.filter(isAlive), 'SIGKILL'))

  it.skipIf(!linuxPython)('a child started through the boot stops with its parent (kill -9 of the parent)', async () => {
    const { parent, pid } = await parentOf(['-c', 'import time; time.sleep(60)'])
    children.push(pid)
    expect(isAlive(pid)).toBe(true)
    parent.kill('SIGKILL')
    expect(await goneWithin(pid, 5000)).toBe(true)
  })

  it.skipIf(!linuxPython)('a child detached with the detach signal outlives its parent (kill -9), and so does one started detached', async () => {
    const a = await parentOf(['-c', 'import time; time.sleep(60)'])
    children.push(a.pid)
    a.parent.stdin!.write('detach\n')
    expect(await a.line(1)).toBe('detached')
    await new Promise((r) => setTimeout(r, 200))
    a.parent.kill('SIGKILL')
    const b = await parentOf(['-c', 'import time; time.sleep(60)'], true)
    children.push(b.pid)
    b.parent.kill('SIGKILL')
    expect(await goneWithin(a.pid, 1500)).toBe(false)
    expect(isAlive(b.pid)).toBe(true)
  })

  it.skipIf(!linuxPython)('runs `-m module args` as __main__ with its arguments, in the same process', () => {
    const cmd = withParentDeathSignal('/usr/bin/python3', ['-m', 'json.tool', '--compact'], process.pid)
    const out = execFileSync(cmd.command, cmd.args, { input: '{"a": [1, 2]}', encoding: 'utf8' })
    expect(out.trim()).toBe('{"a":[1,2]}')
    const argv = execFileSync(cmd.command, withParentDeathSignal('/usr/bin/python3', ['-c', 'import sys; print(sys.argv)', 'x'], process.pid).args, { encoding: 'utf8' })
    expect(argv.trim()).toBe("['-c', 'x']")
  })
})
