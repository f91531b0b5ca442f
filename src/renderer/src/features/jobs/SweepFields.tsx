import { useId } from 'react'
import type { FieldError } from '../../../../shared/jobs'
import { emptySpaceRow, type SpaceRow, type SweepForm } from './form'
import { FormField } from './widgets'

interface Props {
  sweep: SweepForm
  onChange(s: SweepForm): void
  errorsFor(field: string): FieldError[]
  touch(field: string): void
  /** Metric names the job defines, offered for the objective. */
  metricNames: string[]
  trials: number | null
}

/** "Run as sweep": strategy, the space (values or a range per hyperparameter), trials, concurrency, objective. */
export function SweepFields({ sweep, onChange, errorsFor, touch, metricNames, trials }: Props) {
  const listId = useId()
  const spaceErrId = useId()
  const set = (p: Partial<SweepForm>) => onChange({ ...sweep, ...p })
  const setRow = (i: number, p: Partial<SpaceRow>) => set({ space: sweep.space.map((r, j) => (j === i ? { ...r, ...p } : r)) })
  const spaceErrors = errorsFor('sweep.space')
  return (
    <fieldset className="job-rows job-sweep">
      <legend>Sweep</legend>
      <label className="check job-check">
        <input
          type="checkbox"
          checked={sweep.enabled}
          onChange={(e) => set({ enabled: e.target.checked, space: e.target.checked && sweep.space.length === 0 ? [emptySpaceRow()] : sweep.space })}
        />{' '}
        Run as sweep
      </label>
      {sweep.enabled && (
        <>
          <div className="job-grid job-grid-3">
            <FormField label="Strategy" errors={[]}>
              <select value={sweep.strategy} onChange={(e) => set({ strategy: e.target.value as 'grid' | 'random' })}>
                <option value="grid">Grid (every combination)</option>
                <option value="random">Random search</option>
              </select>
            </FormField>
            <FormField label="Max trials" errors={errorsFor('sweep.maxTrials')} onLeave={() => touch('sweep.maxTrials')}>
              <input type="text" inputMode="numeric" value={sweep.maxTrials} onChange={(e) => set({ maxTrials: e.target.value })} placeholder={sweep.strategy === 'grid' ? 'all' : '10'} />
            </FormField>
            <FormField label="Concurrency" errors={errorsFor('sweep.concurrency')} onLeave={() => touch('sweep.concurrency')} hint="Trials running at once">
              <input type="text" inputMode="numeric" value={sweep.concurrency} onChange={(e) => set({ concurrency: e.target.value })} placeholder="all" />
            </FormField>
            <FormField label="Objective metric" errors={errorsFor('sweep.objective')}>
              <input type="text" list={listId} value={sweep.objectiveMetric} onChange={(e) => set({ objectiveMetric: e.target.value })} placeholder="loss" />
            </FormField>
            <datalist id={listId}>
              {metricNames.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
            <FormField label="Goal" errors={[]}>
              <select value={sweep.goal} onChange={(e) => set({ goal: e.target.value as 'minimize' | 'maximize' })}>
                <option value="minimize">Minimize</option>
                <option value="maximize">Maximize</option>
              </select>
            </FormField>
            <p className="muted job-trials" role="status">
              {trials === null ? '' : `${trials} trial${trials === 1 ? '' : 's'}`}
            </p>
          </div>
          <div role="group" aria-label="Search space" aria-describedby={spaceErrors.length ? spaceErrId : undefined} onBlur={() => touch('sweep.space')}>
            {sweep.space.map((row, i) => {
              const bad = spaceErrors.some((e) => e.field === `sweep.space.${i}`)
              const inv = { 'aria-invalid': bad || undefined, 'aria-describedby': bad ? spaceErrId : undefined }
              return (
                <div className="job-row" key={i}>
                  <input type="text" className="mono job-key" aria-label={`Sweep parameter ${i + 1}`} placeholder="lr" value={row.name} onChange={(e) => setRow(i, { name: e.target.value })} {...inv} />
                  <select aria-label={`Sweep kind ${i + 1}`} value={row.mode} onChange={(e) => setRow(i, { mode: e.target.value as 'values' | 'range' })}>
                    <option value="values">Values</option>
                    <option value="range">Range</option>
                  </select>
                  {row.mode === 'values' ? (
                    <input type="text" className="mono" aria-label={`Sweep values ${i + 1}`} placeholder="0.1, 0.01, 0.001" value={row.values} onChange={(e) => setRow(i, { values: e.target.value })} {...inv} />
                  ) : (
                    <>
                      <input type="text" className="mono job-num" aria-label={`Sweep min ${i + 1}`} placeholder="min" value={row.min} onChange={(e) => setRow(i, { min: e.target.value })} {...inv} />
                      <input type="text" className="mono job-num" aria-label={`Sweep max ${i + 1}`} placeholder="max" value={row.max} onChange={(e) => setRow(i, { max: e.target.value })} {...inv} />
                      <label className="check">
                        <input type="checkbox" checked={row.log} onChange={(e) => setRow(i, { log: e.target.checked })} aria-label={`Log scale ${i + 1}`} /> log
                      </label>
                      <label className="check">
                        <input type="checkbox" checked={row.integer} onChange={(e) => setRow(i, { integer: e.target.checked })} aria-label={`Integers ${i + 1}`} /> int
                      </label>
                    </>
                  )}
                  <button type="button" className="icon-btn small" aria-label={`Remove sweep parameter ${i + 1}`} onClick={() => set({ space: sweep.space.filter((_, j) => j !== i) })}>
                    ×
                  </button>
                </div>
              )
            })}
            <button type="button" className="btn small ghost job-add" onClick={() => set({ space: [...sweep.space, emptySpaceRow()] })}>
              <span aria-hidden="true">+</span> Add sweep parameter
            </button>
            {spaceErrors.length > 0 && (
              <span id={spaceErrId} className="field-error">
                {spaceErrors.map((e) => e.message).join('; ')}
              </span>
            )}
          </div>
        </>
      )}
    </fieldset>
  )
}
