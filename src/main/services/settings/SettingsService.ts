import type { AppDatabase } from '../../db'
import { AppError } from '../../../shared/errors'

/** Largest value a caller may store through `settings.set`, serialized. */
export const MAX_SETTING_BYTES = 1024 * 1024

/** Key/value settings stored as JSON in the app database. */
export class SettingsService {
  constructor(private readonly db: AppDatabase) {}

  get<T = unknown>(key: string, fallback?: T): T | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined
    return row ? (JSON.parse(row.value) as T) : fallback
  }

  /** `settings.set` from a caller: values over MAX_SETTING_BYTES (as JSON) are refused with TOO_LARGE. */
  setFromCaller(key: string, value: unknown): void {
    const text = JSON.stringify(value ?? null)
    const bytes = Buffer.byteLength(text)
    if (bytes > MAX_SETTING_BYTES) {
      throw new AppError('TOO_LARGE', `The value for setting '${key}' is ${bytes} bytes as JSON; settings hold at most ${MAX_SETTING_BYTES} bytes (1 MiB).`, {
        bytes,
        limit: MAX_SETTING_BYTES
      })
    }
    this.set(key, value)
  }

  set(key: string, value: unknown): void {
    const text = JSON.stringify(value ?? null)
    this.db
      .prepare(
        `INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
      )
      .run(key, text)
  }
}
