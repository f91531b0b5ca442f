import { useEffect } from 'react'
import { onEvent } from '../../api/client'
import { CompareView } from './CompareView'
import { formatTime, keyMetrics, formatMetric } from './logic'
import { useModelsStore } from './useModelsStore'
import { VersionPage } from './VersionPage'
import { ApprovalBadge } from './widgets'
import './models.css'

function ModelList() {
  const query = useModelsStore((s) => s.query)
  const setQuery = useModelsStore((s) => s.setQuery)
  const models = useModelsStore((s) => s.models)
  const error = useModelsStore((s) => s.modelsError)
  const loading = useModelsStore((s) => s.loadingModels)
  const selected = useModelsStore((s) => s.selected)
  const selectModel = useModelsStore((s) => s.selectModel)
  return (
    <aside className="reg-sidebar" aria-label="Registered models">
      <div className="reg-side-head">
        <input type="search" aria-label="Search models" placeholder="Search models" value={query} onChange={(e) => setQuery(e.target.value)} />
      </div>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      {models.length === 0 && !loading && !error ? (
        <p className="empty-note muted">
          {query ? 'No model matches.' : 'No registered models yet. Register one from a run’s page in Experiments.'}
        </p>
      ) : (
        <ul className="side-list" role="listbox" aria-label="Models">
          {models.map((m) => (
            <li
              key={m.name}
              role="option"
              aria-selected={m.name === selected}
              tabIndex={0}
              className={`side-item ${m.name === selected ? 'active' : ''}`}
              onClick={() => selectModel(m.name)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault()
                  selectModel(m.name)
                } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                  e.preventDefault()
                  const li = e.currentTarget
                  const next = (e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling) as HTMLElement | null
                  next?.focus()
                }
              }}
            >
              <span className="side-item-name">{m.name}</span>
              <span className="side-item-count muted">{m.versionCount}</span>
            </li>
          ))}
        </ul>
      )}
    </aside>
  )
}

function VersionsTable() {
  const model = useModelsStore((s) => s.model)
  const versions = useModelsStore((s) => s.versions)
  const error = useModelsStore((s) => s.versionsError)
  const openVersion = useModelsStore((s) => s.openVersion)
  const compare = useModelsStore((s) => s.compare)
  const toggleCompare = useModelsStore((s) => s.toggleCompare)
  const showCompare = useModelsStore((s) => s.showCompare)
  const selected = useModelsStore((s) => s.selected)
  if (!selected) return <p className="empty-note muted">Choose a model to see its versions.</p>
  if (error)
    return (
      <div role="alert" className="error-box small">
        {error}
      </div>
    )
  if (!model) return <p className="empty-note muted">Loading…</p>
  const metrics = keyMetrics(versions)
  const [a, b] = [...compare].sort((x, y) => x - y)
  return (
    <section className="reg-page" aria-label={`Model ${model.name}`}>
      <header className="reg-head">
        <h2>{model.name}</h2>
        {Object.entries(model.aliases).map(([alias, v]) => (
          <span key={alias} className="reg-alias">
            @{alias} → v{v}
          </span>
        ))}
        <span className="spacer" />
        <span className="muted">{compare.length === 2 ? `Compare v${a} and v${b}` : 'Tick two versions to compare them'}</span>
        <button type="button" className="btn small" disabled={compare.length !== 2} onClick={() => showCompare(a, b)}>
          Compare versions
        </button>
      </header>
      {model.description && <p className="reg-desc">{model.description}</p>}
      <div className="reg-table-wrap">
        <table className="stats-table reg-table" aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Compare</span>
              </th>
              <th scope="col">Version</th>
              <th scope="col">Aliases</th>
              <th scope="col">Approval</th>
              {metrics.map((k) => (
                <th scope="col" key={k} className="num">
                  {k}
                </th>
              ))}
              <th scope="col">Created by</th>
              <th scope="col">Created</th>
              <th scope="col">Source run</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <td>
                  <input type="checkbox" aria-label={`Compare version ${v.version}`} checked={compare.includes(v.version)} onChange={() => toggleCompare(v.version)} />
                </td>
                <td>
                  <button type="button" className="link-btn" onClick={() => openVersion(v.version)}>
                    Version {v.version}
                  </button>
                </td>
                <td>{v.aliases.length ? v.aliases.map((al) => <span key={al} className="reg-alias">@{al}</span>) : <span className="muted">—</span>}</td>
                <td>
                  <ApprovalBadge status={v.approvalStatus} />
                </td>
                {metrics.map((k) => (
                  <td key={k} className="num mono">
                    {formatMetric(v.metrics[k])}
                  </td>
                ))}
                <td>{v.createdBy.name}</td>
                <td>{formatTime(v.createdAt)}</td>
                <td className="mono" title={v.source}>
                  {v.runId ? v.runId.slice(0, 12) : v.source}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {versions.length === 0 && <p className="empty-note muted">No versions.</p>}
      </div>
    </section>
  )
}

/** Models room: registered models, their versions, a version's page, and version comparison. */
export function ModelsRoom() {
  const loadModels = useModelsStore((s) => s.loadModels)
  const loadVersions = useModelsStore((s) => s.loadVersions)
  const refresh = useModelsStore((s) => s.refresh)
  const view = useModelsStore((s) => s.view)

  useEffect(() => {
    void loadModels()
    void loadVersions()
    let timer: ReturnType<typeof setTimeout> | undefined
    const off = onEvent('registry.changed', () => {
      clearTimeout(timer)
      timer = setTimeout(() => void refresh(), 300)
    })
    return () => {
      clearTimeout(timer)
      off()
    }
  }, [loadModels, loadVersions, refresh])

  return (
    <div className="reg-room">
      <ModelList />
      <div className="reg-work">
        {view.kind === 'version' ? <VersionPage version={view.version} tab={view.tab} /> : view.kind === 'compare' ? <CompareView a={view.a} b={view.b} /> : <VersionsTable />}
      </div>
    </div>
  )
}
