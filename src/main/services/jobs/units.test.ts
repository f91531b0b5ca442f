import { describe, expect, it } from 'vitest'
import type { JobSpec } from '../../../shared/jobs'
import { outcome } from './HostBackend'
import { wholeLines } from './logs'
import { mapSlurmState, sbatchScript, torchrunCommand } from './SlurmBackend'
import { entryCommand, hpEnvName, notebookToScript } from './spec'
import { bestTrial, checkSweep, trialsOf } from './sweeps'
import type { PreparedJob } from './types'

describe('Slurm states', () => {
  it('maps every state family with exit codes and reasons', () => {
    expect(mapSlurmState('PENDING', 'Priority', '0')).toEqual({ state: 'queued', reason: 'Priority' })
    expect(mapSlurmState('CONFIGURING', 'None', '0').state).toBe('starting')
    expect(mapSlurmState('COMPLETING', 'None', '0').state).toBe('running')
    expect(mapSlurmState('COMPLETED', 'None', '0')).toEqual({ state: 'succeeded', exitCode: 0, reason: null })
    // squeue's exit_code is a raw wait status: 3 << 8
    expect(mapSlurmState('FAILED', 'NonZeroExitCode', String(3 << 8))).toEqual({ state: 'failed', exitCode: 3, reason: 'exited with code 3' })
    // sacct's is code:signal
    expect(mapSlurmState('FAILED', 'None', '0:9')).toMatchObject({ state: 'failed', exitCode: 137, reason: 'killed by signal 9 (SIGKILL)' })
    expect(mapSlurmState('OUT_OF_MEMORY', 'OutOfMemory', '0:125').reason).toMatch(/^OUT_OF_MEMORY/)
    expect(mapSlurmState('TIMEOUT', 'TimeLimit', '0:15')).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^TIMEOUT: killed by signal 15.*TimeLimit$/) })
    expect(mapSlurmState('CANCELLED by 0', 'None', '0:15').state).toBe('cancelled')
    expect(mapSlurmState('NODE_FAIL', 'NodeDown', '0')).toEqual({ state: 'lost', exitCode: 0, reason: 'NODE_FAIL: NodeDown' })
    expect(mapSlurmState('BOOT_FAIL', 'None', '').state).toBe('lost')
  })
  it('names signals from exit codes', () => {
    expect(outcome(0).state).toBe('succeeded')
    expect(outcome(143).reason).toBe('killed by signal 15 (SIGTERM)')
    expect(outcome(2).reason).toBe('exited with code 2')
  })
})

const spec = (extra: Partial<JobSpec> = {}): JobSpec => ({ name: 'train net', target: { kind: 'slurm' }, entry: { kind: 'script', path: 'train.py' }, ...extra })
const prepared = (s: JobSpec, tasks = 1, concurrency?: number): PreparedJob => ({
  folderId: 'f1',
  name: s.name,
  spec: s,
  sourceDir: null,
  files: [],
  generated: {},
  env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' },
  concurrency,
  tasks: Array.from({ length: tasks }, (_, i) => ({ jobId: `j${i}`, env: {}, command: 'true', hyperparameters: {} }))
})

describe('sbatch script', () => {
  it('carries the resources, modules and environment', () => {
    const s = spec({ resources: { cpus: 4, memoryMb: 8000, gpus: 2, timeLimitMin: 90, partition: 'gpu', nodes: 1 }, env: { modules: ['cuda/12.1', 'gcc'] } })
    const text = sbatchScript(prepared(s), '/w/f1')
    for (const l of ['#SBATCH --job-name=train_net', '#SBATCH --output=/w/f1/output.log', '#SBATCH --cpus-per-task=4', '#SBATCH --mem=8000M', '#SBATCH --time=90', '#SBATCH --partition=gpu', '#SBATCH --nodes=1', '#SBATCH --gres=gpu:2', 'module load cuda/12.1', 'module load gcc', "export MLFLOW_TRACKING_URI='http://127.0.0.1:5000'", "cd '/w/f1/src' || exit 1"]) {
      expect(text).toContain(l)
    }
    expect(text).not.toContain('--array')
  })
  it('makes a sweep one array whose tasks read their own file, throttled', () => {
    const text = sbatchScript(prepared(spec(), 3, 2), '/w/f1', 'debug')
    expect(text).toContain('#SBATCH --array=0-2%2')
    expect(text).toContain('#SBATCH --output=/w/f1/trial-%a.log')
    expect(text).toContain('#SBATCH --partition=debug')
    expect(text).toContain("source '/w/f1/tasks'/${SLURM_ARRAY_TASK_ID:-0}.sh")
  })
  it('launches multi-node PyTorch with srun + torchrun and the rendezvous on the first node', () => {
    const s = spec({ resources: { nodes: 2, torchrun: { nprocPerNode: 4 } } })
    const text = sbatchScript(prepared(s), '/w/f1')
    expect(text).toContain('MASTER_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1)')
    expect(text).toContain('export MASTER_PORT=$((29500 + SLURM_JOB_ID % 1000))')
    expect(text).toContain('#SBATCH --ntasks-per-node=1')
    expect(torchrunCommand(s, ['train.py', '--lr', '0.1'])).toBe(
      "srun torchrun --nnodes=$SLURM_NNODES --nproc_per_node=4 --rdzv_id=$SLURM_JOB_ID --rdzv_backend=c10d --rdzv_endpoint=$MASTER_ADDR:$MASTER_PORT 'train.py' '--lr' '0.1'"
    )
  })
  it('runs one torchrun worker per GPU unless told otherwise, with the chosen interpreter and the step’s CPUs', () => {
    const s = spec({ resources: { gpus: 4, cpus: 8, torchrun: {} }, env: { python: '/opt/py/bin/python' } })
    expect(sbatchScript(prepared(s), '/w/f1')).toContain('#SBATCH --gres=gpu:4')
    expect(torchrunCommand(s, ['train.py'])).toBe(
      "srun --cpus-per-task=8 '/opt/py/bin/python' -m torch.distributed.run --nnodes=$SLURM_NNODES --nproc_per_node=4 --rdzv_id=$SLURM_JOB_ID --rdzv_backend=c10d --rdzv_endpoint=$MASTER_ADDR:$MASTER_PORT 'train.py'"
    )
    expect(torchrunCommand(spec({ resources: { gpus: 4, torchrun: { nprocPerNode: 2 } } }), ['t.py'])).toContain('--nproc_per_node=2')
    expect(torchrunCommand(spec({ resources: { torchrun: {} } }), ['t.py'])).toContain('srun torchrun --nnodes=$SLURM_NNODES --nproc_per_node=1 ')
  })
})

describe('entry and hyperparameters', () => {
  it('passes hyperparameters as arguments, quoted', () => {
    expect(entryCommand(spec({ entry: { kind: 'script', path: "it's.py" } }), { lr: 0.1, name: 'a b' }, 'python3')).toBe(`'python3' -u 'it'\\''s.py' '--lr' '0.1' '--name' 'a b'`)
    expect(entryCommand(spec({ entry: { kind: 'module', module: 'pkg.train' }, env: { condaEnv: 'torch' } }), {}, 'python3')).toBe(`conda run --no-capture-output -n 'torch' 'python3' -u '-m' 'pkg.train'`)
    expect(entryCommand(spec({ entry: { kind: 'command', command: 'make train' } }), {}, 'python3')).toBe(`bash -c 'make train'`)
    expect(hpEnvName('learning-rate')).toBe('HP_LEARNING_RATE')
  })
  it('converts notebooks: code cells in order, magics and shell escapes commented out', () => {
    const nb = { cells: [{ cell_type: 'markdown', source: 'x' }, { cell_type: 'code', source: ['%time\n', '  !ls\n', 'a = 1'] }, { cell_type: 'code', source: 'print(a)' }] }
    const py = notebookToScript(JSON.stringify(nb), 'n.ipynb')
    expect(py).toContain('# %time\n#   !ls\na = 1')
    expect(py.indexOf('a = 1')).toBeLessThan(py.indexOf('print(a)'))
  })
})

describe('sweeps', () => {
  it('grids the cartesian product, capped by maxTrials', () => {
    const cfg = { strategy: 'grid' as const, space: { lr: { values: [0.1, 0.01] }, bs: { values: [16, 32, 64] } } }
    expect(trialsOf(cfg)).toHaveLength(6)
    expect(trialsOf(cfg)[0]).toEqual({ lr: 0.1, bs: 16 })
    expect(trialsOf({ ...cfg, maxTrials: 4 })).toHaveLength(4)
  })
  it('draws random trials reproducibly from the seed, inside the ranges', () => {
    const cfg = { strategy: 'random' as const, maxTrials: 20, seed: 7, space: { lr: { min: 1e-4, max: 1e-1, log: true }, layers: { min: 1, max: 5, integer: true }, opt: { values: ['adam', 'sgd'] } } }
    const a = trialsOf(cfg)
    expect(a).toEqual(trialsOf(cfg))
    expect(a).not.toEqual(trialsOf({ ...cfg, seed: 8 }))
    for (const t of a) {
      expect(t.lr as number).toBeGreaterThanOrEqual(1e-4)
      expect(t.lr as number).toBeLessThanOrEqual(1e-1)
      expect(Number.isInteger(t.layers)).toBe(true)
      expect(['adam', 'sgd']).toContain(t.opt)
    }
  })
  it('checks what the schema cannot and ranks by goal', () => {
    expect(checkSweep({ strategy: 'grid', space: { lr: { min: 0, max: 1 } } })).toEqual([{ field: 'sweep.space.lr', message: 'grid search needs a list of values' }])
    expect(bestTrial([0.3, null, 0.1], 'minimize')).toBe(2)
    expect(bestTrial([0.3, null, 0.1], 'maximize')).toBe(0)
    expect(bestTrial([null], 'minimize')).toBeNull()
  })
})

describe('log lines', () => {
  it('consumes whole lines only until the job ends', () => {
    expect(wholeLines(Buffer.from('a\nb\r\npart'), false)).toEqual({ lines: ['a', 'b'], bytes: 5 })
    expect(wholeLines(Buffer.from('part'), false)).toEqual({ lines: [], bytes: 0 })
    expect(wholeLines(Buffer.from('part'), true)).toEqual({ lines: ['part'], bytes: 4 })
  })
})
