import { useEffect, useMemo, useState } from 'react'
import type { LineageGraph, LineageNode, ModelVersion } from '../../../../shared/registry'
import { call } from '../../api/client'
import { layoutLineage } from './logic'
import { download, errorText } from './widgets'

const KIND_LABEL: Record<LineageNode['kind'], string> = {
  model_version: 'model version',
  run: 'run',
  dataset: 'dataset',
  table: 'table',
  file: 'file',
  code: 'git commit',
  notebook: 'notebook',
  job: 'job',
  endpoint: 'endpoint'
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s
}

function Graph({ g, title }: { g: LineageGraph; title: string }) {
  const l = useMemo(() => layoutLineage(g), [g])
  const w = l.nodeWidth
  const h = l.nodeHeight
  return (
    <svg className="reg-lineage" role="img" aria-label={title} width={l.width} height={l.height} viewBox={`0 0 ${l.width} ${l.height}`}>
      <defs>
        <marker id="lin-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" className="lin-arrowhead" />
        </marker>
      </defs>
      {l.edges.map((e, i) => {
        const x1 = e.from.x + w
        const y1 = e.from.y + h / 2
        const x2 = e.to.x
        const y2 = e.to.y + h / 2
        const mx = (x1 + x2) / 2
        return (
          <g key={i}>
            <path className="lin-edge" d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`} markerEnd="url(#lin-arrow)" />
            <text className="lin-edge-label" x={mx} y={(y1 + y2) / 2 - 4} textAnchor="middle">
              {e.kind.replace(/_/g, ' ')}
            </text>
          </g>
        )
      })}
      {l.nodes.map((n) => (
        <g key={n.id} className={`lin-node k-${n.kind}`} transform={`translate(${n.x},${n.y})`}>
          <title>{[n.label, ...Object.entries(n.details).map(([k, v]) => `${k}: ${v}`)].join('\n')}</title>
          <rect width={w} height={h} rx={5} />
          <text x={10} y={17} className="lin-kind">
            {KIND_LABEL[n.kind] ?? n.kind}
          </text>
          <text x={10} y={35} className="lin-label">
            {clip(n.label, 26)}
          </text>
        </g>
      ))}
    </svg>
  )
}

/** Where the version comes from (data, code, run) and what serves it, as a graph and as a table. */
export function LineageTab({ v }: { v: ModelVersion }) {
  const [g, setG] = useState<LineageGraph | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    call('registry.lineage', { name: v.name, version: v.version }).then(
      (x) => alive && (setG(x), setError(null)),
      (e: unknown) => alive && setError(errorText(e))
    )
    return () => {
      alive = false
    }
  }, [v.name, v.version, v.revision])
  const exportOl = async () => {
    try {
      const x = await call('registry.lineage.export', { name: v.name, version: v.version })
      download(x.fileName, 'application/json', JSON.stringify(x.events, null, 2) + '\n')
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <div className="reg-overview">
      <div className="reg-card-bar">
        <span className="muted">Inputs and code → source run → this version → endpoints serving it</span>
        <span className="spacer" />
        <button type="button" className="btn small" onClick={() => void exportOl()}>
          Export OpenLineage
        </button>
      </div>
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      {!g ? (
        !error && <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="reg-lineage-wrap">
            <Graph g={g} title={`Lineage of ${v.name} version ${v.version}`} />
          </div>
          <table className="stats-table reg-table" aria-label="Lineage nodes">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {g.nodes.map((n) => (
                <tr key={n.id}>
                  <td>{KIND_LABEL[n.kind] ?? n.kind}</td>
                  <td className="mono">{n.label}</td>
                  <td className="mono muted reg-wrap">
                    {Object.entries(n.details)
                      .map(([k, x]) => `${k}: ${x}`)
                      .join(' · ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  )
}
