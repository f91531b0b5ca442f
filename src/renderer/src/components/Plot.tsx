import { useEffect, useId, useRef, useState } from 'react'

/** The few plotly calls we use (plotly.js-dist-min ships no types). */
interface PlotlyApi {
  react(el: HTMLElement, data: unknown[], layout: Record<string, unknown>, config: Record<string, unknown>): Promise<unknown>
  purge(el: HTMLElement): void
  Plots: { resize(el: HTMLElement): void }
}

let plotlyPromise: Promise<PlotlyApi> | null = null
/** Plotly is large: load it on first use, in its own chunk. */
export function loadPlotly(): Promise<PlotlyApi> {
  plotlyPromise ??= import('plotly.js-dist-min').then((m) => {
    const mod = m as unknown as { default?: PlotlyApi } & PlotlyApi
    return (mod.default ?? mod) as PlotlyApi
  })
  return plotlyPromise
}

export type Trace = Record<string, unknown> & { type: 'bar' | 'scatter' | 'histogram' }

/** The plot's element, as plotly decorates it (events). */
interface GraphDiv extends HTMLDivElement {
  on?(event: string, cb: (e: Record<string, unknown>) => void): void
  removeAllListeners?(event: string): void
}

interface Props {
  /** Traces: Trace for the common kinds; any SVG trace type (parcoords…) is accepted. */
  data: Trace[] | Record<string, unknown>[]
  layout?: Record<string, unknown>
  /** Accessible name of the chart (role img). */
  label: string
  /** Accessible description: what the chart shows, in words. */
  description?: string
  className?: string
  height?: number
  /** plotly_relayout (zoom, pan, autoscale), e.g. to fetch raw points for the zoomed range. */
  onRelayout?(e: Record<string, unknown>): void
}

function themeColors() {
  const cs = getComputedStyle(document.documentElement)
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback
  return { fg: v('--fg-muted', '#9aa4b2'), grid: v('--border', '#2a2f37'), font: v('--font-ui', 'system-ui') }
}

/** One plotly chart, SVG traces only (no WebGL, no eval), redrawn with Plotly.react and resized with its container. */
export function Plot({ data, layout, label, description, className, height, onRelayout }: Props) {
  const descId = useId()
  const ref = useRef<GraphDiv>(null)
  const relayout = useRef(onRelayout)
  relayout.current = onRelayout
  const [error, setError] = useState<string | null>(null)
  const [plotly, setPlotly] = useState<PlotlyApi | null>(null)

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
      margin: { l: 40, r: 12, t: 12, b: 32 },
      autosize: true,
      showlegend: data.length > 1,
      legend: { orientation: 'h', y: -0.2 },
      bargap: 0.05,
      ...layout,
      xaxis: { ...axis, ...((layout?.xaxis as object) ?? {}) },
      yaxis: { ...axis, ...((layout?.yaxis as object) ?? {}) }
    }
    plotly
      .react(el, data, base, { displaylogo: false, responsive: false, displayModeBar: false, showTips: false })
      .then(() => {
        el.removeAllListeners?.('plotly_relayout')
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
    }
  }, [plotly])

  useEffect(() => {
    const el = ref.current
    return () => {
      if (el && plotly) plotly.purge(el)
    }
  }, [plotly])

  return (
    <div
      className={`plot ${className ?? ''}`}
      role="img"
      aria-label={label}
      aria-describedby={description ? descId : undefined}
      style={height ? { height } : undefined}
    >
      {description && (
        <span id={descId} className="sr-only">
          {description}
        </span>
      )}
      {error ? (
        <div className="muted plot-msg">{error}</div>
      ) : (
        <>
          {!plotly && <div className="muted plot-msg">Loading chart…</div>}
          <div ref={ref} className="plot-canvas" />
        </>
      )}
    </div>
  )
}
