import { useEffect, useMemo } from 'react'
import type { ColumnProfile } from '../../../../../shared/api'
import { Plot, type Trace } from '../../../components/Plot'
import { Spinner } from '../../../components/ProgressBar'
import { formatCount, formatStat, kindOfType, plural } from '../../../lib/format'
import type { QueryState } from '../query/useQueryStore'
import { QueryError } from '../query/QueryError'
import { useProfileStore } from './useProfileStore'

export const HLL_NOTE =
  'Estimated with HyperLogLog (DuckDB approx_count_distinct): typically within about ±13%, more on tens of millions of values. The exact count is computed for smaller tables.'

/** The distinct count: exact as a plain number, an estimate with ≈ and a tooltip saying how it was estimated. */
function Distinct({ c, rowCount }: { c: ColumnProfile; rowCount: number }) {
  if (c.distinct === null) return <>—</>
  const exact = c.distinctExact !== false
  return (
    <>
      {exact ? (
        <span title="Exact count of distinct non-null values">{formatCount(c.distinct)}</span>
      ) : (
        <span title={HLL_NOTE} aria-label={`about ${formatCount(c.distinct)} (estimate)`}>
          ≈{formatCount(c.distinct)}
        </span>
      )}
      {c.unique && (
        <span className="badge unique" title={`Every one of the ${formatCount(rowCount)} rows has its own value, none is null`}>
          unique
        </span>
      )}
    </>
  )
}

/** Histogram edges of time columns are epoch numbers: guess the unit from the magnitude. */
function toMillis(v: number): number {
  const a = Math.abs(v)
  if (a >= 1e17) return v / 1e6 // nanoseconds
  if (a >= 1e14) return v / 1e3 // microseconds
  if (a >= 1e11) return v // milliseconds
  if (a >= 1e6) return v * 1e3 // seconds
  return v * 86_400_000 // days (DATE)
}

const isDateLike = (type: string) => kindOfType(type) === 'time' && !/^TIME\b/i.test(type)

function chartFor(c: ColumnProfile): Trace[] | null {
  if (c.histogram && c.histogram.counts.length > 0) {
    const { edges, counts } = c.histogram
    const isTime = isDateLike(c.type)
    const mid = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2)
    const width = counts.map((_, i) => edges[i + 1] - edges[i])
    const x = isTime ? mid.map((m) => new Date(toMillis(m)).toISOString()) : mid
    const w = isTime ? width.map((d, i) => toMillis(edges[i] + d) - toMillis(edges[i])) : width
    return [{ type: 'bar', x, y: counts, width: w, marker: { color: '#5b8def' }, hovertemplate: '%{x}: %{y}<extra></extra>' }]
  }
  if (c.topValues && c.topValues.length > 0) {
    const tv = [...c.topValues].reverse()
    return [
      {
        type: 'bar',
        orientation: 'h',
        y: tv.map((t) => (t.value === null ? 'NULL' : String(t.value).slice(0, 40))),
        x: tv.map((t) => t.count),
        marker: { color: '#8b7cf6' },
        hovertemplate: '%{y}: %{x}<extra></extra>'
      }
    ]
  }
  return null
}

function ProfileCard({ c, rowCount }: { c: ColumnProfile; rowCount: number }) {
  const data = useMemo(() => chartFor(c), [c])
  const layout = useMemo(
    () => ({
      margin: { l: c.topValues && !c.histogram ? 90 : 36, r: 8, t: 6, b: 24 },
      // every category label (plotly would thin them out)
      yaxis: c.topValues && !c.histogram ? { automargin: true, dtick: 1 } : { automargin: true },
      xaxis: isDateLike(c.type) && c.histogram ? { type: 'date' } : {}
    }),
    [c]
  )
  return (
    <section className="profile-card" aria-label={`Profile of ${c.name}`}>
      <header>
        <strong>{c.name}</strong> <span className="col-type">{c.type}</span>
      </header>
      <dl className="mini-stats">
        <dt>null</dt>
        <dd>{c.nullPercent.toFixed(1)}%</dd>
        <dt>distinct</dt>
        <dd>
          <Distinct c={c} rowCount={rowCount} />
        </dd>
        {c.topValues && c.topValues.length > 0 && (
          <>
            <dt>top</dt>
            <dd className="top-value" title={String(c.topValues[0].value ?? 'NULL')}>
              {c.topValues[0].value === null ? 'NULL' : String(c.topValues[0].value)} ({formatCount(c.topValues[0].count)})
            </dd>
          </>
        )}
      </dl>
      {data ? (
        <Plot data={data} layout={layout} label={`Distribution of ${c.name}`} height={140} />
      ) : (
        <div className="muted plot-msg">No distribution</div>
      )}
    </section>
  )
}

/** Column statistics and distributions for the current result or a catalog table. */
export function ProfilePanel({ query }: { query: QueryState | undefined }) {
  const { subject, key, loading, result, error, profile } = useProfileStore()
  const canProfileQuery = query?.status === 'done' && (query.columns?.length ?? 0) > 0
  // a profile of a query result that is not this tab's current result is not shown here
  const foreign = key !== null && key.startsWith('q:') && key !== `q:${query?.queryId}`
  const shown = !foreign

  // shown for a finished query whose profile is not here yet (and no table profile was asked for): compute it
  useEffect(() => {
    if (!canProfileQuery) return
    if (key === null || (key.startsWith('q:') && key !== `q:${query.queryId}`))
      void profile({ queryId: query.queryId }, 'query result')
  }, [canProfileQuery, key, profile, query?.queryId])

  return (
    <div className="profile-panel">
      <div className="panel-bar">
        <span>
          {subject && shown ? (
            <>
              Profile of <strong>{subject}</strong>
              {result && <span className="muted"> · {plural(result.rowCount, 'row')}</span>}
            </>
          ) : (
            <span className="muted">Run a query or pick “Profile table” in the catalog.</span>
          )}
        </span>
        <button
          type="button"
          className="btn small"
          disabled={!canProfileQuery || loading}
          onClick={() => query && void profile({ queryId: query.queryId }, 'query result')}
        >
          Profile result
        </button>
      </div>
      {foreign && query?.status === 'error' && <QueryError q={query} />}
      {shown && loading && <Spinner label="Computing profile…" />}
      {shown && error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      {shown && result && (
        <>
          {result.columns.some((c) => c.distinctExact === false) && (
            <p className="muted profile-note" role="note">
              ≈ marks a distinct count estimated with HyperLogLog (typically within about ±13%): this result is too large to
              count every value exactly.
            </p>
          )}
          <div className="table-wrap">
            <table className="stats-table">
              <caption className="sr-only">Column statistics</caption>
              <thead>
                <tr>
                  {['Column', 'Type', 'Null %', 'Distinct', 'Min', 'Max', 'Mean', 'Std', 'Q25', 'Q50', 'Q75'].map((h) => (
                    <th key={h} scope="col">
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {result.columns.map((c) => (
                  <tr key={c.name}>
                    <th scope="row">{c.name}</th>
                    <td className="col-type">{c.type}</td>
                    <td className="num">{c.nullPercent.toFixed(1)}</td>
                    <td className="num">
                      <Distinct c={c} rowCount={result.rowCount} />
                    </td>
                    <td className="num">{formatStat(c.min, c.type)}</td>
                    <td className="num">{formatStat(c.max, c.type)}</td>
                    <td className="num">{formatStat(c.mean, c.type, 'mean')}</td>
                    <td className="num">{formatStat(c.std, c.type, 'mean')}</td>
                    <td className="num">{formatStat(c.q25, c.type, 'quantile')}</td>
                    <td className="num">{formatStat(c.q50, c.type, 'quantile')}</td>
                    <td className="num">{formatStat(c.q75, c.type, 'quantile')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="profile-cards">
            {result.columns.map((c) => (
              <ProfileCard key={c.name} c={c} rowCount={result.rowCount} />
            ))}
          </div>
        </>
      )}
    </div>
  )
}
