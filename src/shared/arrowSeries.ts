import { tableFromIPC } from 'apache-arrow'
import { readIpcStream } from './arrowIpcRead'
import type { MetricSeries } from './api'

/** One record batch's column of a series: float64 values, validity (null when none is null), first row. */
interface SeriesColumn {
  values: Float64Array
  validity: Uint8Array | null
  offset: number
}

/** The batches of a series stream: read in place when it is the server's own layout, else by apache-arrow. */
function batchesOf(bytes: Uint8Array): { length: number; columns: SeriesColumn[] }[] {
  const fast = readIpcStream(bytes)
  if (fast && fast.fields.length === 3 && fast.fields.every((f) => f.type.id === 'float' && f.type.bitWidth === 64)) {
    return fast.batches.map((b) => ({ length: b.length, columns: b.columns.map((c) => ({ values: c.values as Float64Array, validity: c.validity, offset: 0 })) }))
  }
  return tableFromIPC(bytes).batches.map((b) => ({
    length: b.numRows,
    columns: b.data.children.map((d) => ({ values: d.values as Float64Array, validity: d.nullCount > 0 ? d.nullBitmap : null, offset: d.offset }))
  }))
}

/**
 * A metric series as the charts read it: a series that came as Arrow bytes gets its steps,
 * timestamps and values back as arrays (null values where the JSON form has them); a JSON one is
 * returned as it is.
 */
export function seriesFromArrow(s: MetricSeries): MetricSeries {
  if (!s.arrow) return s
  const steps: number[] = []
  const timestamps: number[] = []
  const values: (number | null)[] = []
  for (const b of batchesOf(s.arrow)) {
    const [st, ts, va] = b.columns
    const bm = va.validity
    for (let i = 0; i < b.length; i++) {
      steps.push(st.values[st.offset + i])
      timestamps.push(ts.values[ts.offset + i])
      const bit = va.offset + i
      values.push(bm && (bm[bit >> 3] & (1 << (bit & 7))) === 0 ? null : va.values[bit])
    }
  }
  const { arrow: _bytes, ...rest } = s
  return { ...rest, steps, timestamps, values }
}
