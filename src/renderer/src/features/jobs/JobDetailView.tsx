import { useState } from 'react'
import type { JobDetail } from '../../../../shared/jobs'
import { Dialog } from '../../components/Dialog'
import { useCommandStore } from '../commands/useCommandStore'
import { cloneName } from './form'
import { formatDuration, formatHp, formatTimestamp, isActive, jobDurationMs } from './format'
import { JobMetrics } from './JobMetrics'
import { LogPane } from './LogPane'
import { useJobsStore } from './useJobsStore'
import { StateBadge, useNow } from './widgets'
import { KeyValueTable } from '../../components/KeyValueTable'

async function openInExperiments(experimentId: string, runId: string) {
  const { useExperimentsStore } = await import('../experiments/useExperimentsStore')
  useCommandStore.getState().run('room.experiments')
  await useExperimentsStore.getState().openRun(experimentId, runId)
}

function ConfirmCancel({ name, onConfirm, onClose }: { name: string; onConfirm(): void; onClose(): void }) {
  return (
    <Dialog title="Cancel this job?" onClose={onClose}>
      <div className="dialog-body form">
        <p>
          <strong>{name}</strong> will be stopped (its process group is killed, or <code>scancel</code> on Slurm). Its log and metrics so far are kept.
        </p>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} autoFocus>
            Keep running
          </button>
          <button
            type="button"
            className="btn primary danger"
            onClick={() => {
              onConfirm()
              onClose()
            }}
          >
            Yes, cancel it
          </button>
        </div>
      </div>
    </Dialog>
  )
}

/** One job: state and reason, actions, what it was asked for, its metrics, its script and its live log. */
export function JobDetailView({ detail }: { detail: JobDetail }) {
  const cancelJob = useJobsStore((s) => s.cancelJob)
  const resubmit = useJobsStore((s) => s.resubmit)
  const openSubmit = useJobsStore((s) => s.openSubmit)
  const busy = useJobsStore((s) => s.busy)
  const actionError = useJobsStore((s) => s.actionError)
  const [confirm, setConfirm] = useState(false)
  const active = isActive(detail.state)
  const now = useNow(active)
  const r = detail.spec.resources ?? {}
  const entry = detail.spec.entry
  const entryText =
    entry.kind === 'command' ? entry.command : entry.kind === 'module' ? `-m ${entry.module}` : entry.path
  const args = 'args' in entry && entry.args ? ` ${entry.args.join(' ')}` : ''

  return (
    <section className="job-detail" aria-label={`Job ${detail.name}`}>
      <header className="job-detail-head">
        <h2 className="job-title">{detail.name}</h2>
        <StateBadge state={detail.state} />
        {detail.exitCode !== null && <span className="muted">exit code {detail.exitCode}</span>}
        <span className="spacer" />
        <button type="button" className="btn small" disabled={!active || !!busy} onClick={() => setConfirm(true)}>
          Cancel job
        </button>
        <button type="button" className="btn small" onClick={() => openSubmit({ spec: { ...detail.spec, name: cloneName(detail.spec.name) } })}>
          Clone and edit
        </button>
        <button type="button" className="btn small" disabled={!!busy} onClick={() => void resubmit(detail.id)}>
          Resubmit
        </button>
        {detail.runId && detail.experimentId && (
          <button type="button" className="btn small ghost" onClick={() => void openInExperiments(detail.experimentId!, detail.runId!)}>
            Open in Experiments
          </button>
        )}
      </header>
      {detail.reason && (
        <p className={`job-reason ${detail.state === 'failed' || detail.state === 'lost' ? 'bad' : ''}`}>
          <span className="muted">Reason:</span> {detail.reason}
        </p>
      )}
      {actionError && (
        <div role="alert" className="error-box small">
          {actionError}
        </div>
      )}
      <div className="job-detail-body">
        <div className="job-overview">
          <dl className="job-facts">
            <dt>Target</dt>
            <dd>
              {detail.targetName} <span className="muted">({detail.backend})</span>
            </dd>
            <dt>Remote id</dt>
            <dd className="mono">{detail.remoteId ?? '—'}</dd>
            <dt>Entry</dt>
            <dd className="mono job-ellipsis" title={entryText + args}>
              {entry.kind} {entryText}
              {args}
            </dd>
            <dt>Submitted</dt>
            <dd>{formatTimestamp(detail.submittedAt)}</dd>
            <dt>Started</dt>
            <dd>{formatTimestamp(detail.startedAt)}</dd>
            <dt>Ended</dt>
            <dd>{formatTimestamp(detail.endedAt)}</dd>
            <dt>Duration</dt>
            <dd className="mono">{formatDuration(jobDurationMs(detail, now))}</dd>
            <dt>Work dir</dt>
            <dd className="mono job-ellipsis" title={detail.workDir ?? ''}>
              {detail.workDir ?? '—'}
            </dd>
          </dl>
          <KeyValueTable className="job-kv" title="Hyperparameters" entries={Object.entries(detail.hyperparameters).map(([k, v]) => [k, formatHp(v)])} />
          <KeyValueTable
            className="job-kv"
            title="Resources"
            entries={[
              ['CPUs', r.cpus],
              ['Memory (MB)', r.memoryMb],
              ['GPUs', r.gpus],
              ['Time limit (min)', r.timeLimitMin],
              ['Partition', r.partition],
              ['Nodes', r.nodes]
            ]
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => [String(k), String(v)])}
          />
          <details className="job-script">
            <summary>Generated script</summary>
            <pre className="mono" tabIndex={0} aria-label="Generated script">
              {detail.script ?? 'Not generated yet.'}
            </pre>
          </details>
        </div>
        <div className="job-charts">
          {detail.tracking && (
            <p className="job-tracking-note" role="note" aria-label="How metrics arrive">
              {detail.tracking.message}
            </p>
          )}
          <JobMetrics detail={detail} />
        </div>
      </div>
      <LogPane jobId={detail.id} active={active} />
      {confirm && <ConfirmCancel name={detail.name} onConfirm={() => void cancelJob(detail.id)} onClose={() => setConfirm(false)} />}
    </section>
  )
}
