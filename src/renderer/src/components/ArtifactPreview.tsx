import type { ArtifactPreview as Preview } from '../../../shared/api'
import { plural } from '../lib/format'

/** An artifact as `tracking.artifacts.read` returns it: an image, the first rows of a CSV, text, or a note. */
export function ArtifactPreview({ p }: { p: Preview }) {
  if (p.kind === 'image' && p.base64) return <img className="exp-img" alt={p.path} src={`data:${p.mime};base64,${p.base64}`} />
  if (p.kind === 'csv' && p.rows)
    return (
      <div className="table-wrap exp-preview">
        <table className="stats-table" aria-label={`Preview of ${p.path}`}>
          <tbody>
            {p.rows.map((row, i) => (
              <tr key={i}>
                {row.map((c, j) => (i === 0 ? <th key={j}>{c}</th> : <td key={j}>{c}</td>))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )
  if (p.kind === 'text') return <pre className="exp-preview mono" aria-label={`Preview of ${p.path}`}>{p.text}</pre>
  return <p className="muted">No preview for this file ({p.mime}, {plural(p.size, 'byte')}).</p>
}
