import { useEffect, useState } from 'react'
import type { JobTarget, JobTargetInput, TargetTestResult } from '../../../../shared/jobs'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { Spinner } from '../../components/ProgressBar'
import { toUiError, type UiError } from '../../lib/errors'
import { useJobsStore } from './useJobsStore'
import { FormField } from './widgets'

interface Draft {
  id?: string
  name: string
  kind: JobTarget['kind']
  /** Slurm only: over SSH to a login node, or the CLI on this machine. */
  viaSsh: boolean
  host: string
  port: string
  username: string
  privateKeyPath: string
  passphrase: string
  useAgent: boolean
  workRoot: string
  partition: string
  /** Whether jobs there reach the tracking server, or write a file store the app reads. */
  tracking: 'direct' | 'file'
  hasPassphrase: boolean
  /** SageMaker */
  region: string
  roleArn: string
  bucket: string
  prefix: string
  profile: string
  endpoint: string
  s3Endpoint: string
  accessKeyId: string
  secretAccessKey: string
  hasKeys: boolean
  /** Kubernetes */
  kubeconfigPath: string
  context: string
  namespace: string
  /** Kubernetes code delivery ('' = ConfigMap while it fits, else S3 when a bucket is set); the S3 fields above say where. */
  codeFrom: '' | 'configmap' | 's3'
  fetchImage: string
}

const cloud = (k: Draft['kind']) => k === 'sagemaker' || k === 'kubernetes'

const blank = (): Draft => ({ name: '', kind: 'ssh', viaSsh: true, host: '', port: '22', username: '', privateKeyPath: '', passphrase: '', useAgent: false, workRoot: '', partition: '', tracking: 'direct', hasPassphrase: false, ...blankCloud })

const blankCloud = { region: '', roleArn: '', bucket: '', prefix: '', profile: '', endpoint: '', s3Endpoint: '', accessKeyId: '', secretAccessKey: '', hasKeys: false, kubeconfigPath: '', context: '', namespace: '', codeFrom: '' as Draft['codeFrom'], fetchImage: '' }

function fromTarget(t: JobTarget): Draft {
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    viaSsh: !!t.ssh,
    host: t.ssh?.host ?? '',
    port: String(t.ssh?.port ?? 22),
    username: t.ssh?.username ?? '',
    privateKeyPath: t.ssh?.privateKeyPath ?? '',
    passphrase: '',
    useAgent: !!t.ssh?.useAgent,
    workRoot: t.workRoot,
    partition: t.partition ?? '',
    tracking: t.tracking ?? 'direct',
    hasPassphrase: t.ssh?.hasPassphrase ?? false,
    region: t.sagemaker?.region ?? t.kubernetes?.s3?.region ?? '',
    roleArn: t.sagemaker?.roleArn ?? '',
    bucket: t.sagemaker?.bucket ?? t.kubernetes?.s3?.bucket ?? '',
    prefix: t.sagemaker?.prefix ?? t.kubernetes?.s3?.prefix ?? '',
    profile: t.sagemaker?.profile ?? t.kubernetes?.s3?.profile ?? '',
    endpoint: t.sagemaker?.endpoint ?? '',
    s3Endpoint: t.sagemaker?.s3Endpoint ?? t.kubernetes?.s3?.endpoint ?? '',
    accessKeyId: '',
    secretAccessKey: '',
    hasKeys: t.sagemaker?.hasKeys ?? false,
    kubeconfigPath: t.kubernetes?.kubeconfigPath ?? '',
    context: t.kubernetes?.context ?? '',
    namespace: t.kubernetes?.namespace ?? '',
    codeFrom: t.kubernetes?.codeFrom ?? '',
    fetchImage: t.kubernetes?.fetchImage ?? ''
  }
}

/** The draft as the contract's target; the passphrase is sent only when typed, and never shown back. */
function toInput(d: Draft, acceptHostKey?: string): JobTargetInput {
  const opt = (k: keyof Draft) => (typeof d[k] === 'string' && (d[k] as string).trim() ? { [k]: (d[k] as string).trim() } : {})
  if (d.kind === 'sagemaker') {
    return {
      ...(d.id ? { id: d.id } : {}),
      name: d.name.trim(),
      kind: 'sagemaker',
      sagemaker: { region: d.region.trim(), roleArn: d.roleArn.trim(), bucket: d.bucket.trim(), ...opt('prefix'), ...opt('profile'), ...opt('endpoint'), ...opt('s3Endpoint'), ...opt('accessKeyId'), ...(d.secretAccessKey ? { secretAccessKey: d.secretAccessKey } : {}) }
    }
  }
  if (d.kind === 'kubernetes') {
    const s3 = d.bucket.trim()
      ? {
          s3: {
            bucket: d.bucket.trim(),
            region: d.region.trim(),
            ...opt('prefix'),
            ...opt('profile'),
            ...(d.s3Endpoint.trim() ? { endpoint: d.s3Endpoint.trim() } : {}),
            ...opt('accessKeyId'),
            ...(d.secretAccessKey ? { secretAccessKey: d.secretAccessKey } : {})
          }
        }
      : {}
    return {
      ...(d.id ? { id: d.id } : {}),
      name: d.name.trim(),
      kind: 'kubernetes',
      kubernetes: { ...opt('kubeconfigPath'), ...opt('context'), ...opt('namespace'), ...(d.codeFrom ? { codeFrom: d.codeFrom } : {}), ...s3, ...opt('fetchImage') }
    }
  }
  const ssh = d.kind === 'ssh' || d.viaSsh
  return {
    ...(d.id ? { id: d.id } : {}),
    name: d.name.trim(),
    kind: d.kind,
    ...(ssh
      ? {
          ssh: {
            host: d.host.trim(),
            ...(d.port.trim() ? { port: Number(d.port) } : {}),
            username: d.username.trim(),
            ...(d.privateKeyPath.trim() ? { privateKeyPath: d.privateKeyPath.trim() } : {}),
            ...(d.passphrase ? { passphrase: d.passphrase } : {}),
            ...(d.useAgent ? { useAgent: true } : {}),
            ...(acceptHostKey ? { acceptHostKey } : {})
          }
        }
      : {}),
    ...(d.workRoot.trim() ? { workRoot: d.workRoot.trim() } : {}),
    ...(d.kind === 'slurm' && d.partition.trim() ? { partition: d.partition.trim() } : {}),
    tracking: d.tracking
  }
}

function localProblems(d: Draft): Record<string, string> {
  const p: Record<string, string> = {}
  if (!d.name.trim()) p.name = 'give the target a name'
  if (d.kind === 'sagemaker') {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(d.region.trim())) p.region = 'a region like eu-west-1'
    if (!d.roleArn.trim()) p.roleArn = 'give the IAM role SageMaker assumes'
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(d.bucket.trim())) p.bucket = 'an S3 bucket name'
    if (!!d.accessKeyId.trim() !== !!d.secretAccessKey) p.secretAccessKey = 'both keys or neither'
    return p
  }
  if (d.kind === 'kubernetes') {
    if (d.namespace.trim() && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(d.namespace.trim())) p.namespace = 'a namespace name'
    if (d.codeFrom === 's3' && !d.bucket.trim()) p.bucket = 'code from S3 needs a bucket'
    if (d.bucket.trim()) {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(d.bucket.trim())) p.bucket = 'an S3 bucket name'
      if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(d.region.trim())) p.region = 'a region like eu-west-1'
      if (!!d.accessKeyId.trim() !== !!d.secretAccessKey) p.secretAccessKey = 'both keys or neither'
    }
    return p
  }
  if (d.kind === 'ssh' || d.viaSsh) {
    if (!d.host.trim()) p.host = 'give the host name or address'
    if (!d.username.trim()) p.username = 'give the user to log in as'
    if (d.port.trim() && !(/^\d+$/.test(d.port.trim()) && Number(d.port) >= 1 && Number(d.port) <= 65535)) p.port = 'a port between 1 and 65535'
  }
  if (d.partition.trim() && !/^[\w.-]+$/.test(d.partition.trim())) p.partition = 'letters, digits, _ . - only'
  return p
}

/** "Job targets": SSH GPU hosts and Slurm clusters; save, test the connection, accept a host key. */
export function TargetsDialog() {
  const targets = useJobsStore((s) => s.targets)
  const loadTargets = useJobsStore((s) => s.loadTargets)
  const close = () => useJobsStore.getState().showTargets(false)
  const [draft, setDraft] = useState<Draft>(() => (targets[0] ? fromTarget(targets[0]) : blank()))
  const [busy, setBusy] = useState<string | null>(null)
  const [result, setResult] = useState<TargetTestResult | null>(null)
  const [error, setError] = useState<UiError | null>(null)
  const [shown, setShown] = useState(false)

  useEffect(() => void loadTargets(), [loadTargets])

  const problems = localProblems(draft)
  const errs = (k: string) => (shown && problems[k] ? [{ field: k, message: problems[k] }] : [])
  const patch = (p: Partial<Draft>) => setDraft((d) => ({ ...d, ...p }))
  const ssh = draft.kind === 'ssh' || (draft.kind === 'slurm' && draft.viaSsh)
  // a changed key is never accepted from here (it may be an attack); an unknown one may be, once
  const fingerprint = error?.code === 'SSH_HOST_KEY' && error.details?.reason !== 'changed' ? String(error.details?.fingerprint ?? '') : ''

  const save = async (acceptHostKey?: string): Promise<JobTarget | null> => {
    setShown(true)
    if (Object.keys(problems).length) return null
    const t = await call('jobs.targets.save', { target: toInput(draft, acceptHostKey) })
    setDraft(fromTarget(t))
    await loadTargets()
    return t
  }

  const run = async (label: string, fn: () => Promise<void>) => {
    setBusy(label)
    setError(null)
    try {
      await fn()
    } catch (e) {
      setError(toUiError(e))
    } finally {
      setBusy(null)
    }
  }

  const test = (acceptHostKey?: string) =>
    run('Testing connection…', async () => {
      setResult(null)
      const t = await save(acceptHostKey)
      if (t) setResult(await call('jobs.targets.test', { targetId: t.id }))
    })

  return (
    <Dialog title="Job targets" onClose={() => !busy && close()} className="wide job-targets">
      <div className="dialog-body job-targets-body">
        <div className="job-targets-side">
          <ul className="side-list" role="listbox" aria-label="Saved targets">
            {targets.map((t) => (
              <li
                key={t.id}
                role="option"
                tabIndex={0}
                aria-selected={t.id === draft.id}
                className={`side-item ${t.id === draft.id ? 'active' : ''}`}
                onClick={() => (setDraft(fromTarget(t)), setResult(null), setError(null), setShown(false))}
                onKeyDown={(e) => e.key === 'Enter' && (setDraft(fromTarget(t)), setResult(null), setError(null))}
              >
                <span className="side-item-name">{t.name}</span>
                <span className="badge">{t.kind}</span>
              </li>
            ))}
            {targets.length === 0 && <li className="muted empty-note">No saved targets. Local and “Slurm on this machine” need none.</li>}
          </ul>
          <button type="button" className="btn small" onClick={() => (setDraft(blank()), setResult(null), setError(null), setShown(false))}>
            Add target
          </button>
        </div>
        <form
          className="form job-target-form"
          aria-label={draft.id ? `Target ${draft.name}` : 'New target'}
          aria-busy={!!busy}
          onSubmit={(e) => {
            e.preventDefault()
            void run('Saving…', async () => void (await save()))
          }}
        >
          <div className="job-grid">
            <FormField label="Target name" errors={errs('name')}>
              <input type="text" value={draft.name} onChange={(e) => patch({ name: e.target.value })} placeholder="gpu-box" />
            </FormField>
            <FormField label="Kind" errors={[]}>
              <select value={draft.kind} onChange={(e) => patch({ kind: e.target.value as Draft['kind'] })}>
                <option value="ssh">SSH host</option>
                <option value="slurm">Slurm cluster</option>
                <option value="sagemaker">SageMaker</option>
                <option value="kubernetes">Kubernetes</option>
              </select>
            </FormField>
            {draft.kind === 'slurm' && (
              <FormField label="Connection" errors={[]} className="span2">
                <select value={draft.viaSsh ? 'ssh' : 'local'} onChange={(e) => patch({ viaSsh: e.target.value === 'ssh' })}>
                  <option value="ssh">Over SSH to a login node</option>
                  <option value="local">The Slurm CLI on this machine</option>
                </select>
              </FormField>
            )}
            {ssh && (
              <>
                <FormField label="Host" errors={errs('host')}>
                  <input type="text" value={draft.host} onChange={(e) => patch({ host: e.target.value })} placeholder="login.cluster.example" />
                </FormField>
                <FormField label="Port" errors={errs('port')}>
                  <input type="text" inputMode="numeric" value={draft.port} onChange={(e) => patch({ port: e.target.value })} />
                </FormField>
                <FormField label="User" errors={errs('username')}>
                  <input type="text" value={draft.username} onChange={(e) => patch({ username: e.target.value })} autoComplete="username" />
                </FormField>
                <FormField label="Private key path" errors={[]}>
                  <input type="text" className="mono" value={draft.privateKeyPath} onChange={(e) => patch({ privateKeyPath: e.target.value })} placeholder="~/.ssh/id_ed25519" />
                </FormField>
                <FormField label="Key passphrase" errors={[]} hint={draft.hasPassphrase ? 'A passphrase is stored in the secret store; type to replace it.' : 'Kept in the secret store, never shown again.'}>
                  <input type="password" value={draft.passphrase} onChange={(e) => patch({ passphrase: e.target.value })} autoComplete="new-password" />
                </FormField>
                <label className="check">
                  <input type="checkbox" checked={draft.useAgent} onChange={(e) => patch({ useAgent: e.target.checked })} /> Use SSH agent
                </label>
              </>
            )}
            {draft.kind === 'sagemaker' && (
              <>
                <FormField label="Region" errors={errs('region')}>
                  <input type="text" value={draft.region} onChange={(e) => patch({ region: e.target.value })} placeholder="eu-west-1" />
                </FormField>
                <FormField label="Role ARN" errors={errs('roleArn')} hint="The IAM role SageMaker assumes to run jobs.">
                  <input type="text" className="mono" value={draft.roleArn} onChange={(e) => patch({ roleArn: e.target.value })} placeholder="arn:aws:iam::123456789012:role/SageMaker" />
                </FormField>
                <FormField label="S3 bucket" errors={errs('bucket')}>
                  <input type="text" value={draft.bucket} onChange={(e) => patch({ bucket: e.target.value })} placeholder="my-ml-bucket" />
                </FormField>
                <FormField label="S3 prefix" errors={[]} hint="Code and outputs go under it (default atelier).">
                  <input type="text" value={draft.prefix} onChange={(e) => patch({ prefix: e.target.value })} placeholder="atelier" />
                </FormField>
                <FormField label="AWS profile" errors={[]} hint="From ~/.aws; empty: the default credential chain (environment, SSO, instance role).">
                  <input type="text" value={draft.profile} onChange={(e) => patch({ profile: e.target.value })} placeholder="default" />
                </FormField>
                <FormField label="Access key id" errors={[]} hint={draft.hasKeys ? 'Keys are stored in the secret store; type both to replace them.' : 'Optional; kept in the secret store, never shown again.'}>
                  <input type="text" className="mono" value={draft.accessKeyId} onChange={(e) => patch({ accessKeyId: e.target.value })} autoComplete="off" />
                </FormField>
                <FormField label="Secret access key" errors={errs('secretAccessKey')}>
                  <input type="password" value={draft.secretAccessKey} onChange={(e) => patch({ secretAccessKey: e.target.value })} autoComplete="new-password" />
                </FormField>
                <FormField label="SageMaker endpoint" errors={[]} hint="Optional: a VPC endpoint URL.">
                  <input type="text" className="mono" value={draft.endpoint} onChange={(e) => patch({ endpoint: e.target.value })} />
                </FormField>
                <FormField label="S3 endpoint" errors={[]} hint="Optional: a VPC or S3-compatible endpoint URL.">
                  <input type="text" className="mono" value={draft.s3Endpoint} onChange={(e) => patch({ s3Endpoint: e.target.value })} />
                </FormField>
              </>
            )}
            {draft.kind === 'kubernetes' && (
              <>
                <FormField label="Kubeconfig path" errors={[]} hint="Empty: $KUBECONFIG or ~/.kube/config. Credentials stay in that file.">
                  <input type="text" className="mono" value={draft.kubeconfigPath} onChange={(e) => patch({ kubeconfigPath: e.target.value })} placeholder="~/.kube/config" />
                </FormField>
                <FormField label="Context" errors={[]} hint="Empty: the kubeconfig's current context.">
                  <input type="text" value={draft.context} onChange={(e) => patch({ context: e.target.value })} />
                </FormField>
                <FormField label="Namespace" errors={errs('namespace')} hint="Empty: the context's namespace, else default.">
                  <input type="text" value={draft.namespace} onChange={(e) => patch({ namespace: e.target.value })} />
                </FormField>
                <FormField
                  label="Code delivery"
                  errors={[]}
                  className="span2"
                  hint="A ConfigMap holds about 1 MiB. From S3, the folder is uploaded as sourcedir.tar.gz and an init container downloads it through a presigned URL (the cluster needs no AWS keys)."
                >
                  <select value={draft.codeFrom} onChange={(e) => patch({ codeFrom: e.target.value as Draft['codeFrom'] })}>
                    <option value="">ConfigMap while it fits, else S3</option>
                    <option value="configmap">ConfigMap only</option>
                    <option value="s3">S3 always</option>
                  </select>
                </FormField>
                {draft.codeFrom !== 'configmap' && (
                  <>
                    <FormField label="S3 bucket for code" errors={errs('bucket')} hint="Empty: code travels in ConfigMaps only.">
                      <input type="text" value={draft.bucket} onChange={(e) => patch({ bucket: e.target.value })} placeholder="my-ml-bucket" />
                    </FormField>
                    <FormField label="S3 region" errors={errs('region')}>
                      <input type="text" value={draft.region} onChange={(e) => patch({ region: e.target.value })} placeholder="eu-west-1" />
                    </FormField>
                    <FormField label="S3 prefix" errors={[]} hint="Code goes under it (default atelier).">
                      <input type="text" value={draft.prefix} onChange={(e) => patch({ prefix: e.target.value })} placeholder="atelier" />
                    </FormField>
                    <FormField label="AWS profile" errors={[]} hint="From ~/.aws; empty: the default credential chain.">
                      <input type="text" value={draft.profile} onChange={(e) => patch({ profile: e.target.value })} placeholder="default" />
                    </FormField>
                    <FormField label="Access key id" errors={[]} hint="Optional; kept in the secret store, never shown again.">
                      <input type="text" className="mono" value={draft.accessKeyId} onChange={(e) => patch({ accessKeyId: e.target.value })} autoComplete="off" />
                    </FormField>
                    <FormField label="Secret access key" errors={errs('secretAccessKey')}>
                      <input type="password" value={draft.secretAccessKey} onChange={(e) => patch({ secretAccessKey: e.target.value })} autoComplete="new-password" />
                    </FormField>
                    <FormField label="S3 endpoint" errors={[]} hint="Optional: a VPC or S3-compatible endpoint URL.">
                      <input type="text" className="mono" value={draft.s3Endpoint} onChange={(e) => patch({ s3Endpoint: e.target.value })} />
                    </FormField>
                    <FormField label="Code fetch image" errors={[]} hint="Runs the init container: needs sh, curl and tar (default curlimages/curl).">
                      <input type="text" className="mono" value={draft.fetchImage} onChange={(e) => patch({ fetchImage: e.target.value })} placeholder="curlimages/curl:8.11.1" />
                    </FormField>
                  </>
                )}
              </>
            )}
            {!cloud(draft.kind) && (
            <FormField label="Work directory" errors={[]} hint="Each job gets a folder under it on the target.">
              <input type="text" className="mono" value={draft.workRoot} onChange={(e) => patch({ workRoot: e.target.value })} placeholder="~/.atelier/jobs" />
            </FormField>
            )}
            {draft.kind === 'slurm' && (
              <FormField label="Default partition" errors={errs('partition')}>
                <input type="text" value={draft.partition} onChange={(e) => patch({ partition: e.target.value })} />
              </FormField>
            )}
            {!cloud(draft.kind) && (
            <FormField
              label="Metrics from jobs"
              errors={[]}
              className="span2"
              hint={
                draft.tracking === 'file'
                  ? 'Jobs log to MLflow’s file store in their folder (MLFLOW_TRACKING_URI=file:…); Atelier reads it into their runs while they run, and after a restart.'
                  : 'Jobs log straight to Atelier’s tracking server (through an SSH tunnel to a login node).'
              }
            >
              <select value={draft.tracking} onChange={(e) => patch({ tracking: e.target.value as Draft['tracking'] })}>
                <option value="direct">Jobs reach the tracking server</option>
                <option value="file">No route back: jobs write a file store, Atelier reads it</option>
              </select>
            </FormField>
            )}
          </div>
          {error && (
            <div role="alert" className="error-box">
              {error.message}
              {fingerprint && (
                <>
                  <p>
                    Accept <code className="mono">{fingerprint}</code> only if it matches the key the server’s administrator gave you.
                  </p>
                  <button type="button" className="btn small" onClick={() => void test(fingerprint)}>
                    Accept host key
                  </button>
                </>
              )}
            </div>
          )}
          {result && (
            <div role="status" className={result.ok ? 'success-box' : 'error-box'}>
              <strong>{result.ok ? 'Connected' : 'Not usable'}:</strong> {result.message}
              <ul className="job-test-facts">
                {result.python && <li>Python: {result.python}</li>}
                {result.slurm && (
                  <li>
                    Slurm {result.slurm.version}; partitions: {result.slurm.partitions.join(', ') || 'none'}
                  </li>
                )}
                {!cloud(draft.kind) && <li>GPUs: {result.gpus.length ? result.gpus.join(', ') : 'none'}</li>}
              </ul>
            </div>
          )}
          <div className="dialog-foot">
            {busy && <Spinner label={busy} />}
            {draft.id && (
              <button
                type="button"
                className="btn ghost"
                disabled={!!busy}
                onClick={() =>
                  void run('Removing…', async () => {
                    await call('jobs.targets.remove', { targetId: draft.id! })
                    await loadTargets()
                    setDraft(blank())
                    setResult(null)
                  })
                }
              >
                Remove target
              </button>
            )}
            <button type="button" className="btn" disabled={!!busy} onClick={() => void test()}>
              Test connection
            </button>
            <button type="submit" className="btn primary" disabled={!!busy}>
              Save target
            </button>
          </div>
        </form>
      </div>
    </Dialog>
  )
}
