import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { FieldError, JobSpec } from '../../../../shared/jobs'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { ProgressBar } from '../../components/ProgressBar'
import { toUiError, type UiError } from '../../lib/errors'
import { emptyForm, errorsUnder, formToSpec, formToSweep, gridSize, specToForm, targetFromValue, type JobForm } from './form'
import { KubernetesFields, SageMakerFields } from './CloudFields'
import { BasicsFields, fieldLabel, TrainingFields, type FormBinding } from './JobFormFields'
import { SweepFields } from './SweepFields'
import { useJobsStore, type SubmitDraft } from './useJobsStore'

function initialForm(draft: SubmitDraft): JobForm {
  if (!draft.spec) return emptyForm()
  const base: JobSpec = { name: '', target: { kind: 'local' }, entry: { kind: 'script', path: '' } }
  return specToForm({ ...base, ...draft.spec } as JobSpec, draft.sweep)
}

/** Strings from an error's details worth showing verbatim (sbatch's rejection, ssh's stderr…). */
function verbatim(err: UiError): string | null {
  const d = err.details ?? {}
  for (const k of ['stderr', 'output', 'sbatch', 'detail']) {
    const v = d[k]
    if (typeof v === 'string' && v.trim() && !err.message.includes(v.trim())) return v.trim()
  }
  return null
}

/** The "Submit job" dialog: a job spec (and optionally a sweep), validated as it is typed. */
export function SubmitDialog({ draft }: { draft: SubmitDraft }) {
  const targets = useJobsStore((s) => s.targets)
  const close = useJobsStore((s) => s.closeSubmit)
  const submitted = useJobsStore((s) => s.submitted)
  const submitFailed = useJobsStore((s) => s.submitFailed)
  const slurmHere = useJobsStore((s) => s.slurmHere)
  const showTargets = useJobsStore((s) => s.showTargets)
  const [form, setForm] = useState<JobForm>(() => initialForm(draft))
  // a prefilled (cloned) form shows its problems at once; a fresh one as fields are left
  const [touched, setTouched] = useState<Set<string> | 'all'>(() => (draft.spec?.name ? 'all' : new Set()))
  const [server, setServer] = useState<{ key: string; errors: FieldError[] } | null>(null)
  const [checking, setChecking] = useState(false)
  const [submitting, setSubmitting] = useState(false)
  const [submitError, setSubmitError] = useState<UiError | null>(null)
  const alertRef = useRef<HTMLDivElement>(null)

  const local = useMemo(() => formToSpec(form, targets), [form, targets])
  const cloudKind = targetFromValue(form.target, targets)?.kind
  const sweepOut = useMemo(() => (form.sweep.enabled ? formToSweep(form.sweep) : null), [form.sweep])
  const specKey = local.spec ? JSON.stringify(local.spec) : null

  // the service checks meaning (paths, partitions, GPUs on the target), debounced
  useEffect(() => {
    if (!specKey) return
    let alive = true
    const t = setTimeout(() => {
      setChecking(true)
      call('jobs.validate', { spec: JSON.parse(specKey) as JobSpec }).then(
        (r) => alive && (setServer({ key: specKey, errors: r.fieldErrors }), setChecking(false)),
        () => alive && (setServer({ key: specKey, errors: [] }), setChecking(false))
      )
    }, 350)
    return () => {
      alive = false
      clearTimeout(t)
    }
  }, [specKey])

  const errors = useMemo(() => {
    const all = [...local.errors, ...(sweepOut?.errors ?? [])]
    if (server && server.key === specKey) all.push(...server.errors)
    return all
  }, [local.errors, sweepOut, server, specKey])

  const shown = useCallback(
    (field: string) => {
      const errs = errorsUnder(errors, field)
      if (touched === 'all') return errs
      return errs.filter((e) => [...touched].some((t) => e.field === t || e.field.startsWith(t + '.') || t.startsWith(e.field + '.') || t === e.field))
    },
    [errors, touched]
  )
  const touch = useCallback((field: string) => setTouched((t) => (t === 'all' || t.has(field) ? t : new Set(t).add(field))), [])
  const patch = useCallback((p: Partial<JobForm>) => setForm((f) => ({ ...f, ...p })), [])
  const b: FormBinding = { form, patch, errorsFor: shown, touch }

  const valid = errors.length === 0 && !!local.spec && (!form.sweep.enabled || !!sweepOut?.sweep)
  const trials = sweepOut?.sweep ? (sweepOut.sweep.strategy === 'grid' ? gridSize(sweepOut.sweep) : (sweepOut.sweep.maxTrials ?? null)) : null

  const submit = async () => {
    if (!valid || submitting || !local.spec) {
      setTouched('all')
      return
    }
    setSubmitting(true)
    setSubmitError(null)
    try {
      if (form.sweep.enabled && sweepOut?.sweep) {
        const sweep = await call('jobs.sweeps.submit', { spec: local.spec, sweep: sweepOut.sweep })
        submitted(null, sweep)
      } else {
        const job = await call('jobs.submit', { spec: local.spec })
        submitted(job, null)
      }
    } catch (e) {
      const err = toUiError(e)
      // the job was created and failed at submission: it exists, as failed, so show it (one outcome)
      if (typeof err.details?.jobId === 'string' && local.spec) {
        submitFailed(err.details.jobId, local.spec.name, err.message)
        return
      }
      const fe = err.details?.fieldErrors
      if (Array.isArray(fe) && fe.length > 0) {
        setServer({ key: specKey ?? '', errors: fe as FieldError[] })
        setTouched('all')
      }
      setSubmitError(err)
      setSubmitting(false)
      requestAnimationFrame(() => alertRef.current?.scrollIntoView({ block: 'nearest' }))
    }
  }

  const problems = errors.length
  const extra = submitError ? verbatim(submitError) : null

  return (
    <Dialog title="Submit job" onClose={() => !submitting && close()} className="wide job-dialog">
      <form
        className="dialog-body form"
        aria-busy={submitting}
        noValidate
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <BasicsFields b={b} targets={targets} slurmHere={slurmHere} onManageTargets={() => showTargets(true)} />
        {cloudKind === 'sagemaker' && <SageMakerFields b={b} spec={local.spec} />}
        {cloudKind === 'kubernetes' && <KubernetesFields b={b} />}
        <TrainingFields b={b} cloud={cloudKind === 'sagemaker'} />
        <SweepFields
          sweep={form.sweep}
          onChange={(sweep) => patch({ sweep })}
          errorsFor={shown}
          touch={touch}
          metricNames={form.metricDefinitions.map((m) => m.name.trim()).filter(Boolean)}
          trials={trials}
        />
        {submitError && (
          <div role="alert" className="error-box job-submit-error" ref={alertRef}>
            <strong>{submitError.code === 'CLIENT' ? 'Not submitted' : `Not submitted (${submitError.code})`}:</strong> {submitError.message}
            {extra && <pre className="mono job-verbatim">{extra}</pre>}
          </div>
        )}
        <div className="dialog-foot job-foot">
          {submitting ? (
            <ProgressBar label={form.sweep.enabled ? 'Submitting sweep' : 'Submitting job'} percent={null} className="job-progress" />
          ) : (
            <p className="muted job-problems" role="status">
              {problems > 0
                ? `${problems} problem${problems === 1 ? '' : 's'} to fix: ${[...new Set(errors.map((e) => `${fieldLabel(e.field)} – ${e.message}`))].slice(0, 3).join('; ')}`
                : checking
                  ? 'Checking…'
                  : ''}
            </p>
          )}
          <button type="button" className="btn" onClick={close} disabled={submitting}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={!valid || submitting} aria-busy={submitting}>
            {submitting ? 'Submitting…' : 'Submit'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
