/**
 * The SageMaker fake's "local container": a training job that really runs its script, the way a
 * SageMaker framework container (the sagemaker-training toolkit) does, on this machine. Per host
 * (`algo-1`…) a temp folder stands for the container's `/opt/ml`:
 *
 *   code/                     sourcedir.tar.gz from `sagemaker_submit_directory`, unpacked
 *   input/config/hyperparameters.json, resourceconfig.json, inputdataconfig.json
 *   input/data/<channel>/     the channel's S3 objects
 *   model/                    SM_MODEL_DIR       → <S3OutputPath>/<job>/output/model.tar.gz
 *   output/data/              SM_OUTPUT_DATA_DIR → <S3OutputPath>/<job>/output/output.tar.gz
 *
 * The entry point (`sagemaker_program`) runs with /usr/bin/python3 in code/, hyperparameters as
 * `--name value` arguments, the job's Environment (with `/opt/ml` read as that folder) and the SM_*
 * variables the toolkit sets. Its stdout/stderr lines become the host's log events. Test harness only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { FakeCredentials } from './sigv4'

export interface LocalContainerOptions {
  /** The S3 fake the code comes from and the outputs go to. */
  s3Endpoint: string
  credentials: FakeCredentials
  region: string
  /** This fake's own endpoint: Secrets Manager for the container's AWS calls. */
  awsEndpoint?: string
  python?: string
  /** Seconds between SIGTERM and SIGKILL when a job is stopped. */
  stopGraceSec?: number
}

type Json = Record<string, any>

export type RunPhase = 'Starting' | 'Downloading' | 'Training' | 'Uploading' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped'

export interface LogEvent {
  t: number
  m: string
}

const parseS3 = (uri: string): { bucket: string; key: string } => {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri)
  if (!m) throw new Error(`not an S3 URI: ${uri}`)
  return { bucket: m[1], key: m[2] }
}

const run = (cmd: string, args: string[], cwd?: string) =>
  new Promise<void>((resolve, reject) => execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (err, _o, stderr) => (err ? reject(new Error(`${cmd} ${args[0]}: ${stderr || err.message}`)) : resolve())))

const decode = (v: string): unknown => {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

/** A hyperparameter as the toolkit passes it on: JSON-decoded where it is JSON, then as text. */
function hpArg(v: string): string {
  const d = decode(v)
  return typeof d === 'string' ? d : JSON.stringify(d)
}

/** One training job running for real: its phases, per-host log events, the exit and the uploads. */
export class LocalTrainingRun {
  phase: RunPhase = 'Starting'
  /** Secondary status transitions as they happened (ms). */
  readonly transitions: Array<{ status: string; at: number }> = [{ status: 'Starting', at: Date.now() }]
  readonly events = new Map<number, LogEvent[]>()
  failure?: string
  secondary?: string
  endedAt?: number
  private readonly root = mkdtempSync(join(tmpdir(), 'atelier-smjob-'))
  private readonly children = new Map<number, ChildProcess>()
  private stopRequested = false
  private readonly s3: S3Client
  private timer: NodeJS.Timeout | null = null

  constructor(
    readonly name: string,
    private readonly request: Json,
    readonly hosts: number,
    private readonly o: LocalContainerOptions,
    /** Called once the run has ended (a tuning job starts its next trial then). */
    private readonly onEnd?: () => void
  ) {
    // a copy: the SDK marks the credentials object it is given
    this.s3 = new S3Client({ region: o.region, endpoint: o.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: o.credentials.accessKeyId, secretAccessKey: o.credentials.secretAccessKey } })
    for (let h = 1; h <= hosts; h++) this.events.set(h, [])
    void this.go().catch((err) => this.end('Failed', `ClientError: ${(err as Error).message}`))
  }

  private to(phase: RunPhase): void {
    this.phase = phase
    this.transitions.push({ status: phase, at: Date.now() })
  }

  private log(host: number, line: string): void {
    this.events.get(host)!.push({ t: Date.now(), m: line })
  }

  private hostRoot(h: number): string {
    return join(this.root, `algo-${h}`)
  }

  private async get(uri: string): Promise<Buffer> {
    const { bucket, key } = parseS3(uri)
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return Buffer.from(await obj.Body!.transformToByteArray())
  }

  private async go(): Promise<void> {
    const hp: Record<string, string> = this.request.HyperParameters ?? {}
    const program = hpArg(hp.sagemaker_program ?? '')
    const submit = hpArg(hp.sagemaker_submit_directory ?? '')
    this.to('Downloading')
    const code = await this.get(submit)
    const channels: Json[] = this.request.InputDataConfig ?? []
    const hostNames = Array.from({ length: this.hosts }, (_, i) => `algo-${i + 1}`)
    for (let h = 1; h <= this.hosts; h++) {
      const r = this.hostRoot(h)
      for (const d of ['code', 'model', 'output/data', 'input/config', 'input/data']) mkdirSync(join(r, d), { recursive: true })
      writeFileSync(join(r, 'code.tar.gz'), code)
      await run('tar', ['-xzf', join(r, 'code.tar.gz'), '-C', join(r, 'code'), '--no-same-owner'])
      rmSync(join(r, 'code.tar.gz'))
      writeFileSync(join(r, 'input/config/hyperparameters.json'), JSON.stringify(hp))
      writeFileSync(join(r, 'input/config/resourceconfig.json'), JSON.stringify({ current_host: `algo-${h}`, hosts: hostNames }))
      writeFileSync(join(r, 'input/config/inputdataconfig.json'), JSON.stringify(Object.fromEntries(channels.map((c) => [c.ChannelName, { TrainingInputMode: 'File' }]))))
      for (const c of channels) await this.channel(c, join(r, 'input/data', String(c.ChannelName)))
    }
    if (this.stopRequested) return this.finish()
    this.to('Training')
    const maxSec = Number(this.request.StoppingCondition?.MaxRuntimeInSeconds ?? 86_400)
    this.timer = setTimeout(() => this.stop('MaxRuntimeExceeded'), maxSec * 1000)
    const codes = await Promise.all(hostNames.map((_, i) => this.start(i + 1, program, hp, channels, hostNames)))
    if (this.timer) clearTimeout(this.timer)
    const bad = codes.findIndex((c) => c.code !== 0)
    if (!this.stopRequested && bad >= 0) {
      const c = codes[bad]
      this.failure = `AlgorithmError: ExecuteUserScriptError: ExitCode ${c.code ?? c.signal}, ErrorMessage "${c.lastErr}"`
    }
    await this.finish()
  }

  /** A File-mode channel: every object under its S3 prefix, copied into the channel folder. */
  private async channel(c: Json, dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true })
    const uri: string | undefined = c.DataSource?.S3DataSource?.S3Uri
    if (!uri) return
    const { bucket, key: prefix } = parseS3(uri)
    let token: string | undefined
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
      for (const o of page.Contents ?? []) {
        const rel = o.Key!.slice(prefix.length).replace(/^\/+/, '') || o.Key!.split('/').pop()!
        if (rel.split('/').includes('..')) continue
        mkdirSync(dirname(join(dir, rel)), { recursive: true })
        writeFileSync(join(dir, rel), await this.get(`s3://${bucket}/${o.Key}`))
      }
      token = page.NextContinuationToken
    } while (token)
  }

  private start(h: number, program: string, hp: Record<string, string>, channels: Json[], hostNames: string[]): Promise<{ code: number | null; signal: string | null; lastErr: string }> {
    const r = this.hostRoot(h)
    const userHp = Object.fromEntries(Object.entries(hp).filter(([k]) => !k.startsWith('sagemaker_')).map(([k, v]) => [k, hpArg(v)]))
    const inContainer = (v: string) => v.replace(/(^|[:=\s])\/opt\/ml(?=\/|$)/g, `$1${r}`)
    const jobEnv = Object.fromEntries(Object.entries((this.request.Environment ?? {}) as Record<string, string>).map(([k, v]) => [k, inContainer(String(v))]))
    const sm: Record<string, string> = {
      // SageMaker names the training job in every container's environment
      TRAINING_JOB_NAME: this.name,
      SM_MODEL_DIR: join(r, 'model'),
      SM_OUTPUT_DIR: join(r, 'output'),
      SM_OUTPUT_DATA_DIR: join(r, 'output/data'),
      SM_INPUT_DIR: join(r, 'input'),
      SM_INPUT_CONFIG_DIR: join(r, 'input/config'),
      SM_MODULE_DIR: hpArg(hp.sagemaker_submit_directory ?? ''),
      SM_USER_ENTRY_POINT: program,
      // the toolkit decodes JSON values (numbers stay numbers) for SM_HPS
      SM_HPS: JSON.stringify(Object.fromEntries(Object.entries(hp).filter(([k]) => !k.startsWith('sagemaker_')).map(([k, v]) => [k, decode(v)]))),
      SM_HOSTS: JSON.stringify(hostNames),
      SM_CURRENT_HOST: `algo-${h}`,
      SM_NUM_GPUS: '0',
      SM_CHANNELS: JSON.stringify(channels.map((c) => c.ChannelName)),
      SM_USER_ARGS: JSON.stringify(Object.entries(userHp).flatMap(([k, v]) => [`--${k}`, v])),
      ...Object.fromEntries(channels.map((c) => [`SM_CHANNEL_${String(c.ChannelName).toUpperCase()}`, join(r, 'input/data', String(c.ChannelName))])),
      ...Object.fromEntries(Object.entries(userHp).map(([k, v]) => [`SM_HP_${k.toUpperCase()}`, v]))
    }
    const code = join(r, 'code')
    // the role's credentials and region, as SageMaker gives a container; AWS calls go to the fakes
    const aws: Record<string, string> = {
      AWS_ACCESS_KEY_ID: this.o.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.o.credentials.secretAccessKey,
      ...(this.o.credentials.sessionToken ? { AWS_SESSION_TOKEN: this.o.credentials.sessionToken } : {}),
      AWS_REGION: this.o.region,
      AWS_DEFAULT_REGION: this.o.region,
      ...(this.o.awsEndpoint ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: this.o.awsEndpoint } : {})
    }
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? r, LANG: 'C.UTF-8', ...aws, ...sm, ...jobEnv }
    // the toolkit puts the code folder on the module path, ahead of what the job's environment names
    env.PYTHONPATH = [code, jobEnv.PYTHONPATH].filter(Boolean).join(':')
    const args = [program, ...Object.entries(userHp).flatMap(([k, v]) => [`--${k}`, v])]
    return new Promise((resolve) => {
      const child = spawn(this.o.python ?? '/usr/bin/python3', args, { cwd: code, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      this.children.set(h, child)
      let lastErr = ''
      const lines = (stream: NodeJS.ReadableStream, err: boolean) => {
        let rest = ''
        stream.setEncoding('utf8')
        stream.on('data', (d: string) => {
          const parts = (rest + d).split('\n')
          rest = parts.pop()!
          for (const l of parts) {
            this.log(h, l)
            if (err && l.trim()) lastErr = l.trim()
          }
        })
        stream.on('end', () => {
          if (rest) {
            this.log(h, rest)
            if (err && rest.trim()) lastErr = rest.trim()
          }
        })
      }
      lines(child.stdout!, false)
      lines(child.stderr!, true)
      child.on('error', (e) => {
        lastErr = e.message
      })
      child.on('close', (code, signal) => {
        this.children.delete(h)
        resolve({ code, signal, lastErr })
      })
    })
  }

  /** StopTrainingJob (or the max runtime): SIGTERM to each host's process group, SIGKILL after the grace. */
  stop(secondary = 'Stopped'): void {
    if (this.stopRequested || this.endedAt !== undefined) return
    this.stopRequested = true
    this.secondary = secondary
    this.to('Stopping')
    for (const c of this.children.values()) {
      try {
        process.kill(-c.pid!, 'SIGTERM')
      } catch {
        /* already gone */
      }
      setTimeout(() => {
        try {
          if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL')
        } catch {
          /* already gone */
        }
      }, (this.o.stopGraceSec ?? 2) * 1000).unref()
    }
  }

  /** Uploads (model.tar.gz from algo-1's model folder, output.tar.gz from its output data) and the end state. */
  private async finish(): Promise<void> {
    if (!this.stopRequested) this.to('Uploading')
    const out = String(this.request.OutputDataConfig?.S3OutputPath ?? '').replace(/\/+$/, '')
    const r = this.hostRoot(1)
    try {
      for (const [dir, file] of [
        ['model', 'model.tar.gz'],
        ['output/data', 'output.tar.gz']
      ]) {
        const tgz = join(this.root, file)
        const entries = readdirSync(join(r, dir))
        await run('tar', ['-czf', tgz, '-C', join(r, dir), ...(entries.length ? ['--', ...entries] : ['--files-from=/dev/null'])])
        const { bucket, key } = parseS3(`${out}/${this.name}/output/${file}`)
        await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(tgz), ContentType: 'application/x-tar' }))
      }
    } catch (err) {
      this.failure ??= `ClientError: uploading the output failed: ${(err as Error).message}`
    }
    this.end(this.stopRequested ? 'Stopped' : this.failure ? 'Failed' : 'Completed', this.failure)
  }

  private end(phase: 'Completed' | 'Failed' | 'Stopped', failure?: string): void {
    if (this.endedAt !== undefined) return
    if (failure) this.failure = failure
    this.to(phase)
    this.endedAt = Date.now()
    rmSync(this.root, { recursive: true, force: true })
    this.s3.destroy()
    this.onEnd?.()
  }

  /** Kills what still runs (the fake is stopping). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer)
    for (const c of this.children.values()) {
      try {
        process.kill(-c.pid!, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }
  }
}
