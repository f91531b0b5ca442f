import { describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { bundledMigrations, openDatabase, runMigrations } from './index'

describe('app database', () => {
  it('opens in WAL mode with foreign keys on and every migration applied once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'atelier-db-')), 'a.db')
    const db = openDatabase(file)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    const ids = (db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: number }[]).map((r) => r.id)
    expect(ids).toEqual(bundledMigrations().map((m) => m.id))
    expect(runMigrations(db)).toEqual([])
    db.close()
    // reopening runs nothing new and keeps data
    const again = openDatabase(file)
    expect(runMigrations(again)).toEqual([])
    again.close()
  })

  it('rolls back a failing migration as a whole', () => {
    const db = new Database(':memory:')
    expect(() =>
      runMigrations(db, [
        { id: 1, name: 'ok', sql: 'CREATE TABLE a (x INTEGER)' },
        { id: 2, name: 'bad', sql: 'CREATE TABLE b (y INTEGER); INSERT INTO nope VALUES (1)' }
      ])
    ).toThrow()
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined()
    expect((db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id)).toEqual([1])
  })

  it('refuses a database written by a newer version', () => {
    const db = new Database(':memory:')
    runMigrations(db, [{ id: 1, name: 'ok', sql: 'SELECT 1' }])
    db.prepare("INSERT INTO schema_migrations (id, name) VALUES (99, 'future')").run()
    expect(() => runMigrations(db, [{ id: 1, name: 'ok', sql: 'SELECT 1' }])).toThrow(/unknown to this version/)
  })

  it('keeps the schema as the migrations define it', () => {
    const db = openDatabase(':memory:')
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name)
    expect(tables).toEqual([
      'api_tokens',
      'audit_events',
      'job_cloud_targets',
      'job_sweeps',
      'job_targets',
      'jobs',
      'lake_sources',
      'model_aliases',
      'model_card_snapshots',
      'model_cards',
      'model_reviews',
      'model_version_tags',
      'model_versions',
      'query_history',
      'registered_model_tags',
      'registered_models',
      'review_checklist_items',
      'review_checklist_ticks',
      'sagemaker_model_packages',
      'schema_migrations',
      'sessions',
      'settings',
      'tracking_datasets',
      'tracking_experiment_tags',
      'tracking_experiments',
      'tracking_inputs',
      'tracking_latest_metrics',
      'tracking_metric_buckets',
      'tracking_metrics',
      'tracking_params',
      'tracking_run_tags',
      'tracking_runs',
      'users',
      'workspaces'
    ])
    // the time series is stored in its primary key, and the default experiment exists
    const metrics = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'tracking_metrics'").get() as { sql: string }
    expect(metrics.sql).toMatch(/WITHOUT ROWID/)
    expect(db.prepare('SELECT experiment_id, name FROM tracking_experiments').all()).toEqual([{ experiment_id: 0, name: 'Default' }])
    // the audit trail refuses edits through the app's connection
    db.prepare("INSERT INTO audit_events (time, actor_id, actor_name, action, entity_type, entity, prev_hash, hash) VALUES (1, 'a', 'a', 'x', 'model', 'm', '', 'h')").run()
    expect(() => db.prepare("UPDATE audit_events SET comment = 'x'").run()).toThrow(/append-only/)
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/)
  })
})
