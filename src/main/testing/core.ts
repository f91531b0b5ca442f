import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createCore, type Core } from '../core'
import { silentLogger } from '../log'

export const FLIGHTS = resolve(__dirname, '../../../node_modules/vega-datasets/data/flights-3m.parquet')
/** A closed port on loopback: INSTALL attempts fail at once and nothing leaves the machine. */
export const OFFLINE_EXTENSION_REPO = 'http://127.0.0.1:9'

export interface TestCore extends Core {
  dataDir: string
  workspaceDir: string
  cleanup(): Promise<void>
}

/** A real core (real SQLite file, real DuckDB) in a temp folder. */
export async function createTestCore(): Promise<TestCore> {
  const root = mkdtempSync(join(tmpdir(), 'atelier-test-'))
  const dataDir = join(root, 'data')
  const workspaceDir = join(root, 'ws')
  const core = await createCore({
    dataDir,
    workspace: workspaceDir,
    mode: 'test',
    log: silentLogger,
    extensionRepository: OFFLINE_EXTENSION_REPO
  })
  return Object.assign(core, {
    dataDir,
    workspaceDir,
    async cleanup() {
      await core.dispose()
      rmSync(root, { recursive: true, force: true })
    }
  })
}
