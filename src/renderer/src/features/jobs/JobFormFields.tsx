import type { InputHTMLAttributes } from 'react'
import type { FieldError, JobTarget, TargetAvailability } from '../../../../shared/jobs'
import { isSlurmTarget, type EntryKind, type JobForm, type KeyValueRow, type MetricRow } from './form'
import { RowsField } from './RowsField'
import { FormField } from './widgets'

export interface FormBinding {
  form: JobForm
  patch(p: Partial<JobForm>): void
  /** Visible errors of a field and everything under it. */
  errorsFor(field: string): FieldError[]
  touch(field: string): void
}

export const ENTRY_LABEL: Record<EntryKind, string> = { script: 'Script path', module: 'Module', command: 'Command', notebook: 'Notebook path' }
/** Examples, worded as examples (a placeholder must never pass for a value). */
const ENTRY_PLACEHOLDER: Record<EntryKind, string> = { script: 'e.g. train.py', module: 'e.g. package.train', command: 'e.g. python train.py --epochs 3', notebook: 'e.g. analysis.ipynb' }

/** Labels of the spec's fields, for the problem summary next to Submit. */
export const FIELD_LABELS: [string, string][] = [
  ['name', 'Name'],
  ['target', 'Target'],
  ['entry', 'Entry'],
  ['sourceDir', 'Source directory'],
  ['env.python', 'Python'],
  ['env.vars', 'Environment variables'],
  ['env.modules', 'Modules'],
  ['env', 'Environment'],
  ['hyperparameters', 'Hyperparameters'],
  ['resources.cpus', 'CPUs'],
  ['resources.memoryMb', 'Memory'],
  ['resources.gpus', 'GPUs'],
  ['resources.timeLimitMin', 'Time limit'],
  ['resources.partition', 'Partition'],
  ['resources.nodes', 'Nodes'],
  ['resources', 'Resources'],
  ['metricDefinitions', 'Metric definitions'],
  ['experimentName', 'Experiment'],
  ['sagemaker.instanceType', 'Instance type'],
  ['sagemaker.instanceCount', 'Instance count'],
  ['sagemaker.imageUri', 'Image URI'],
  ['sagemaker.volumeSizeGb', 'Volume'],
  ['sagemaker.maxRuntimeSec', 'Max runtime'],
  ['sagemaker.spot', 'Max wait'],
  ['sagemaker', 'SageMaker'],
  ['kubernetes.image', 'Container image'],
  ['kubernetes.workers', 'Workers'],
  ['kubernetes', 'Kubernetes'],
  ['sweep.space', 'Sweep space'],
  ['sweep.maxTrials', 'Max trials'],
  ['sweep.concurrency', 'Concurrency'],
  ['sweep', 'Sweep']
]
export function fieldLabel(field: string): string {
  return FIELD_LABELS.find(([f]) => field === f || field.startsWith(f + '.'))?.[1] ?? field
}

function TextInput({ value, onChange, ...rest }: { value: string; onChange(v: string): void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  return <input type="text" autoComplete="off" spellCheck={false} value={value} onChange={(e) => onChange(e.target.value)} {...rest} />
}

export function TargetOptions({ targets, slurmHere }: { targets: JobTarget[]; slurmHere?: TargetAvailability | null }) {
  const noSlurm = slurmHere && !slurmHere.ok
  return (
    <>
      <option value="local">Local (this computer)</option>
      <option value="slurm-local" title={noSlurm ? slurmHere.message : undefined}>
        {noSlurm ? 'Slurm on this machine — not available here' : 'Slurm on this machine'}
      </option>
      {targets.map((t) => (
        <option key={t.id} value={`target:${t.id}`}>
          {t.name} ({t.kind === 'ssh' ? 'SSH host' : t.kind === 'sagemaker' ? `SageMaker, ${t.sagemaker?.region ?? ''}` : t.kind === 'kubernetes' ? 'Kubernetes' : t.ssh ? `Slurm via ${t.ssh.host}` : 'Slurm'})
        </option>
      ))}
    </>
  )
}

/** Name, target, entry point and environment. */
export function BasicsFields({ b, targets, slurmHere, onManageTargets }: { b: FormBinding; targets: JobTarget[]; slurmHere?: TargetAvailability | null; onManageTargets(): void }) {
  const { form, patch, errorsFor, touch } = b
  const argsApply = form.entryKind === 'script' || form.entryKind === 'module'
  return (
    <div className="job-grid">
      <FormField label="Name" errors={errorsFor('name')} onLeave={() => touch('name')}>
        <TextInput value={form.name} onChange={(name) => patch({ name })} placeholder="e.g. train-resnet" autoFocus />
      </FormField>
      <div className="job-target">
        <FormField label="Target" errors={errorsFor('target')} onLeave={() => touch('target')} className="grow">
          <select value={form.target} onChange={(e) => patch({ target: e.target.value })}>
            <TargetOptions targets={targets} slurmHere={slurmHere} />
          </select>
        </FormField>
        <button type="button" className="btn small ghost" onClick={onManageTargets}>
          Manage targets
        </button>
      </div>
      <FormField label="Entry kind" errors={[]}>
        <select value={form.entryKind} onChange={(e) => patch({ entryKind: e.target.value as EntryKind })}>
          <option value="script">Python script</option>
          <option value="module">Python module</option>
          <option value="command">Shell command</option>
          <option value="notebook">Notebook (converted to a script)</option>
        </select>
      </FormField>
      <FormField label={ENTRY_LABEL[form.entryKind]} errors={errorsFor('entry')} onLeave={() => touch('entry')}>
        <TextInput className="mono" value={form.entryValue} onChange={(entryValue) => patch({ entryValue })} placeholder={ENTRY_PLACEHOLDER[form.entryKind]} />
      </FormField>
      {argsApply && (
        <FormField label="Arguments" errors={errorsFor('entry.args')} className="span2" hint="Quoted like a shell: --epochs 3 --name 'my run'">
          <TextInput className="mono" value={form.args} onChange={(args) => patch({ args })} />
        </FormField>
      )}
      <FormField label="Source directory" errors={errorsFor('sourceDir')} onLeave={() => touch('sourceDir')} hint="Packaged and synced, honouring .gitignore. Empty: the workspace.">
        <TextInput className="mono" value={form.sourceDir} onChange={(sourceDir) => patch({ sourceDir })} />
      </FormField>
      <FormField label="Python" errors={errorsFor('env.python')} onLeave={() => touch('env.python')} hint="Interpreter on the target. Empty: the selected interpreter here, python3 elsewhere.">
        <TextInput className="mono" value={form.python} onChange={(python) => patch({ python })} placeholder="e.g. /opt/venv/bin/python" />
      </FormField>
      <FormField label="Experiment" errors={errorsFor('experimentName')} onLeave={() => touch('experimentName')}>
        <TextInput value={form.experimentName} onChange={(experimentName) => patch({ experimentName })} />
      </FormField>
      <FormField label="Modules (Slurm)" errors={errorsFor('env.modules')} onLeave={() => touch('env.modules')} hint={isSlurmTarget(form.target, targets) ? '`module load` lines, comma-separated' : 'Used on Slurm targets only'}>
        <TextInput className="mono" value={form.modules} onChange={(modules) => patch({ modules })} placeholder="e.g. cuda/12.1, gcc" />
      </FormField>
      <div className="span2">
        <RowsField<KeyValueRow>
          legend="Environment variables"
          addLabel="Add environment variable"
          noun="environment variable"
          rows={form.envVars}
          columns={[
            { key: 'key', label: 'Variable name', placeholder: 'e.g. NAME', className: 'job-key' },
            { key: 'value', label: 'Variable value', placeholder: 'e.g. 1' }
          ]}
          blank={() => ({ key: '', value: '' })}
          onChange={(envVars) => patch({ envVars })}
          errors={errorsFor('env.vars')}
          invalid={(r) => errorsFor('env.vars').some((e) => e.field === 'env.vars' || e.field === `env.vars.${r.key.trim()}`)}
          onLeave={() => touch('env.vars')}
        />
      </div>
    </div>
  )
}

/** Hyperparameters, resources and metric definitions. */
export function TrainingFields({ b, cloud }: { b: FormBinding; cloud?: boolean }) {
  const { form, patch, errorsFor, touch } = b
  const num = (label: string, field: string, key: 'cpus' | 'memoryMb' | 'gpus' | 'timeLimitMin' | 'nodes') => (
    <FormField label={label} errors={errorsFor(field)} onLeave={() => touch(field)}>
      <TextInput inputMode="numeric" value={form[key]} onChange={(v) => patch({ [key]: v })} />
    </FormField>
  )
  return (
    <>
      <RowsField<KeyValueRow>
        legend="Hyperparameters"
        addLabel="Add hyperparameter"
        noun="hyperparameter"
        rows={form.hyperparameters}
        columns={[
          { key: 'key', label: 'Hyperparameter name', placeholder: 'e.g. lr', className: 'job-key' },
          { key: 'value', label: 'Hyperparameter value', placeholder: 'e.g. 0.01' }
        ]}
        blank={() => ({ key: '', value: '' })}
        onChange={(hyperparameters) => patch({ hyperparameters })}
        errors={errorsFor('hyperparameters')}
        invalid={(r) => errorsFor('hyperparameters').some((e) => e.field === 'hyperparameters' || e.field === `hyperparameters.${r.key.trim()}`)}
        onLeave={() => touch('hyperparameters')}
      />
      {!cloud && (
      <fieldset className="job-rows">
        <legend>Resources</legend>
        <div className="job-grid job-grid-3">
          {num('CPUs', 'resources.cpus', 'cpus')}
          {num('Memory (MB)', 'resources.memoryMb', 'memoryMb')}
          {num('GPUs', 'resources.gpus', 'gpus')}
          {num('Time limit (min)', 'resources.timeLimitMin', 'timeLimitMin')}
          <FormField label="Partition" errors={errorsFor('resources.partition')} onLeave={() => touch('resources.partition')}>
            <TextInput value={form.partition} onChange={(partition) => patch({ partition })} />
          </FormField>
          {num('Nodes', 'resources.nodes', 'nodes')}
        </div>
        <p className="field-hint job-res-hint">Left empty, CPUs, memory, time limit and partition are the target's defaults (on this computer: no limit).</p>
        {errorsFor('resources').filter((e) => e.field === 'resources' || e.field === 'resources.torchrun').length > 0 && (
          <span className="field-error">{errorsFor('resources').filter((e) => e.field === 'resources' || e.field === 'resources.torchrun').map((e) => e.message).join('; ')}</span>
        )}
      </fieldset>
      )}
      <RowsField<MetricRow>
        legend="Metric definitions"
        addLabel="Add metric definition"
        noun="metric definition"
        rows={form.metricDefinitions}
        columns={[
          { key: 'name', label: 'Metric name', placeholder: 'e.g. loss', className: 'job-key' },
          { key: 'regex', label: 'Metric regex', placeholder: 'e.g. loss=([0-9.eE+-]+)' }
        ]}
        blank={() => ({ name: '', regex: '' })}
        onChange={(metricDefinitions) => patch({ metricDefinitions })}
        errors={errorsFor('metricDefinitions')}
        invalid={(_, i, col) => errorsFor('metricDefinitions').some((e) => e.field === `metricDefinitions.${i}.${col}` || e.field === `metricDefinitions.${i}`)}
        onLeave={() => touch('metricDefinitions')}
      />
    </>
  )
}
