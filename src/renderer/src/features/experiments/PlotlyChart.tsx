import { useEffect, useId, useRef, useState } from 'react'
import { loadPlotly } from '../../components/Plot'

type PlotlyApi = Awaited<ReturnType<typeof loadPlotly>>
interface GraphDiv extends HTMLDivElement {
  on?(event: string, cb: (e: Record<string, unknown>) => void): void
  removeAllListeners?(event: string): void
}

interface Props {
  data: Record<string, unknown>[]
  layout?: Record<string, unknown>
  label: string
  description?: string
  onRelayout?(e: Record<string, unknown>): void
  height?: number
}

function themeColors() {
  const cs = getComputedStyle(document.documentElement)
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback
  return { fg: v('--fg-muted', '#9aa4b2'), grid: v('--border', '#2a2f37'), font: v('--font-ui', 'system-ui') }
}

/** Like components/Plot, but for any SVG trace type and with the relayout (zoom) event. */
export function PlotlyChart({ data, layout, label, description, onRelayout, height }: Props) {
  const descId = useId()
  const ref = useRef<GraphDiv>(null)
  const [plotly, setPlotly] = useState<PlotlyApi | null>(null)
  const [error, setError] = useState<string | null>(null)
  const relayout = useRef(onRelayout)
  relayout.current = onRelayout

  useEffect(() => {
    let alive = true
    loadPlotly().then(
      (p) => alive && setPlotly(p),
      () => alive && setError('The chart library could not be loaded.')
    )
    return () => {
      alive = false
    }
  }, [])

  useEffect(() => {
    const el = ref.current
    if (!plotly || !el) return
    const c = themeColors()
    const axis = { gridcolor: c.grid, zerolinecolor: c.grid, linecolor: c.grid, automargin: true }
    const base: Record<string, unknown> = {
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      font: { color: c.fg, family: c.font, size: 11 },
      margin: { l: 48, r: 16, t: 16, b: 36 },
      autosize: true,
      showlegend: data.length > 1,
      legend: { orientation: 'h', y: -0.25 },
      ...layout,
      xaxis: { ...axis, ...((layout?.xaxis as object) ?? {}) },
      yaxis: { ...axis, ...((layout?.yaxis as object) ?? {}) }
    }
    plotly
      .react(el, data, base, { displaylogo: false, responsive: false, displayModeBar: false, showTips: false })
      .then(() => {
        if (el.removeAllListeners) el.removeAllListeners('plotly_relayout')
        el.on?.('plotly_relayout', (e) => relayout.current?.(e))
        setError(null)
      })
      .catch(() => setError('The chart could not be drawn.'))
  }, [plotly, data, layout])

  useEffect(() => {
    const el = ref.current
    if (!plotly || !el) return
    let raf = 0
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(raf)
      raf = requestAnimationFrame(() => {
        if (el.isConnected && el.clientWidth > 0) plotly.Plots.resize(el)
      })
    })
    ro.observe(el)
    return () => {
      cancelAnimationFrame(raf)
      ro.disconnect()
      plotly.purge(el)
    }
  }, [plotly])

  return (
    <div className="plot exp-plot" role="img" aria-label={label} aria-describedby={description ? descId : undefined} style={height ? { height } : undefined}>
      {description && (
        <span id={descId} className="sr-only">
          {description}
        </span>
      )}
      {error && <div className="muted plot-msg">{error}</div>}
      {!plotly && !error && <div className="muted plot-msg">Loading chart…</div>}
      <div ref={ref} className="plot-canvas" />
    </div>
  )
}
