import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { sqliteOptions } from './native'

export type AppDatabase = Database.Database

export interface Migration {
  id: number
  name: string
  sql: string
}

const files = import.meta.glob('./migrations/*.sql', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>

/** Migrations shipped with the app: `<id>_<name>.sql`, ordered by id. */
export function bundledMigrations(): Migration[] {
  return Object.entries(files)
    .map(([file, sql]) => {
      const m = /\/(\d+)_([A-Za-z0-9_]+)\.sql$/.exec(file)
      if (!m) throw new Error(`Bad migration file name: ${file}`)
      return { id: Number(m[1]), name: m[2], sql }
    })
    .sort((a, b) => a.id - b.id)
}

/**
 * Numbered, forward-only migrations, each in its own transaction. A database that has a
 * migration this build does not know (a newer app wrote it) or a name mismatch refuses to open.
 */
export function runMigrations(db: AppDatabase, migrations: Migration[] = bundledMigrations()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`)
  const applied = db.prepare('SELECT id, name FROM schema_migrations ORDER BY id').all() as { id: number; name: string }[]
  const known = new Map(migrations.map((m) => [m.id, m]))
  for (const a of applied) {
    const m = known.get(a.id)
    if (!m) throw new Error(`Database has migration ${a.id}_${a.name}, unknown to this version of Atelier`)
    if (m.name !== a.name) throw new Error(`Migration ${a.id} is ${a.name} in the database but ${m.name} in this build`)
  }
  const done = new Set(applied.map((a) => a.id))
  const ran: number[] = []
  const record = db.prepare('INSERT INTO schema_migrations (id, name) VALUES (?, ?)')
  for (const m of migrations) {
    if (done.has(m.id)) continue
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.id, m.name)
    })()
    ran.push(m.id)
  }
  return ran
}

/**
 * The database holds tokens' hashes, tracking data and settings: only its owner may read it. The file is
 * created 0600 before SQLite opens it (SQLite gives its -wal/-shm files the main file's mode), and an
 * older, wider file is narrowed.
 */
function privateFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600))
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
}

export function openDatabase(file: string): AppDatabase {
  if (file !== ':memory:') privateFile(file)
  const db = new Database(file, sqliteOptions({}))
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  runMigrations(db)
  return db
}
