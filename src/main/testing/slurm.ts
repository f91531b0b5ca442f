/**
 * Test harness: a real single-node Slurm cluster (slurm-wlm from Debian) on this host, private to
 * one test run: its own slurm.conf, state and spool in a temp dir, slurmctld and slurmd on free
 * ports. Needs root (the daemons run as SlurmUser=root) and munged (started here when absent).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../services/kernels/JupyterServerManager'

export { freePort }

const DAEMONS = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged']
const CLIS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo']

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** Why a Slurm cluster cannot be started here, or null when it can. */
export function slurmUnavailable(): string | null {
  const missing = [...DAEMONS.filter((d) => !existsSync(d)), ...CLIS.filter((c) => !onPath(c))]
  if (missing.length > 0) return `Slurm is not installed (missing ${missing.join(', ')}; apt install slurm-wlm munge)`
  if (process.getuid?.() !== 0) return 'the Slurm fixture runs slurmctld/slurmd as root'
  return null
}

function mungeRunning(): boolean {
  return spawnSync('pgrep', ['-x', 'munged'], { stdio: 'ignore' }).status === 0
}

function ensureMunge(): void {
  if (mungeRunning()) return
  mkdirSync('/run/munge', { recursive: true })
  if (!existsSync('/etc/munge/munge.key')) execFileSync('/usr/sbin/mungekey', ['--create'], { stdio: 'ignore' })
  execFileSync('/usr/sbin/munged', ['--force'], { stdio: 'ignore' })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: String(stdout) + String(stderr) })
    )
  })
}

function pidFrom(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : null
  } catch {
    return null
  }
}

async function killAndWait(pid: number | null): Promise<void> {
  if (!pid) return
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  for (let i = 0; i < 50; i++) {
    await sleep(100)
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    /* gone */
  }
}

export interface SlurmCluster {
  dir: string
  conf: string
  env: { SLURM_CONF: string }
  partition: string
  /** Node names (the host's short name for a one-node cluster). */
  nodes: string[]
  stop(): Promise<void>
}

/**
 * Starts slurmctld + slurmd with a private config and waits until the node is idle. With `nodes` > 1,
 * one slurmd per node on this host (`slurmd -N <name>`, each on its own port, all at 127.0.0.1),
 * which needs a slurmd built with --enable-multiple-slurmd (Debian's 22.05 is).
 */
export async function startSlurm(opts: { cpus?: number; nodes?: number } = {}): Promise<SlurmCluster> {
  const why = slurmUnavailable()
  if (why) throw new Error(why)
  ensureMunge()
  const dir = mkdtempSync(join(tmpdir(), 'atelier-slurm-'))
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub))
  const host = execFileSync('hostname', ['-s'], { encoding: 'utf8' }).trim()
  const nodeCount = opts.nodes ?? 1
  const ports = new Set<number>()
  while (ports.size < nodeCount + 1) ports.add(await freePort())
  const [ctldPort, dPort, ...morePorts] = [...ports]
  const nodeNames = nodeCount === 1 ? [host] : Array.from({ length: nodeCount }, (_, i) => `atelier-n${i + 1}`)
  const nodeLines =
    nodeCount === 1
      ? [`NodeName=${host} NodeAddr=127.0.0.1 CPUs=${opts.cpus ?? 8} RealMemory=4000 State=UNKNOWN`]
      : nodeNames.map((n, i) => `NodeName=${n} NodeHostname=${host} NodeAddr=127.0.0.1 Port=${[dPort, ...morePorts][i]} CPUs=${opts.cpus ?? 8} RealMemory=4000 State=UNKNOWN`)
  // several daemons on one host keep their spool, pid and log apart by node name (%n)
  const perNode = (f: string) => (nodeCount === 1 ? f : f.replace(/(\.\w+)?$/, '-%n$1'))
  const conf = join(dir, 'slurm.conf')
  const partition = 'debug'
  writeFileSync(
    conf,
    [
      'ClusterName=atelier',
      `SlurmctldHost=${host}(127.0.0.1)`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/${perNode('spool')}`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/${perNode('slurmd.pid')}`,
      `SlurmctldPort=${ctldPort}`,
      ...(nodeCount === 1 ? [`SlurmdPort=${dPort}`] : []),
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      // schedule on every submit/exit event at once, no batching delay
      'SchedulerParameters=sched_min_interval=0,batch_sched_delay=0',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'SlurmdParameters=config_overrides',
      'ReturnToService=2',
      'MpiDefault=none',
      'MessageTimeout=10',
      'KillWait=2',
      'InactiveLimit=0',
      'MaxArraySize=10001',
      'MaxJobCount=20000',
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/${perNode('slurmd.log')}`,
      'MinJobAge=300',
      ...nodeLines,
      `PartitionName=${partition} Nodes=${nodeNames.join(',')} Default=YES MaxTime=INFINITE State=UP`
    ].join('\n') + '\n'
  )
  const env = { ...process.env, SLURM_CONF: conf }
  // -i: ignore saved state (a fresh cluster); both daemonize and write their pid files
  execFileSync('/usr/sbin/slurmctld', ['-i', '-f', conf], { env, stdio: 'ignore' })
  const pidFiles = nodeCount === 1 ? [join(dir, 'slurmd.pid')] : nodeNames.map((n) => join(dir, `slurmd-${n}.pid`))
  const stop = async () => {
    await run('scancel', ['--full', '--quiet', `--user=root`, '--partition', partition], env).catch(() => undefined)
    for (const f of pidFiles) await killAndWait(pidFrom(f))
    await killAndWait(pidFrom(join(dir, 'slurmctld.pid')))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    if (nodeCount === 1) execFileSync('/usr/sbin/slurmd', ['-f', conf], { env, stdio: 'ignore' })
    for (const n of nodeCount === 1 ? [] : nodeNames) {
      mkdirSync(join(dir, `spool-${n}`))
      execFileSync('/usr/sbin/slurmd', ['-f', conf, '-N', n], { env, stdio: 'ignore' })
    }
  } catch (err) {
    await stop()
    throw err
  }
  const deadline = Date.now() + 30_000
  let last = ''
  for (;;) {
    const r = await run('sinfo', ['--noheader', '-N', '-o', '%T'], env)
    last = r.out.trim()
    if (r.code === 0 && last.split('\n').filter((l) => /^idle/.test(l)).length === nodeCount) break
    if (Date.now() > deadline) {
      const log = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-2000) : '')
      const dLogs = nodeCount === 1 ? ['slurmd.log'] : nodeNames.map((n) => `slurmd-${n}.log`)
      await stop()
      throw new Error(`Slurm did not become idle (sinfo: ${last})\nslurmctld.log:\n${log('slurmctld.log')}\n${dLogs.map((f) => `${f}:\n${log(f)}`).join('\n')}`)
    }
    await sleep(200)
  }
  return { dir, conf, env: { SLURM_CONF: conf }, partition, nodes: nodeNames, stop }
}
