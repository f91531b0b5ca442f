import type { QueryState } from './useQueryStore'

function errorPosition(q: QueryState): string {
  const line = Number(q.error?.details?.line)
  const column = Number(q.error?.details?.column)
  if (!Number.isFinite(line) || line < 1) return ''
  const absLine = q.origin.line + line - 1
  return Number.isFinite(column) ? ` (line ${absLine}, column ${line === 1 ? q.origin.column + column - 1 : column})` : ` (line ${absLine})`
}

/** A failed query's error, with its position in the editor. */
export function QueryError({ q }: { q: QueryState }) {
  if (!q.error) return null
  return (
    <div role="alert" className="error-box query-error">
      <strong>{q.error.code === 'SQL_ERROR' ? 'SQL error' : 'Query failed'}</strong>
      {errorPosition(q)}: {q.error.message}
    </div>
  )
}
