// `npm test`: installs what it needs, then typecheck, unit + integration (vitest), build, e2e (Playwright).
// Ends with one summary line: `tests: N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBuild, ensureDeps, root } from './lib.mjs'

ensureDeps()
if (!existsSync('/usr/bin/chromium') && !process.env.ATELIER_CHROMIUM) {
  const r = spawnSync('bash', [join(root, 'scripts', 'setup-system.sh')], { stdio: 'inherit' })
  if (r.status !== 0) console.error('atelier: Chromium is missing; browser e2e tests will fail')
}
const results = join(root, 'out', 'test-results')
rmSync(results, { recursive: true, force: true })
mkdirSync(results, { recursive: true })
const bin = (name) => join(root, 'node_modules', '.bin', name)
let failedSteps = []
const tally = { passed: 0, failed: 0, skipped: 0 }

function step(name, cmd, args, env = {}) {
  console.log(`\n=== ${name} ===`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
  if (r.status !== 0) failedSteps.push(name)
  return r.status === 0
}

if (step('typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'])) tally.passed++
else tally.failed++

const vitestJson = join(results, 'vitest.json')
step('unit and integration tests (vitest)', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`])
if (existsSync(vitestJson)) {
  const v = JSON.parse(readFileSync(vitestJson, 'utf8'))
  tally.passed += v.numPassedTests
  tally.failed += v.numFailedTests
  tally.skipped += v.numPendingTests + (v.numTodoTests ?? 0)
} else tally.failed++

console.log('\n=== build ===')
ensureBuild()

const pwJson = join(results, 'playwright.json')
step('end-to-end tests (Playwright)', bin('playwright'), ['test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson })
if (existsSync(pwJson)) {
  const p = JSON.parse(readFileSync(pwJson, 'utf8'))
  tally.passed += p.stats.expected + (p.stats.flaky ?? 0)
  tally.failed += p.stats.unexpected
  tally.skipped += p.stats.skipped
} else tally.failed++

console.log('')
if (failedSteps.length) console.log(`failed steps: ${failedSteps.join(', ')}`)
console.log(`tests: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`)
process.exit(failedSteps.length || tally.failed ? 1 : 0)
