import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** Encrypts with the OS keychain (Electron safeStorage); absent in `serve` mode. */
export interface SecretCipher {
  encrypt(plain: string): Buffer
  decrypt(data: Buffer): string
}

/**
 * Secrets (cloud keys, tokens, passphrases) live here and never in SQLite. With a cipher the file
 * holds ciphertext from the OS keychain; without one (headless `serve`) it is a 0600 file that only
 * the user can read, written atomically.
 */
export class SecretStore {
  constructor(
    private readonly file: string,
    private readonly cipher?: SecretCipher
  ) {}

  private load(): Record<string, string> {
    if (!existsSync(this.file)) return {}
    return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>
  }

  private save(data: Record<string, string>): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 })
    chmodSync(tmp, 0o600)
    renameSync(tmp, this.file)
  }

  get(key: string): string | undefined {
    const v = this.load()[key]
    if (v === undefined) return undefined
    const buf = Buffer.from(v, 'base64')
    return this.cipher ? this.cipher.decrypt(buf) : buf.toString('utf8')
  }

  set(key: string, value: string): void {
    const data = this.load()
    data[key] = (this.cipher ? this.cipher.encrypt(value) : Buffer.from(value, 'utf8')).toString('base64')
    this.save(data)
  }

  delete(key: string): void {
    const data = this.load()
    if (!(key in data)) return
    delete data[key]
    this.save(data)
  }
}
