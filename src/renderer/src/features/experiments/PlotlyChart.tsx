import { useMemo } from 'react'
import { Plot } from '../../components/Plot'

interface Props {
  data: Record<string, unknown>[]
  layout?: Record<string, unknown>
  label: string
  description?: string
  onRelayout?(e: Record<string, unknown>): void
  height?: number
}

/** The shared Plot with the roomier margins and legend of the metric and comparison charts. */
export function PlotlyChart({ layout, ...rest }: Props) {
  const merged = useMemo(() => ({ margin: { l: 48, r: 16, t: 16, b: 36 }, legend: { orientation: 'h', y: -0.25 }, ...layout }), [layout])
  return <Plot {...rest} layout={merged} className="exp-plot" />
}
