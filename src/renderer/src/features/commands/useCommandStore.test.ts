import { describe, expect, it } from 'vitest'
import { matchesShortcut } from './useCommandStore'

const ev = (key: string, code: string, m: { ctrl?: boolean; meta?: boolean; alt?: boolean; shift?: boolean } = {}) => ({
  key,
  code,
  ctrlKey: !!m.ctrl,
  metaKey: !!m.meta,
  altKey: !!m.alt,
  shiftKey: !!m.shift
})

describe('matchesShortcut', () => {
  it('matches letters by physical key with exactly the named modifiers', () => {
    expect(matchesShortcut(ev('Q', 'KeyQ', { alt: true, shift: true }), 'Alt+Shift+Q')).toBe(true)
    // macOS Option+Shift+Q types "Œ"
    expect(matchesShortcut(ev('Œ', 'KeyQ', { alt: true, shift: true }), 'Alt+Shift+Q')).toBe(true)
    expect(matchesShortcut(ev('q', 'KeyQ', { alt: true }), 'Alt+Shift+Q')).toBe(false)
    expect(matchesShortcut(ev('Q', 'KeyQ', { alt: true, shift: true, ctrl: true }), 'Alt+Shift+Q')).toBe(false)
  })
  it('matches digits, named keys and the platform modifier', () => {
    expect(matchesShortcut(ev('!', 'Digit1', { alt: true, shift: true }), 'Alt+Shift+1')).toBe(true)
    expect(matchesShortcut(ev('Enter', 'Enter', { ctrl: true }), 'Ctrl+Enter')).toBe(true)
    expect(matchesShortcut(ev('Enter', 'Enter', { meta: true }), '⌘+Enter')).toBe(true)
    expect(matchesShortcut(ev('Enter', 'Enter', { alt: true, shift: true }), 'Alt+Shift+Enter')).toBe(true)
    expect(matchesShortcut(ev('Enter', 'Enter'), 'Ctrl+Enter')).toBe(false)
  })
})
