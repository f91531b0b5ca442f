/** Job form fields for SageMaker (instances, image, limits, spot, cost estimate) and Kubernetes (image, PyTorchJob size) targets. */
import { useEffect, useState, type InputHTMLAttributes } from 'react'
import type { CostEstimate, JobSpec } from '../../../../shared/jobs'
import { call } from '../../api/client'
import type { KubernetesForm, SageMakerForm } from './form'
import type { FormBinding } from './JobFormFields'
import { FormField } from './widgets'

/** A text input; FormField's label, aria-invalid and aria-describedby pass through. */
function Text({ value, onChange, mono, ...rest }: { value: string; onChange(v: string): void; mono?: boolean } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  return <input type="text" className={mono ? 'mono' : undefined} autoComplete="off" spellCheck={false} value={value} onChange={(e) => onChange(e.target.value)} {...rest} />
}

export function SageMakerFields({ b, spec }: { b: FormBinding; spec: JobSpec | null }) {
  const { form, patch, errorsFor, touch } = b
  const sm = form.sagemaker
  const set = (p: Partial<SageMakerForm>) => patch({ sagemaker: { ...sm, ...p } })
  const field = (label: string, f: string, key: keyof SageMakerForm, hint?: string) => (
    <FormField label={label} errors={errorsFor(f)} onLeave={() => touch(f)} hint={hint}>
      <Text value={String(sm[key])} onChange={(v) => set({ [key]: v })} />
    </FormField>
  )
  const [cost, setCost] = useState<CostEstimate | null>(null)
  const key = spec?.sagemaker ? JSON.stringify(spec) : null
  useEffect(() => {
    if (!key) return setCost(null)
    let alive = true
    const t = setTimeout(() => {
      call('jobs.estimateCost', { spec: JSON.parse(key) as JobSpec }).then(
        (c) => alive && setCost(c),
        () => alive && setCost(null)
      )
    }, 250)
    return () => {
      alive = false
      clearTimeout(t)
    }
  }, [key])
  return (
    <fieldset className="job-rows" aria-label="SageMaker">
      <legend>SageMaker</legend>
      <div className="job-grid job-grid-3">
        {field('Instance type', 'sagemaker.instanceType', 'instanceType')}
        {field('Instance count', 'sagemaker.instanceCount', 'instanceCount')}
        <FormField label="Image" errors={[]}>
          <select value={sm.framework} onChange={(e) => set({ framework: e.target.value as SageMakerForm['framework'] })}>
            <option value="sklearn">scikit-learn framework image</option>
            <option value="pytorch">PyTorch framework image</option>
            <option value="xgboost">XGBoost framework image</option>
            <option value="custom">Custom image URI</option>
          </select>
        </FormField>
        {sm.framework === 'custom' && (
          <FormField label="Image URI" errors={errorsFor('sagemaker.imageUri')} onLeave={() => touch('sagemaker.imageUri')} className="span2">
            <Text mono value={sm.imageUri} onChange={(imageUri) => set({ imageUri })} />
          </FormField>
        )}
        {field('Volume (GB)', 'sagemaker.volumeSizeGb', 'volumeSizeGb')}
        {field('Max runtime (min)', 'sagemaker.maxRuntimeSec', 'maxRuntimeMin')}
        <label className="check">
          <input type="checkbox" checked={sm.spot} onChange={(e) => set({ spot: e.target.checked })} /> Managed spot training
        </label>
        {sm.spot && field('Max wait (min)', 'sagemaker.spot.maxWaitSec', 'maxWaitMin', 'Runtime plus waiting for spot capacity.')}
      </div>
      <p className="field-hint" role="status" aria-label="Cost estimate">
        {cost
          ? cost.maxCost === null
            ? `${cost.instanceType} is not in the price table: no estimate.`
            : `At most ${cost.maxCost.toFixed(2)} ${cost.currency} (${cost.instanceCount} × ${cost.instanceType} at ${cost.pricePerHour} ${cost.currency}/h for ${cost.hours} h, on-demand${sm.spot ? '; spot is cheaper' : ''}).`
          : 'Cost estimate: complete the job to see it.'}
      </p>
    </fieldset>
  )
}

export function KubernetesFields({ b }: { b: FormBinding }) {
  const { form, patch, errorsFor, touch } = b
  const k = form.kubernetes
  const set = (p: Partial<KubernetesForm>) => patch({ kubernetes: { ...k, ...p } })
  return (
    <fieldset className="job-rows" aria-label="Kubernetes">
      <legend>Kubernetes</legend>
      <div className="job-grid job-grid-3">
        <FormField label="Container image" errors={errorsFor('kubernetes.image')} onLeave={() => touch('kubernetes.image')} className="span2">
          <Text mono value={k.image} onChange={(image) => set({ image })} />
        </FormField>
        <FormField label="Workers" errors={errorsFor('kubernetes.workers')} onLeave={() => touch('kubernetes.workers')} hint="More than 0: a PyTorchJob (a master and this many workers).">
          <Text value={k.workers} onChange={(workers) => set({ workers })} />
        </FormField>
        {Number(k.workers) > 0 && (
          <FormField label="Processes per node" errors={errorsFor('resources.torchrun')} onLeave={() => touch('resources.torchrun')} hint="torchrun --nproc-per-node; empty: the GPU count, else 1.">
            <Text value={k.nprocPerNode} onChange={(nprocPerNode) => set({ nprocPerNode })} />
          </FormField>
        )}
      </div>
      <p className="field-hint">CPUs, memory and GPUs below are each pod's requests and limits.</p>
    </fieldset>
  )
}
