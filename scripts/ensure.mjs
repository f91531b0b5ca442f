// `node scripts/ensure.mjs [--build]`: dependencies installed, and optionally the app built.
import { ensureBuild, ensureDeps } from './lib.mjs'
ensureDeps()
if (process.argv.includes('--build')) ensureBuild()
