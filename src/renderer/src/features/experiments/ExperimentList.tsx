import { useExperimentsStore } from './useExperimentsStore'
import { plural } from '../../lib/format'

/** The experiments (a listbox), with the deleted ones on request and delete/restore of the chosen one. */
export function ExperimentList() {
  const experiments = useExperimentsStore((s) => s.experiments)
  const experimentId = useExperimentsStore((s) => s.experimentId)
  const error = useExperimentsStore((s) => s.experimentsError)
  const select = useExperimentsStore((s) => s.selectExperiment)
  const showDeleted = useExperimentsStore((s) => s.showDeletedExperiments)
  const setShowDeleted = useExperimentsStore((s) => s.setShowDeletedExperiments)
  const setDeleted = useExperimentsStore((s) => s.setExperimentDeleted)
  const current = experiments.find((e) => e.experimentId === experimentId)

  return (
    <aside className="sidebar exp-sidebar" aria-label="Experiments sidebar">
      <div className="side-head">Experiments</div>
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      <ul className="side-list" role="listbox" aria-label="Experiments">
        {experiments.map((e) => {
          const deleted = e.lifecycleStage === 'deleted'
          return (
            <li
              key={e.experimentId}
              role="option"
              aria-selected={e.experimentId === experimentId}
              aria-label={`${e.name}${deleted ? ' (deleted)' : ''}, ${plural(e.runCount, 'run')}`}
              tabIndex={e.experimentId === experimentId ? 0 : -1}
              className={`side-item ${e.experimentId === experimentId ? 'active' : ''} ${deleted ? 'deleted' : ''}`}
              onClick={() => select(e.experimentId)}
              onKeyDown={(ev) => {
                const i = experiments.indexOf(e)
                const next = ev.key === 'ArrowDown' ? experiments[i + 1] : ev.key === 'ArrowUp' ? experiments[i - 1] : undefined
                if (next) {
                  ev.preventDefault()
                  select(next.experimentId)
                  ;(ev.currentTarget.parentElement?.children[experiments.indexOf(next)] as HTMLElement | undefined)?.focus()
                }
              }}
            >
              <span className="side-item-name">{e.name}</span>
              {deleted ? <span className="badge exp-deleted-badge">deleted</span> : <span className="muted exp-count">{e.runCount}</span>}
            </li>
          )
        })}
        {experiments.length === 0 && !error && <li className="muted empty-note">No experiments yet. Log runs with MLflow.</li>}
      </ul>
      <div className="exp-side-foot">
        <label className="check">
          <input type="checkbox" checked={showDeleted} onChange={(e) => void setShowDeleted(e.target.checked)} /> Show deleted experiments
        </label>
        {current && current.experimentId !== '0' && (
          <button
            type="button"
            className="btn small ghost"
            onClick={() => void setDeleted(current.experimentId, current.lifecycleStage !== 'deleted')}
            aria-label={`${current.lifecycleStage === 'deleted' ? 'Restore' : 'Delete'} experiment ${current.name}`}
          >
            {current.lifecycleStage === 'deleted' ? 'Restore experiment' : 'Delete experiment'}
          </button>
        )}
      </div>
    </aside>
  )
}
