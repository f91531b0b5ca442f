import { Fragment, useMemo, useState } from 'react'
import { formatMeanCi } from './logic'
import { cellValue, formatValue, useExperimentsStore } from './useExperimentsStore'

/**
 * Runs grouped by params: one row per group with n and mean ± 95 % CI of each metric; the checkbox
 * draws the group (and picks it for Compare). A group opens to list its runs, each selectable on its
 * own, so that Compare can set single runs beside groups.
 */
export function GroupsTable() {
  const groups = useExperimentsStore((s) => s.groups)
  const groupsError = useExperimentsStore((s) => s.groupsError)
  const columns = useExperimentsStore((s) => s.columns)
  const selectedGroups = useExperimentsStore((s) => s.selectedGroups)
  const toggleGroup = useExperimentsStore((s) => s.toggleGroup)
  const setSelected = useExperimentsStore((s) => s.setSelected)
  const selected = useExperimentsStore((s) => s.selected)
  const toggleSelected = useExperimentsStore((s) => s.toggleSelected)
  const runs = useExperimentsStore((s) => s.runs)
  const [open, setOpen] = useState<string[]>([])
  const byId = useMemo(() => new Map(runs.map((r) => [r.runId, r])), [runs])

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
          {groups.groups.map((g) => {
            const isOpen = open.includes(g.label)
            return (
            <Fragment key={g.label}>
            <tr aria-label={g.label} className={selectedGroups.includes(g.label) ? 'current' : ''}>
              <td className="exp-check">
                <input type="checkbox" aria-label={`Draw group ${g.label}`} checked={selectedGroups.includes(g.label)} onChange={() => toggleGroup(g.label)} />
              </td>
              <th scope="row" className="mono" title={g.label}>
                <button
                  type="button"
                  className="exp-disclose"
                  aria-expanded={isOpen}
                  aria-label={`List the runs of ${g.label}`}
                  onClick={() => setOpen(isOpen ? open.filter((l) => l !== g.label) : [...open, g.label])}
                >
                  {isOpen ? '▾' : '▸'}
                </button>{' '}
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
            {isOpen &&
              g.runIds.map((id, i) => {
                const r = byId.get(id)
                const name = g.runNames[i]
                return (
                  <tr key={id} className={`exp-group-run${selected.includes(id) ? ' current' : ''}`} aria-label={`${name} in ${g.label}`}>
                    <td className="exp-check">
                      <input type="checkbox" aria-label={`Select run ${name}`} checked={selected.includes(id)} onChange={() => toggleSelected(id)} />
                    </td>
                    <th scope="row" className="mono" title={name}>
                      {name}
                    </th>
                    <td className="num muted">run</td>
                    {metrics.map((k) => (
                      <td key={k} className="num mono">
                        {r ? formatValue(cellValue(r, `metrics.${k}`), `metrics.${k}`) : '—'}
                      </td>
                    ))}
                  </tr>
                )
              })}
            </Fragment>
            )
          })}
        </tbody>
      </table>
      <p className="muted exp-note exp-groups-foot">
        {groups.groups.length} groups of {groups.runCount} runs. Runs without a metric are left out of its statistics.
      </p>
    </div>
  )
}
