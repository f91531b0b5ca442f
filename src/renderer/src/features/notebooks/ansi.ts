/**
 * ANSI SGR escapes (colours, bold, italic, underline) to styled segments, as terminals and Jupyter
 * show them. Other escapes are dropped. The state carries across lines within one call.
 */
export interface AnsiStyle {
  fg?: string
  bg?: string
  bold?: boolean
  italic?: boolean
  underline?: boolean
}
export interface AnsiSegment {
  text: string
  style: AnsiStyle | null
}

const BASE = ['ansi-black', 'ansi-red', 'ansi-green', 'ansi-yellow', 'ansi-blue', 'ansi-magenta', 'ansi-cyan', 'ansi-white']
// eslint-disable-next-line no-control-regex
const ESC = /\x1b\[([0-9;?]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g

function color256(n: number): string {
  if (n < 8) return `var(--${BASE[n]})`
  if (n < 16) return `var(--${BASE[n - 8]}-bright)`
  if (n < 232) {
    const v = n - 16
    const c = (x: number) => (x ? 55 + x * 40 : 0)
    return `rgb(${c(Math.floor(v / 36))},${c(Math.floor(v / 6) % 6)},${c(v % 6)})`
  }
  const g = 8 + (n - 232) * 10
  return `rgb(${g},${g},${g})`
}

function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const s = { ...style }
  if (!params.length) params = [0]
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    if (p === 0) {
      delete s.fg
      delete s.bg
      delete s.bold
      delete s.italic
      delete s.underline
    } else if (p === 1) s.bold = true
    else if (p === 3) s.italic = true
    else if (p === 4) s.underline = true
    else if (p === 22) delete s.bold
    else if (p === 23) delete s.italic
    else if (p === 24) delete s.underline
    else if (p >= 30 && p <= 37) s.fg = `var(--${BASE[p - 30]})`
    else if (p >= 90 && p <= 97) s.fg = `var(--${BASE[p - 90]}-bright)`
    else if (p >= 40 && p <= 47) s.bg = `color-mix(in srgb, var(--${BASE[p - 40]}) 35%, transparent)`
    else if (p >= 100 && p <= 107) s.bg = `color-mix(in srgb, var(--${BASE[p - 100]}-bright) 35%, transparent)`
    else if (p === 39) delete s.fg
    else if (p === 49) delete s.bg
    else if ((p === 38 || p === 48) && params[i + 1] === 5 && params[i + 2] !== undefined) {
      s[p === 38 ? 'fg' : 'bg'] = color256(params[i + 2])
      i += 2
    } else if ((p === 38 || p === 48) && params[i + 1] === 2 && params[i + 4] !== undefined) {
      s[p === 38 ? 'fg' : 'bg'] = `rgb(${params[i + 2]},${params[i + 3]},${params[i + 4]})`
      i += 4
    }
  }
  return s
}

const isPlain = (s: AnsiStyle) => !s.fg && !s.bg && !s.bold && !s.italic && !s.underline

export function parseAnsi(text: string, initial: AnsiStyle = {}): { segments: AnsiSegment[]; style: AnsiStyle } {
  const segments: AnsiSegment[] = []
  let style = initial
  let last = 0
  ESC.lastIndex = 0
  for (let m = ESC.exec(text); m; m = ESC.exec(text)) {
    if (m.index > last) segments.push({ text: text.slice(last, m.index), style: isPlain(style) ? null : style })
    last = ESC.lastIndex
    if (m[3] === 'm' && !m[2]) style = applySgr(style, m[1] ? m[1].split(';').map((x) => Number(x) || 0) : [])
  }
  if (last < text.length) segments.push({ text: text.slice(last), style: isPlain(style) ? null : style })
  return { segments, style }
}

export function hasAnsi(text: string): boolean {
  return text.includes('\x1b')
}
