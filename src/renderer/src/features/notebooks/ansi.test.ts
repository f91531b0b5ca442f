import { describe, expect, it } from 'vitest'
import { parseAnsi } from './ansi'

describe('parseAnsi', () => {
  it('keeps plain text as one unstyled segment', () => {
    expect(parseAnsi('hello\nworld').segments).toEqual([{ text: 'hello\nworld', style: null }])
  })
  it('turns SGR colours into styles and resets', () => {
    const { segments } = parseAnsi('\x1b[31mred\x1b[0m plain \x1b[1;92mbold green\x1b[39m still bold')
    expect(segments).toEqual([
      { text: 'red', style: { fg: 'var(--ansi-red)' } },
      { text: ' plain ', style: null },
      { text: 'bold green', style: { bold: true, fg: 'var(--ansi-green-bright)' } },
      { text: ' still bold', style: { bold: true } }
    ])
  })
  it('handles 256 and true colour, and drops other escapes', () => {
    const { segments } = parseAnsi('\x1b[38;5;196mA\x1b[48;2;1;2;3mB\x1b[2K\x1b]0;title\x07C')
    expect(segments.map((s) => s.text).join('')).toBe('ABC')
    expect(segments[0].style?.fg).toBe('rgb(255,0,0)')
    expect(segments[1].style?.bg).toBe('rgb(1,2,3)')
  })
  it('carries the style to the next call', () => {
    const a = parseAnsi('\x1b[34mblue')
    expect(parseAnsi(' more', a.style).segments[0].style).toEqual({ fg: 'var(--ansi-blue)' })
  })
})
