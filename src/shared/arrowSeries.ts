import { tableFromIPC } from 'apache-arrow'
import type { MetricSeries } from './api'

/**
 * A metric series as the charts read it: a series that came as Arrow bytes gets its steps,
 * timestamps and values back as arrays (null values where the JSON form has them); a JSON one is
 * returned as it is.
 */
export function seriesFromArrow(s: MetricSeries): MetricSeries {
  if (!s.arrow) return s
  const table = tableFromIPC(s.arrow)
  const steps: number[] = []
  const timestamps: number[] = []
  const values: (number | null)[] = []
  for (const b of table.batches) {
    const [st, ts, va] = b.data.children
    const sv = st.values as Float64Array
    const tv = ts.values as Float64Array
    const vv = va.values as Float64Array
    const bm = va.nullCount > 0 ? va.nullBitmap : null
    for (let i = 0; i < b.numRows; i++) {
      steps.push(sv[st.offset + i])
      timestamps.push(tv[ts.offset + i])
      const bit = va.offset + i
      values.push(bm && (bm[bit >> 3] & (1 << (bit & 7))) === 0 ? null : vv[bit])
    }
  }
  const { arrow: _bytes, ...rest } = s
  return { ...rest, steps, timestamps, values }
}
