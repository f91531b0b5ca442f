import { useMemo } from 'react'
import { formatMeanCi } from './logic'
import { useExperimentsStore } from './useExperimentsStore'

/** Runs grouped by params: one row per group with n and mean ± 95 % CI of each metric; the checkbox draws the group. */
export function GroupsTable() {
  const groups = useExperimentsStore((s) => s.groups)
  const groupsError = useExperimentsStore((s) => s.groupsError)
  const columns = useExperimentsStore((s) => s.columns)
  const selectedGroups = useExperimentsStore((s) => s.selectedGroups)
  const toggleGroup = useExperimentsStore((s) => s.toggleGroup)
  const setSelected = useExperimentsStore((s) => s.setSelected)

  const metrics = useMemo(() => {
    const chosen = columns.filter((c) => c.startsWith('metrics.')).map((c) => c.slice('metrics.'.length))
    if (chosen.length > 0) return chosen
    const all = new Set<string>()
    for (const g of groups?.groups ?? []) Object.keys(g.metrics).forEach((k) => all.add(k))
    return [...all].sort().slice(0, 6)
  }, [columns, groups])

  if (groupsError)
    return (
      <div role="alert" className="error-box exp-filter-error">
        {groupsError}
      </div>
    )
  if (!groups) return <p className="muted empty-note">Grouping…</p>
  return (
    <div className="exp-groups-wrap">
      <table className="stats-table exp-groups" aria-label="Run groups">
        <thead>
          <tr>
            <th scope="col" className="exp-check">
              <span className="sr-only">Draw</span>
            </th>
            <th scope="col">Group ({groups.groupBy.join(', ')})</th>
            <th scope="col" className="num">
              Runs
            </th>
            {metrics.map((k) => (
              <th key={k} scope="col" className="num" title={`metrics.${k}: mean ± half-width of the 95 % confidence interval (Student's t)`}>
                {k} <span className="muted">mean ± 95 % CI</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {groups.groups.map((g) => (
            <tr key={g.label} aria-label={g.label} className={selectedGroups.includes(g.label) ? 'current' : ''}>
              <td className="exp-check">
                <input type="checkbox" aria-label={`Draw group ${g.label}`} checked={selectedGroups.includes(g.label)} onChange={() => toggleGroup(g.label)} />
              </td>
              <th scope="row" className="mono" title={g.label}>
                {g.label}
              </th>
              <td className="num">
                <button type="button" className="link-btn" title={g.runNames.join(', ')} onClick={() => setSelected(g.runIds)} aria-label={`Select the ${g.runIds.length} runs of ${g.label}`}>
                  {g.runIds.length}
                </button>
              </td>
              {metrics.map((k) => {
                const s = g.metrics[k]
                return (
                  <td
                    key={k}
                    className="num mono"
                    title={s ? `mean ${s.mean}, n = ${s.n}${s.ci95 !== null ? `, 95 % CI [${s.mean - s.ci95}, ${s.mean + s.ci95}], sd ${s.std}` : ''}` : 'no values'}
                  >
                    {s ? `${formatMeanCi(s)}${s.n !== g.runIds.length && s.ci95 !== null ? ` (n = ${s.n})` : ''}` : '—'}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted exp-note exp-groups-foot">
        {groups.groups.length} groups of {groups.runCount} runs. Runs without a metric are left out of its statistics.
      </p>
    </div>
  )
}
