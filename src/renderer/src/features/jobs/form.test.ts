import { describe, expect, it } from 'vitest'
import type { JobSpec, JobTarget } from '../../../../shared/jobs'
import { cloneName, emptyForm, resubmitName, notebookEntry, emptySpaceRow, errorsUnder, formToSpec, formToSweep, gridSize, joinArgs, parseValue, specToForm, splitArgs } from './form'

const targets: JobTarget[] = [
  { id: 't1', name: 'gpu-box', kind: 'ssh', ssh: { host: 'h', port: 22, username: 'u', hasPassphrase: false }, workRoot: '~/.atelier/jobs', partition: null, tracking: 'direct' },
  { id: 't2', name: 'cluster', kind: 'slurm', ssh: null, workRoot: '~/.atelier/jobs', partition: 'debug', tracking: 'file' }
]

describe('job form', () => {
  it('splits and joins arguments like a shell', () => {
    expect(splitArgs(`--lr 0.1 --name "my run" --x 'a b' ""`)).toEqual(['--lr', '0.1', '--name', 'my run', '--x', 'a b', ''])
    expect(splitArgs('  ')).toEqual([])
    expect(splitArgs('a\\ b c')).toEqual(['a b', 'c'])
    const args = ['--lr', '0.1', 'it\'s', 'a b', '']
    expect(splitArgs(joinArgs(args))).toEqual(args)
  })

  it('types hyperparameter values', () => {
    expect(parseValue('0.01')).toBe(0.01)
    expect(parseValue('1e-3')).toBe(0.001)
    expect(parseValue('true')).toBe(true)
    expect(parseValue('adam')).toBe('adam')
    expect(parseValue('1.2.3')).toBe('1.2.3')
  })

  it('builds a full spec from the form and back', () => {
    const f = emptyForm()
    Object.assign(f, {
      name: 'train-1',
      target: 'slurm-local',
      entryValue: 'train.py',
      args: '--epochs 3',
      python: '/usr/bin/python3',
      envVars: [{ key: 'A', value: '1' }, { key: '', value: '' }],
      modules: 'cuda/12.1, gcc',
      hyperparameters: [{ key: 'lr', value: '0.1' }, { key: 'opt', value: 'adam' }],
      cpus: '2',
      memoryMb: '512',
      timeLimitMin: '5',
      partition: 'debug',
      metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
      experimentName: 'E'
    })
    const { spec, errors } = formToSpec(f, targets)
    expect(errors).toEqual([])
    expect(spec).toEqual({
      name: 'train-1',
      target: { kind: 'slurm' },
      entry: { kind: 'script', path: 'train.py', args: ['--epochs', '3'] },
      env: { python: '/usr/bin/python3', vars: { A: '1' }, modules: ['cuda/12.1', 'gcc'] },
      hyperparameters: { lr: 0.1, opt: 'adam' },
      resources: { cpus: 2, memoryMb: 512, gpus: 0, timeLimitMin: 5, partition: 'debug', nodes: 1 },
      metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
      experimentName: 'E'
    })
    const back = specToForm(spec!)
    expect(formToSpec(back, targets).spec).toEqual(spec)
  })

  it('maps saved targets by kind', () => {
    const f = { ...emptyForm(), name: 'a', entryValue: 'x.py', target: 'target:t1' }
    expect(formToSpec(f, targets).spec!.target).toEqual({ kind: 'ssh', targetId: 't1' })
    expect(formToSpec({ ...f, target: 'target:t2' }, targets).spec!.target).toEqual({ kind: 'slurm', targetId: 't2' })
    expect(formToSpec({ ...f, target: 'target:gone' }, targets).errors).toContainEqual({ field: 'target', message: 'choose where the job runs' })
  })

  it('reports field-level errors and builds no spec', () => {
    const f = { ...emptyForm(), name: 'bad/name', cpus: 'two', gpus: '1.5', hyperparameters: [{ key: 'lr', value: '1' }, { key: 'lr', value: '2' }] }
    f.metricDefinitions = [{ name: 'loss', regex: 'loss=[0-9.]+' }, { name: '', regex: '(' }]
    const { spec, errors } = formToSpec(f, targets)
    expect(spec).toBeNull()
    const fields = errors.map((e) => e.field)
    expect(fields).toEqual(expect.arrayContaining(['entry', 'resources.cpus', 'resources.gpus', 'hyperparameters.lr', 'metricDefinitions.0.regex', 'metricDefinitions.1.name', 'metricDefinitions.1.regex', 'name']))
    expect(errors.find((e) => e.field === 'resources.cpus')!.message).toBe('CPUs must be a whole number')
    expect(errors.find((e) => e.field === 'metricDefinitions.0.regex')!.message).toMatch(/capture group/)
    expect(errors.find((e) => e.field === 'name')!.message).toMatch(/letters, digits/)
    expect(errorsUnder(errors, 'metricDefinitions').length).toBe(3)
    expect(errorsUnder(errors, 'resources.cpus').length).toBe(1)
  })

  it('reports an env var name the contract refuses', () => {
    const f = { ...emptyForm(), name: 'a', entryValue: 'x.py', envVars: [{ key: '1BAD', value: 'x' }] }
    const { spec, errors } = formToSpec(f, targets)
    expect(spec).toBeNull()
    expect(errors.some((e) => e.field.startsWith('env.vars'))).toBe(true)
  })

  it('builds a sweep config with clear errors', () => {
    const sweep = { ...emptyForm().sweep, enabled: true, space: [{ ...emptySpaceRow(), name: 'lr', values: '0.1, 0.01' }, { ...emptySpaceRow(), name: 'bs', values: '16,32,64' }], concurrency: '2', objectiveMetric: 'loss' }
    const r = formToSweep(sweep)
    expect(r.errors).toEqual([])
    expect(r.sweep).toEqual({ strategy: 'grid', space: { lr: { values: [0.1, 0.01] }, bs: { values: [16, 32, 64] } }, concurrency: 2, objective: { metric: 'loss', goal: 'minimize' } })
    expect(gridSize(r.sweep!)).toBe(6)
    expect(gridSize({ ...r.sweep!, maxTrials: 4 })).toBe(4)

    expect(formToSweep({ ...sweep, space: [] }).errors).toEqual([{ field: 'sweep.space', message: 'add at least one hyperparameter to sweep over' }])
    const range = { ...emptySpaceRow(), name: 'lr', mode: 'range' as const, min: '0.001', max: '0.1', log: true }
    expect(formToSweep({ ...sweep, space: [range] }).errors[0].message).toMatch(/grid needs a list/)
    expect(formToSweep({ ...sweep, strategy: 'random', space: [range] }).errors).toEqual([{ field: 'sweep.maxTrials', message: 'random search needs a number of trials' }])
    const ok = formToSweep({ ...sweep, strategy: 'random', space: [range], maxTrials: '8' })
    expect(ok.sweep!.space.lr).toEqual({ min: 0.001, max: 0.1, log: true })
    expect(formToSweep({ ...sweep, strategy: 'random', space: [{ ...range, max: '0.0001' }], maxTrials: '8' }).errors[0].message).toMatch(/greater than min/)
    expect(formToSweep({ ...sweep, concurrency: '0' }).errors).toEqual([{ field: 'sweep.concurrency', message: 'Concurrency must be a whole number ≥ 1' }])
  })

  it('round-trips a sweep through the form', () => {
    const spec: JobSpec = { name: 's', target: { kind: 'local' }, entry: { kind: 'command', command: 'echo hi' } }
    const sweep = { strategy: 'random' as const, space: { lr: { min: 0.001, max: 0.1, log: true } }, maxTrials: 5, objective: { metric: 'acc', goal: 'maximize' as const } }
    const f = specToForm(spec, sweep)
    expect(f.sweep.enabled).toBe(true)
    expect(formToSweep(f.sweep).sweep).toEqual(sweep)
    // the defaults the form shows come back as values
    expect(formToSpec(f, []).spec).toEqual({ ...spec, resources: { gpus: 0, nodes: 1 }, experimentName: 'Jobs' })
  })

  it('names clones', () => {
    expect(cloneName('train')).toBe('train-copy')
    expect(cloneName('train-copy')).toBe('train-copy2')
    expect(cloneName('train-copy2')).toBe('train-copy3')
  })

  it('turns the open notebook into a job entry', () => {
    expect(notebookEntry('/ws/nb/My Analysis (v2).ipynb', '/ws')).toEqual({ name: 'My Analysis -v2-', entry: { kind: 'notebook', path: 'nb/My Analysis (v2).ipynb' } })
    expect(notebookEntry('/elsewhere/a.ipynb', '/ws/')).toEqual({ name: 'a', entry: { kind: 'notebook', path: 'a.ipynb' }, sourceDir: '/elsewhere' })
    expect(notebookEntry('rel/b.ipynb', null)).toEqual({ name: 'b', entry: { kind: 'notebook', path: 'rel/b.ipynb' } })
    expect(notebookEntry('C:\\ws\\c.ipynb', 'C:\\ws').entry).toEqual({ kind: 'notebook', path: 'c.ipynb' })
  })

  it('sends the defaults it shows: no GPUs, one node, the Jobs experiment; leaves limits to the target', () => {
    const f = { ...emptyForm(), name: 'a', entryValue: 'x.py' }
    expect([f.gpus, f.nodes, f.experimentName, f.cpus, f.memoryMb, f.timeLimitMin, f.partition]).toEqual(['0', '1', 'Jobs', '', '', '', ''])
    expect(formToSpec(f, targets).spec).toEqual({
      name: 'a',
      target: { kind: 'local' },
      entry: { kind: 'script', path: 'x.py' },
      resources: { gpus: 0, nodes: 1 },
      experimentName: 'Jobs'
    })
    // a spec without them (an older job, cloned) gets the same defaults back
    expect(specToForm({ name: 'a', target: { kind: 'local' }, entry: { kind: 'script', path: 'x.py' } })).toMatchObject({ gpus: '0', nodes: '1', experimentName: 'Jobs' })
  })

  it('numbers a resubmitted job instead of repeating its name', () => {
    expect(resubmitName('train', ['train'])).toBe('train-2')
    expect(resubmitName('train', ['train', 'train-2'])).toBe('train-3')
    expect(resubmitName('train-2', ['train', 'train-2'])).toBe('train-3')
    expect(resubmitName('train', ['train', 'train-2', 'train-7', 'other-9'])).toBe('train-8')
    // a name that merely ends in a number is not a resubmission
    expect(resubmitName('resnet-50', ['resnet-50'])).toBe('resnet-50-2')
    expect(resubmitName('a.b (x)', ['a.b (x)', 'a.b (x)-2'])).toBe('a.b (x)-3')
    expect(resubmitName('x'.repeat(120), ['x'.repeat(120)])).toHaveLength(120)
  })

  it('builds the SageMaker and Kubernetes parts of a spec for such targets, and back', () => {
    const cloud: JobTarget[] = [
      { id: 'sm', name: 'SM', kind: 'sagemaker', ssh: null, workRoot: '', partition: null, tracking: 'direct', sagemaker: { region: 'eu-west-1', roleArn: 'arn', bucket: 'b', hasKeys: false } },
      { id: 'k', name: 'K', kind: 'kubernetes', ssh: null, workRoot: '', partition: null, tracking: 'direct', kubernetes: { namespace: 'ml' } }
    ]
    const f = emptyForm()
    Object.assign(f, { name: 'sm-job', target: 'target:sm', entryValue: 'train.py' })
    f.sagemaker = { ...f.sagemaker, instanceType: 'ml.g5.xlarge', instanceCount: '2', framework: 'pytorch', maxRuntimeMin: '120', spot: true, maxWaitMin: '60' }
    expect(formToSpec(f, cloud).errors).toEqual([{ field: 'sagemaker.spot.maxWaitSec', message: 'the max wait must be at least the max runtime' }])
    f.sagemaker.maxWaitMin = '180'
    const { spec } = formToSpec(f, cloud)
    expect(spec?.target).toEqual({ kind: 'sagemaker', targetId: 'sm' })
    expect(spec?.resources).toBeUndefined()
    expect(spec?.sagemaker).toEqual({ instanceType: 'ml.g5.xlarge', instanceCount: 2, framework: 'pytorch', volumeSizeGb: 30, maxRuntimeSec: 7200, spot: { maxWaitSec: 10_800 } })
    expect(specToForm(spec!).sagemaker).toEqual(f.sagemaker)
    // a custom image needs its URI
    f.sagemaker = { ...f.sagemaker, framework: 'custom', imageUri: '' }
    expect(formToSpec(f, cloud).errors).toContainEqual({ field: 'sagemaker.imageUri', message: 'give the image URI' })

    const k = emptyForm()
    Object.assign(k, { name: 'k-job', target: 'target:k', entryValue: 'train.py' })
    k.kubernetes = { image: 'pytorch/pytorch', workers: '2', nprocPerNode: '4' }
    const ks = formToSpec(k, cloud).spec!
    expect(ks.kubernetes).toEqual({ image: 'pytorch/pytorch', workers: 2 })
    expect(ks.resources?.torchrun).toEqual({ nprocPerNode: 4 })
    expect(ks.sagemaker).toBeUndefined()
    expect(specToForm(ks).kubernetes).toEqual(k.kubernetes)
  })
})
