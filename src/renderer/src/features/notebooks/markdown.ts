import DOMPurify from 'dompurify'
import katex from 'katex'
import 'katex/dist/katex.min.css'
import { marked } from 'marked'

/**
 * Markdown as Jupyter renders it: GitHub-flavoured markdown, `$…$` and `$$…$$` math with KaTeX,
 * everything sanitized (no scripts, no event handlers, no javascript: URLs).
 */
export interface MathPiece {
  tex: string
  display: boolean
}

/** Pulls math out of markdown (leaving code spans and fences alone); returns text with placeholders. */
export function extractMath(src: string): { text: string; math: MathPiece[] } {
  const math: MathPiece[] = []
  let out = ''
  let i = 0
  const hold = (tex: string, display: boolean) => {
    math.push({ tex, display })
    return `KATEXMATH${math.length - 1}X`
  }
  while (i < src.length) {
    const ch = src[i]
    if (ch === '\\' && src[i + 1] === '$') {
      out += '\\$'
      i += 2
      continue
    }
    if (ch === '`') {
      const fence = /^`+/.exec(src.slice(i))![0]
      const close = src.indexOf(fence, i + fence.length)
      if (close < 0) {
        out += src.slice(i)
        break
      }
      out += src.slice(i, close + fence.length)
      i = close + fence.length
      continue
    }
    if (ch === '$' && src[i + 1] === '$') {
      const close = src.indexOf('$$', i + 2)
      if (close > i + 2) {
        out += hold(src.slice(i + 2, close).trim(), true)
        i = close + 2
        continue
      }
    } else if (ch === '$' && src[i + 1] && !/\s/.test(src[i + 1])) {
      let j = i + 1
      while (j < src.length && src[j] !== '$' && !(src[j] === '\n' && src[j + 1] === '\n')) j += src[j] === '\\' ? 2 : 1
      if (src[j] === '$' && !/\s/.test(src[j - 1]) && !/\d/.test(src[j + 1] ?? '')) {
        out += hold(src.slice(i + 1, j), false)
        i = j + 1
        continue
      }
    }
    out += ch
    i++
  }
  return { text: out, math }
}

export function renderTex(tex: string, display: boolean): string {
  return katex.renderToString(tex, { displayMode: display, throwOnError: false, trust: false, output: 'htmlAndMathml', strict: 'ignore' })
}

export function sanitize(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true, svg: true, svgFilters: true, mathMl: true }, FORBID_TAGS: ['style', 'form'], FORBID_ATTR: ['style'] })
}

/** `attachment:name` image links (nbformat cell attachments) as data URLs. */
export function inlineAttachments(src: string, attachments: Record<string, Record<string, unknown>> | undefined): string {
  if (!attachments || !src.includes('attachment:')) return src
  return src.replace(/attachment:([^\s)"'>]+)/g, (whole, name: string) => {
    const bundle = attachments[decodeURIComponent(name)]
    const mime = bundle && Object.keys(bundle).find((m) => m.startsWith('image/'))
    if (!mime) return whole
    const v = bundle[mime]
    const b64 = (Array.isArray(v) ? v.join('') : String(v)).replace(/\s+/g, '')
    return `data:${mime};base64,${b64}`
  })
}

export function renderMarkdown(src: string, attachments?: Record<string, Record<string, unknown>>): string {
  const { text, math } = extractMath(inlineAttachments(src, attachments))
  const html = sanitize(marked.parse(text, { async: false, gfm: true, breaks: false }) as string)
  // KaTeX's own output is trusted (trust: false: no \href, \url or raw HTML from the source)
  return math.length ? html.replace(/KATEXMATH(\d+)X/g, (_, n: string) => (math[Number(n)] ? renderTex(math[Number(n)].tex, math[Number(n)].display) : '')) : html
}

/** text/latex output: usually `$$…$$`, `\[…\]` or `$…$`; rendered as display math. */
export function renderLatexOutput(src: string): string {
  const t = src.trim()
  const m = /^\$\$([\s\S]*)\$\$$/.exec(t) ?? /^\\\[([\s\S]*)\\\]$/.exec(t) ?? /^\$([\s\S]*)\$$/.exec(t)
  if (m) return renderTex(m[1].trim(), true)
  // prose with inline math
  return renderMarkdown(t)
}
