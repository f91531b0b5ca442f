import { describe, expect, it } from 'vitest'
import { extractMath, inlineAttachments, renderTex } from './markdown'

describe('extractMath', () => {
  it('pulls inline and display math out', () => {
    const r = extractMath('Euler: $e^{i\\pi}+1=0$ and\n$$\\int_0^1 x\\,dx$$')
    expect(r.text).toBe('Euler: KATEXMATH0X and\nKATEXMATH1X')
    expect(r.math).toEqual([
      { tex: 'e^{i\\pi}+1=0', display: false },
      { tex: '\\int_0^1 x\\,dx', display: true }
    ])
  })
  it('leaves prices, escaped dollars and code alone', () => {
    expect(extractMath('costs $5 and $6').math).toEqual([])
    expect(extractMath('a \\$x\\$ b').math).toEqual([])
    expect(extractMath('`$x$` and ```\n$$y$$\n```').math).toEqual([])
  })
})

describe('renderTex', () => {
  it('renders KaTeX markup, and errors inline instead of throwing', () => {
    expect(renderTex('x^2', false)).toContain('class="katex"')
    expect(renderTex('\\frac{', false)).toContain('katex-error')
  })
})

describe('inlineAttachments', () => {
  it('turns attachment: links into data URLs and leaves unknown names alone', () => {
    const att = { 'a.png': { 'image/png': 'iVBORw0KGgo=\n' } }
    expect(inlineAttachments('![x](attachment:a.png) ![y](attachment:b.png)', att)).toBe('![x](data:image/png;base64,iVBORw0KGgo=) ![y](attachment:b.png)')
  })
})
