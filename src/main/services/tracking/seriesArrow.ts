import { Field, Float64, RecordBatch, Schema, Struct, Table, makeData, tableToIPC } from 'apache-arrow'
import type { MetricSeries } from '../../../shared/api'

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
  const type = new Float64()
  const fields = ['step', 'timestamp', 'value'].map((name) => new Field(name, type, name === 'value'))
  const schema = new Schema(fields)
  const children = [
    makeData({ type, length: n, nullCount: 0, data: Float64Array.from(s.steps) }),
    makeData({ type, length: n, nullCount: 0, data: Float64Array.from(s.timestamps) }),
    makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls ? valid : undefined, data: values })
  ]
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))
  return tableToIPC(new Table(schema, [batch]), 'stream')
}
