import type { MetricSeries } from '../../../shared/api'
import { writeIpcStream, type ArrowField } from '../lake/arrowIpc'

const FIELDS: ArrowField[] = ['step', 'timestamp', 'value'].map((name) => ({ name, type: { id: 'float', precision: 'double' } }))
const bytesOf = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/**
 * A metric series' points as an Arrow IPC stream: three float64 columns (step, timestamp, value),
 * value null where the JSON form has null (NaN and ±Infinity). Numbers are copied once into typed
 * arrays; the reader views them in the received bytes.
 */
export function encodeSeriesArrow(s: Pick<MetricSeries, 'steps' | 'timestamps' | 'values'>): Uint8Array {
  const n = s.steps.length
  const values = new Float64Array(n)
  const valid = new Uint8Array(Math.ceil(n / 8))
  let nulls = 0
  for (let i = 0; i < n; i++) {
    const v = s.values[i]
    if (v === null) nulls++
    else {
      values[i] = v
      valid[i >> 3] |= 1 << (i & 7)
    }
  }
  const none = new Uint8Array(0)
  return writeIpcStream(FIELDS, [
    {
      length: n,
      columns: [
        { nullCount: 0, buffers: [none, bytesOf(Float64Array.from(s.steps))] },
        { nullCount: 0, buffers: [none, bytesOf(Float64Array.from(s.timestamps))] },
        { nullCount: nulls, buffers: [nulls ? valid : none, bytesOf(values)] }
      ]
    }
  ])
}
