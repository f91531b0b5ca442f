import { defineConfig } from '@playwright/test'
import { CHROMIUM, CHROMIUM_ARGS } from './e2e/support'

/**
 * `web`: the UI in Debian's Chromium against `serve` (runs everywhere).
 * `electron`: a smoke test of the desktop build (skips where the Electron binary is missing).
 */
export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  outputDir: 'out/test-results/playwright',
  use: {
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure'
  },
  projects: [
    {
      name: 'web',
      testMatch: /web\/.*\.spec\.ts/,
      use: { browserName: 'chromium', viewport: { width: 1440, height: 900 }, launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } }
    },
    { name: 'electron', testMatch: /electron\/.*\.spec\.ts/ }
  ]
})
