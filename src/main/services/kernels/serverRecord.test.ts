import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lifetimeArgs } from './JupyterServerManager'
import { isAlive } from './processTree'
import { withParentDeathSignal } from './serverRecord'

describe('the local server lifetime', () => {
  it('keep-running culls idle kernels nobody is attached to and stops an idle server after idleHours; stop-with-app adds nothing', () => {
    expect(lifetimeArgs('jupyter_server', { lifetime: 'keep-running', idleHours: 2 })).toEqual([
      '--MappingKernelManager.cull_idle_timeout=7200',
      '--MappingKernelManager.cull_interval=300',
      '--MappingKernelManager.cull_connected=False',
      '--ServerApp.shutdown_no_activity_timeout=7200'
    ])
    expect(lifetimeArgs('notebook', { lifetime: 'keep-running', idleHours: 1 })).toContain('--NotebookApp.shutdown_no_activity_timeout=3600')
    expect(lifetimeArgs('jupyter_server', { lifetime: 'keep-running', idleHours: 0 })).toEqual([])
    expect(lifetimeArgs('jupyter_server', { lifetime: 'stop-with-app', idleHours: 2 })).toEqual([])
  })

  const linuxPython = process.platform === 'linux' && existsSync('/usr/bin/python3')
  for (const via of ['setpriv', 'the interpreter (prctl)'] as const) {
    const setpriv = via === 'setpriv' ? ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync) ?? null : null
    it.skipIf(!linuxPython || (via === 'setpriv' && !setpriv))(`a child started through ${via} dies with its parent (kill -9 of the parent)`, async () => {
      // the parent: a node process that starts python the way the server manager does, then waits
      const script = `
        const { spawn } = require('node:child_process')
        const cmd = JSON.parse(process.argv[1])
        const boot = cmd.args.map((a) => a.replace('__PARENT__', String(process.pid)))
        const c = spawn(cmd.command, boot, { stdio: 'ignore', detached: true })
        console.log(c.pid)
        setInterval(() => {}, 1000)
      `
      const cmd = withParentDeathSignal('/usr/bin/python3', ['-c', 'import time; time.sleep(60)'], setpriv, '__PARENT__')
      const parent = spawn(process.execPath, ['-e', script, JSON.stringify(cmd)], { stdio: ['ignore', 'pipe', 'inherit'] })
      const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))))
      await new Promise((r) => setTimeout(r, 500)) // the prctl boot has run
      expect(isAlive(pid)).toBe(true)
      parent.kill('SIGKILL')
      const deadline = Date.now() + 5000
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(isAlive(pid)).toBe(false)
    })
  }
})
