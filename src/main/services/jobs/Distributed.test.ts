/**
 * Distributed training, actually run: the generated sbatch script launches `srun torchrun` on the
 * private test Slurm, PyTorch DDP on CPU with the gloo backend — 1 node × 4 processes, and 2 nodes
 * × 4 (world size 8) with two slurmd daemons on this host. Each rank prints its rank and world size;
 * rank 0 logs the all-reduced loss to the job's run with the shipped `atelier.tracking`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../../testing/slurm'
import { allLogLines, createJobsTestCore, type JobsTestCore } from './testing'

function torchUnavailable(): string | null {
  if (spawnSync('sh', ['-c', 'command -v torchrun'], { stdio: 'ignore' }).status !== 0) return 'torchrun is not on PATH (apt install python3-torch)'
  const r = spawnSync('torchrun', ['--help'], { stdio: 'ignore', timeout: 60_000 })
  return r.status === 0 ? null : 'torchrun does not start (apt install python3-torch)'
}

const why = slurmUnavailable() ?? torchUnavailable()
if (why) console.warn(`Distributed training tests skipped: ${why}`)

const STEPS = 4

/** A tiny DDP regression: the same start weights on every rank, different data per rank, all-reduced loss. */
const TRAIN_DDP = `import os
import sys
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from atelier import tracking

def say(line):
    # one write per line: the ranks share one stdout, and print() under PYTHONUNBUFFERED writes the text and its newline apart
    sys.stdout.write(line + "\\n")
    sys.stdout.flush()

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
say(f"rank={rank} world_size={world} local_rank={os.environ['LOCAL_RANK']} node={os.environ.get('SLURMD_NODENAME', '?')}")
if rank == 0:
    tracking.log_param("world_size", world)
torch.manual_seed(0)
model = DDP(torch.nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
g = torch.Generator().manual_seed(1000 + rank)
x = torch.randn(32, 8, generator=g)
y = x.sum(dim=1, keepdim=True)
for step in range(${STEPS}):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    avg = loss.detach().clone()
    dist.all_reduce(avg)
    avg /= world
    say(f"rank={rank} step={step} loss={avg.item()!r}")
    if rank == 0:
        tracking.log_metric("loss", avg.item(), step)
dist.barrier()
dist.destroy_process_group()
`

describe.skipIf(why !== null)('distributed training on Slurm (srun torchrun, DDP on CPU with gloo)', () => {
  let cluster: SlurmCluster
  let core: JobsTestCore
  let twoNodes: string | null = null

  beforeAll(async () => {
    try {
      cluster = await startSlurm({ cpus: 4, nodes: 2 })
    } catch (err) {
      // one slurmd per host only (a slurmd built without --enable-multiple-slurmd): the 1 × 4 job still runs
      twoNodes = `two slurmd daemons on this host did not start: ${(err as Error).message.split('\n')[0]}`
      console.warn(`Distributed training: ${twoNodes}`)
      cluster = await startSlurm({ cpus: 4 })
    }
    core = await createJobsTestCore({ slurmEnv: cluster.env })
    writeFileSync(join(core.workspaceDir, 'train_ddp.py'), TRAIN_DDP)
  }, 90_000)
  afterAll(async () => {
    await core?.cleanup()
    await cluster?.stop()
  })

  const spec = (name: string, nodes: number) => ({
    name,
    target: { kind: 'slurm' },
    entry: { kind: 'script', path: 'train_ddp.py' },
    resources: { cpus: 4, nodes, timeLimitMin: 5, torchrun: { nprocPerNode: 4 } },
    // Debian 12's torch 1.13 on Python 3.11 reads torchrun's default "--redirects 0 --tee 0" as None and
    // fails before starting a worker; "9:0" (no redirect for local rank 9) means the same and parses
    env: { vars: { PET_REDIRECTS: '9:0', PET_TEE: '9:0' } }
  })

  /** Runs the job and checks its log and run: every rank once, the same all-reduced loss on all of them, in the run. */
  async function runDdp(name: string, nodes: number): Promise<{ lines: string[]; ranks: Map<number, string> }> {
    const job = await core.call('jobs.submit', { spec: spec(name, nodes) })
    const done = await core.waitState(job.id, ['succeeded', 'failed', 'lost', 'cancelled'], 240_000)
    const lines = await allLogLines(core, job.id)
    expect([done.state, done.reason], lines.slice(-40).join('\n')).toEqual(['succeeded', null])
    expect(done.script).toContain(`#SBATCH --nodes=${nodes}`)
    expect(done.script).toContain('#SBATCH --ntasks-per-node=1')
    // the launch line the array task file runs
    expect(readFileSync(join(done.workDir, 'tasks', '0.sh'), 'utf8')).toContain("srun --cpus-per-task=4 torchrun --nnodes=$SLURM_NNODES --nproc_per_node=4 --rdzv_id=$SLURM_JOB_ID --rdzv_backend=c10d --rdzv_endpoint=$MASTER_ADDR:$MASTER_PORT 'train_ddp.py'")
    const world = nodes * 4
    const ranks = new Map<number, string>()
    for (const l of lines) {
      const m = /^rank=(\d+) world_size=(\d+) local_rank=(\d+) node=(\S+)$/.exec(l)
      if (!m) continue
      expect(ranks.has(Number(m[1])), `rank ${m[1]} started twice`).toBe(false)
      expect(Number(m[2])).toBe(world)
      expect(Number(m[3])).toBe(Number(m[1]) % 4)
      ranks.set(Number(m[1]), m[4])
    }
    expect([...ranks.keys()].sort((a, b) => a - b), lines.join('\n')).toEqual(Array.from({ length: world }, (_, i) => i))
    // the all-reduced loss is the same number on every rank, at every step
    const byStep = new Map<number, Map<number, string>>()
    for (const l of lines) {
      const m = /^rank=(\d+) step=(\d+) loss=(\S+)$/.exec(l)
      if (m) byStep.set(Number(m[2]), (byStep.get(Number(m[2])) ?? new Map()).set(Number(m[1]), m[3]))
    }
    expect([...byStep.keys()].sort()).toEqual(Array.from({ length: STEPS }, (_, i) => i))
    const losses: number[] = []
    for (let s = 0; s < STEPS; s++) {
      const perRank = byStep.get(s)!
      expect(perRank.size).toBe(world)
      expect(new Set(perRank.values()).size, `step ${s}: ${[...perRank.values()].join(' ')}`).toBe(1)
      losses.push(Number(perRank.get(0)))
    }
    expect(losses[STEPS - 1]).toBeLessThan(losses[0])
    // rank 0's points reached the job's run: the same values, by step
    const series = await core.call('tracking.metrics.history', { runId: done.runId, key: 'loss', raw: true })
    expect(series.steps).toEqual(Array.from({ length: STEPS }, (_, i) => i))
    expect(series.values).toEqual(losses)
    const run = await core.call('tracking.run.get', { runId: done.runId })
    expect(run).toMatchObject({ status: 'FINISHED', params: { world_size: String(world) } })
    return { lines, ranks }
  }

  it('runs 1 node × 4 processes: ranks 0–3 of world size 4, one all-reduced loss, logged to the run', async () => {
    const { ranks } = await runDdp('ddp-1x4', 1)
    expect(new Set(ranks.values()).size).toBe(1)
  }, 300_000)

  it('runs 2 nodes × 4 processes (two slurmd on this host): ranks 0–7 of world size 8 across both nodes', async (ctx) => {
    if (twoNodes) ctx.skip()
    const { ranks } = await runDdp('ddp-2x4', 2)
    // ranks 0–3 on the first node, 4–7 on the second (torchrun numbers ranks node by node)
    const nodeOf = (r: number) => ranks.get(r)
    expect(new Set([0, 1, 2, 3].map(nodeOf)).size).toBe(1)
    expect(new Set([4, 5, 6, 7].map(nodeOf)).size).toBe(1)
    expect(new Set(ranks.values())).toEqual(new Set(cluster.nodes))
  }, 300_000)
})
