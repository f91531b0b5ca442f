import { describe, expect, it } from 'vitest'
import { isAllowedNavigation, isSafeExternalUrl, isTrustedSender, resolveAppPath } from './policy'

describe('electron policies', () => {
  it('allows navigation only within the app origin', () => {
    expect(isAllowedNavigation('app://atelier/index.html')).toBe(true)
    expect(isAllowedNavigation('app://evil/index.html')).toBe(false)
    expect(isAllowedNavigation('https://example.com/')).toBe(false)
    expect(isAllowedNavigation('file:///etc/passwd')).toBe(false)
    expect(isAllowedNavigation('not a url')).toBe(false)
  })

  it('opens only http(s) links externally', () => {
    expect(isSafeExternalUrl('https://duckdb.org/docs')).toBe(true)
    expect(isSafeExternalUrl('file:///etc/passwd')).toBe(false)
    expect(isSafeExternalUrl('javascript:alert(1)')).toBe(false)
    expect(isSafeExternalUrl('https://user:pw@host/')).toBe(false)
  })

  it('answers IPC only for the app main frame', () => {
    expect(isTrustedSender('app://atelier/index.html', true)).toBe(true)
    expect(isTrustedSender('app://atelier/index.html', false)).toBe(false)
    expect(isTrustedSender('https://example.com/', true)).toBe(false)
    expect(isTrustedSender(undefined, true)).toBe(false)
  })

  it('keeps app:// paths inside the renderer folder', () => {
    expect(resolveAppPath('/r', 'app://atelier/')).toBe('/r/index.html')
    expect(resolveAppPath('/r', 'app://atelier/assets/a.js')).toBe('/r/assets/a.js')
    expect(resolveAppPath('/r', 'app://atelier/../../etc/passwd')).toBe('/r/etc/passwd')
    expect(resolveAppPath('/r', 'app://atelier/assets/%2e%2e/%2e%2e/x')).toBe('/r/x')
    expect(resolveAppPath('/r', 'app://atelier/a%5c..%5cb')).toBeNull()
    expect(resolveAppPath('/r', 'app://other/index.html')).toBeNull()
  })
})
