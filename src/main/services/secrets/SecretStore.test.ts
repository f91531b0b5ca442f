import { describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SecretStore } from './SecretStore'

describe('SecretStore', () => {
  it('keeps secrets in a 0600 file, never in the app database', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'atelier-sec-')), 'secrets.json')
    const s = new SecretStore(file)
    s.set('k', 'hunter2')
    expect(s.get('k')).toBe('hunter2')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    s.delete('k')
    expect(s.get('k')).toBeUndefined()
  })

  it('stores only ciphertext when the OS keychain cipher is available', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'atelier-sec-')), 'secrets.json')
    const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a))
    const s = new SecretStore(file, { encrypt: (p) => xor(Buffer.from(p)), decrypt: (b) => xor(b).toString() })
    s.set('token', 'plain-token-value')
    expect(readFileSync(file, 'utf8')).not.toContain(Buffer.from('plain-token-value').toString('base64'))
    expect(s.get('token')).toBe('plain-token-value')
  })
})
