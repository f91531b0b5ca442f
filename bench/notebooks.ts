/**
 * `npm run bench:notebooks`: executing a cell through our stack (the handler table and the
 * KernelService relay, outputs back as `kernel.iopub` events) against `@jupyterlab/services` used
 * directly, on the same local Jupyter server in the same run. Prints `name: value` lines.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KernelAPI, KernelConnection } from '@jupyterlab/services'
import type { KernelIopubEvent } from '../src/shared/api'
import { createCore } from '../src/main/core'
import { silentLogger } from '../src/main/log'
import { makeSettings } from '../src/main/services/kernels/jupyterRest'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200)
const WARMUP = 20
const line = (name: string, value: string | number) => console.log(`${name}: ${value}`)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'atelier-bench-nb-'))
  // @jupyterlab/services logs every socket it opens; keep stdout to `name: value` lines.
  const debug = console.debug
  console.debug = (...a: unknown[]) => (typeof a[0] === 'string' && /^(Starting WebSocket|Kernel: )/.test(a[0]) ? undefined : debug(...a))
  const core = await createCore({ dataDir: join(root, 'data'), workspace: join(root, 'ws'), mode: 'test', log: silentLogger, extensionRepository: 'http://127.0.0.1:9' })
  try {
    const t0 = performance.now()
    const server = await core.router.dispatch('kernels.startLocal', {})
    line('jupyter_server_start_ms', (performance.now() - t0).toFixed(0))
    line('python', (server as { python?: string }).python ?? '?')
    const t1 = performance.now()
    const { kernelId } = (await core.router.dispatch('kernels.start', {})) as { kernelId: string }
    line('kernel_start_ms', (performance.now() - t1).toFixed(0))

    const waiters = new Map<string, (e: KernelIopubEvent) => void>()
    core.events.on('kernel.iopub', (e) => {
      if (e.msgType === 'execute_reply') waiters.get(e.parentMsgId)?.(e)
    })
    const ours = async (code: string) => {
      let done!: () => void
      const finished = new Promise<void>((r) => (done = r))
      const t = performance.now()
      const { msgId } = (await core.router.dispatch('kernels.execute', { kernelId, cellId: 'bench', code })) as { msgId: string }
      waiters.set(msgId, () => done())
      await finished
      waiters.delete(msgId)
      return performance.now() - t
    }

    const settings = makeSettings(core.kernels.servers.endpointOf('local')!)
    const model = await KernelAPI.startNew({ name: 'python3' }, settings)
    const raw = new KernelConnection({ model, serverSettings: settings, handleComms: false })
    await raw.info
    const direct = async (code: string) => {
      const t = performance.now()
      await raw.requestExecute({ code }).done
      return performance.now() - t
    }

    for (let i = 0; i < WARMUP; i++) {
      await ours('1+1')
      await direct('1+1')
    }
    const a: number[] = []
    const b: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first so drift in the kernel or the machine hits both alike.
      if (i % 2) {
        a.push(await ours('1+1'))
        b.push(await direct('1+1'))
      } else {
        b.push(await direct('1+1'))
        a.push(await ours('1+1'))
      }
    }
    line('rounds', ROUNDS)
    line('execute_1plus1_atelier_median_ms', median(a).toFixed(2))
    line('execute_1plus1_direct_median_ms', median(b).toFixed(2))
    line('execute_1plus1_atelier_p95_ms', p95(a).toFixed(2))
    line('execute_1plus1_direct_p95_ms', p95(b).toFixed(2))
    line('execute_added_latency_median_ms', (median(a) - median(b)).toFixed(2))
    line('execute_ratio_atelier_vs_direct', (median(a) / median(b)).toFixed(3))

    let events = 0
    const off = core.events.on('kernel.iopub', () => events++)
    const big = 'for i in range(200000): print(i)'
    const bigOurs = await ours(big)
    off()
    const bigDirect = await direct(big)
    line('print_200k_lines_atelier_ms', bigOurs.toFixed(0))
    line('print_200k_lines_direct_ms', bigDirect.toFixed(0))
    line('print_200k_lines_events_relayed', events)

    await raw.shutdown()
    raw.dispose()
  } finally {
    await core.dispose()
    rmSync(root, { recursive: true, force: true })
    console.debug = debug
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
