import type { AppDatabase } from '../../db'

/** Key/value settings stored as JSON in the app database. */
export class SettingsService {
  constructor(private readonly db: AppDatabase) {}

  get<T = unknown>(key: string, fallback?: T): T | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined
    return row ? (JSON.parse(row.value) as T) : fallback
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
