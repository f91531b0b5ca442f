/** Test harness: tracking + registry + audit over a real SQLite file, with both REST APIs on a loopback port. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Events } from '../../../shared/api'
import type { Principal } from '../../../shared/auth'
import { openDatabase, type AppDatabase } from '../../db'
import { DomainEventBus, type DomainEvents } from '../../domainEvents'
import { silentLogger } from '../../log'
import { AuditLog } from '../audit/AuditLog'
import { TrackingHttpServer } from '../tracking/TrackingHttpServer'
import { mlflowApi } from '../tracking/testing'
import { TrackingService } from '../tracking/TrackingService'
import { RegistryService } from './RegistryService'
import { createRegistryRest } from './rest'

export const alice: Principal = Object.freeze({ id: 'u-alice', name: 'alice', role: 'scientist', via: 'session' })
export const bob: Principal = Object.freeze({ id: 'u-bob', name: 'bob', role: 'reviewer', via: 'session' })
export const carol: Principal = Object.freeze({ id: 'u-carol', name: 'carol', role: 'reviewer', via: 'session' })

export interface RegistryHarness {
  root: string
  dataDir: string
  policyDir: string
  db: AppDatabase
  tracking: TrackingService
  audit: AuditLog
  domain: DomainEventBus
  registry: RegistryService
  changed: Events['registry.changed'][]
  approved: DomainEvents['model_version.approved'][]
  server: TrackingHttpServer
  /** Creates a run with metrics/params and an MLflow model folder `model/` in its artifacts. */
  makeRun(o?: { metrics?: Record<string, number>; params?: Record<string, string>; tags?: Record<string, string>; files?: Record<string, string> }): string
  /** Registers a new version from a fresh run. */
  register(name: string, o?: { metrics?: Record<string, number>; actor?: Principal; riskTier?: 'low' | 'medium' | 'high' }): Promise<{ version: number; revision: number; runId: string }>
  policy(file: string, yaml: string): void
  api(method: string, endpoint: string, body?: Record<string, unknown>): Promise<{ status: number; body: any }>
  cleanup(): Promise<void>
}

export async function createRegistryHarness(): Promise<RegistryHarness> {
  const root = mkdtempSync(join(tmpdir(), 'atelier-registry-'))
  const dataDir = join(root, 'data')
  const policyDir = join(dataDir, 'policies')
  const db = openDatabase(join(dataDir, 'atelier.db'))
  const changed: Events['registry.changed'][] = []
  const approved: DomainEvents['model_version.approved'][] = []
  const emit = (event: string, payload: unknown) => {
    if (event === 'registry.changed') changed.push(payload as Events['registry.changed'])
  }
  const tracking = new TrackingService({ db, dataDir, log: silentLogger, emit })
  const audit = new AuditLog(db)
  const domain = new DomainEventBus(silentLogger)
  domain.on('model_version.approved', (e) => approved.push(e))
  const registry = new RegistryService({ db, audit, tracking, domain, emit, log: silentLogger, policyDirs: () => [policyDir] })
  const server = await TrackingHttpServer.start({ tracking, log: silentLogger, mounts: [createRegistryRest(registry, silentLogger)] })

  function makeRun(o: { metrics?: Record<string, number>; params?: Record<string, string>; tags?: Record<string, string>; files?: Record<string, string> } = {}) {
    const run = tracking.runs.create({ experimentId: '0', runName: 'train' })
    const runId = run.info.run_id
    const now = Date.now()
    tracking.runs.logBatch(
      runId,
      Object.entries(o.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
      Object.entries(o.params ?? {}).map(([key, value]) => ({ key, value })),
      Object.entries(o.tags ?? {}).map(([key, value]) => ({ key, value }))
    )
    const dir = join(dataDir, 'artifacts', tracking.runArtifactDir(tracking.runs.require(runId))!)
    const files = { 'model/MLmodel': 'flavors: {}\n', 'model/model.pkl': 'x', ...(o.files ?? {}) }
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true })
      writeFileSync(join(dir, rel), text)
    }
    return runId
  }

  return {
    root,
    dataDir,
    policyDir,
    db,
    tracking,
    audit,
    domain,
    registry,
    changed,
    approved,
    server,
    makeRun,
    async register(name, o = {}) {
      const runId = makeRun({ metrics: o.metrics ?? { accuracy: 0.95 } })
      const v = await registry.createVersionFromRun({ name, runId, artifactPath: 'model', createModel: true }, o.actor ?? alice)
      let revision = v.revision
      if (o.riskTier) revision = (await registry.cards.save(name, v.version, { riskTier: o.riskTier }, o.actor ?? alice)).revision
      return { version: v.version, revision, runId }
    },
    policy(file, yaml) {
      mkdirSync(policyDir, { recursive: true })
      writeFileSync(join(policyDir, file), yaml)
    },
    api: mlflowApi(server.url, server.token),
    async cleanup() {
      await server.close()
      tracking.dispose()
      db.close()
      rmSync(root, { recursive: true, force: true })
    }
  }
}
