import { useEffect, useMemo, useRef } from 'react'
import { Plot, type Trace } from '../../components/Plot'
import { renderLatexOutput, renderMarkdown, sanitize } from './markdown'
import { joinSource } from './outputs'
import { StreamText } from './StreamText'

/** Mime types in the order a bundle is shown (the first present wins), as JupyterLab ranks them. */
export const MIME_ORDER = [
  'application/vnd.plotly.v1+json',
  'text/html',
  'text/markdown',
  'text/latex',
  'image/svg+xml',
  'image/png',
  'image/jpeg',
  'application/json',
  'text/plain'
]

/**
 * Untrusted HTML: sanitized (no scripts, handlers, forms or javascript: URLs; the page CSP forbids
 * inline scripts as well) and isolated in a shadow root, so its styles cannot leak into the app
 * nor the app's into it.
 */
function HtmlOutput({ html, label }: { html: string; label: string }) {
  const host = useRef<HTMLDivElement>(null)
  const clean = useMemo(() => sanitize(html), [html])
  useEffect(() => {
    const el = host.current
    if (!el) return
    const root = el.shadowRoot ?? el.attachShadow({ mode: 'open' })
    root.innerHTML = `<style>:host{display:block;color:var(--fg);font:13px/1.45 var(--font-ui);overflow:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{padding:3px 8px;border-bottom:1px solid var(--border);text-align:right}thead th{border-bottom:1px solid var(--border-strong)}tbody tr:nth-child(odd){background:var(--bg-2)}a{color:var(--accent)}img{max-width:100%}</style>${clean}`
    for (const a of root.querySelectorAll('a[href]')) {
      a.setAttribute('target', '_blank')
      a.setAttribute('rel', 'noopener noreferrer')
    }
  }, [clean])
  return <div ref={host} className="nb-html" role="document" aria-label={`${label} HTML`} />
}

function PlotlyOutput({ fig, label }: { fig: { data?: unknown[]; layout?: Record<string, unknown> }; label: string }) {
  const data = useMemo(() => (Array.isArray(fig.data) ? (fig.data as Trace[]) : []), [fig])
  const layout = useMemo(() => {
    const l = { ...(fig.layout ?? {}) }
    delete l.template
    delete l.width
    // the app's chart defaults leave no room above the plot: give a titled figure its title back
    if (!l.margin) l.margin = { t: l.title ? 44 : 16, l: 48, r: 16, b: 36 }
    return l
  }, [fig])
  const h = typeof fig.layout?.height === 'number' ? (fig.layout.height as number) : 360
  return <Plot data={data} layout={layout} label={`${label} plotly figure`} className="nb-plotly" height={h} />
}

export function MimeBundle({ data, label }: { data: Record<string, unknown>; label: string }) {
  const mime = MIME_ORDER.find((m) => m in data) ?? Object.keys(data)[0]
  if (!mime) return null
  const value = data[mime]
  switch (mime) {
    case 'application/vnd.plotly.v1+json':
      return <PlotlyOutput fig={(value ?? {}) as { data?: unknown[]; layout?: Record<string, unknown> }} label={label} />
    case 'text/html':
      return <HtmlOutput html={joinSource(value)} label={label} />
    case 'text/markdown':
      return <div className="nb-md" dangerouslySetInnerHTML={{ __html: renderMarkdown(joinSource(value)) }} />
    case 'text/latex':
      return <div className="nb-md nb-latex" dangerouslySetInnerHTML={{ __html: renderLatexOutput(joinSource(value)) }} />
    case 'image/png':
    case 'image/jpeg':
      return <img className="nb-img" alt={`${label} image`} src={`data:${mime};base64,${joinSource(value).replace(/\s+/g, '')}`} />
    case 'image/svg+xml':
      // as an <img>: an SVG image cannot run scripts nor load anything
      return <img className="nb-img" alt={`${label} image`} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(joinSource(value))}`} />
    case 'application/json':
      return <pre className="nb-text">{JSON.stringify(value, null, 2)}</pre>
    default:
      return <StreamText text={joinSource(value)} label={`${label} text`} />
  }
}
