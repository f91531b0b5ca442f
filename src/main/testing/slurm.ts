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
  stop(): Promise<void>
}

/** Starts slurmctld + slurmd with a private config and waits until the node is idle. */
export async function startSlurm(opts: { cpus?: number } = {}): Promise<SlurmCluster> {
  const why = slurmUnavailable()
  if (why) throw new Error(why)
  ensureMunge()
  const dir = mkdtempSync(join(tmpdir(), 'atelier-slurm-'))
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub))
  const host = execFileSync('hostname', ['-s'], { encoding: 'utf8' }).trim()
  const ctldPort = await freePort()
  let dPort = await freePort()
  while (dPort === ctldPort) dPort = await freePort()
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
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
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
      `SlurmdLogFile=${dir}/slurmd.log`,
      'MinJobAge=300',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${opts.cpus ?? 8} RealMemory=4000 State=UNKNOWN`,
      `PartitionName=${partition} Nodes=${host} Default=YES MaxTime=INFINITE State=UP`
    ].join('\n') + '\n'
  )
  const env = { ...process.env, SLURM_CONF: conf }
  // -i: ignore saved state (a fresh cluster); both daemonize and write their pid files
  execFileSync('/usr/sbin/slurmctld', ['-i', '-f', conf], { env, stdio: 'ignore' })
  execFileSync('/usr/sbin/slurmd', ['-f', conf], { env, stdio: 'ignore' })
  const stop = async () => {
    await run('scancel', ['--full', '--quiet', `--user=root`, '--partition', partition], env).catch(() => undefined)
    await killAndWait(pidFrom(join(dir, 'slurmd.pid')))
    await killAndWait(pidFrom(join(dir, 'slurmctld.pid')))
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 30_000
  let last = ''
  for (;;) {
    const r = await run('sinfo', ['--noheader', '-N', '-o', '%T'], env)
    last = r.out.trim()
    if (r.code === 0 && /^idle/m.test(last)) break
    if (Date.now() > deadline) {
      const log = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-2000) : '')
      await stop()
      throw new Error(`Slurm did not become idle (sinfo: ${last})\nslurmctld.log:\n${log('slurmctld.log')}\nslurmd.log:\n${log('slurmd.log')}`)
    }
    await sleep(200)
  }
  return { dir, conf, env: { SLURM_CONF: conf }, partition, stop }
}
