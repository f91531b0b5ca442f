// `npm run serve -- [--host H] [--port P] [--token T | --token-file F] [--allowed-host N]… [--data-dir D] [--workspace W]`
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { ensureBuild, ensureDeps, root } from './lib.mjs'

ensureDeps()
ensureBuild()
export function serve(args) {
  const child = spawn(process.execPath, [join(root, 'out', 'main', 'serve.js'), ...args], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)))
}
if (process.argv[1] && process.argv[1].endsWith('serve.mjs')) serve(process.argv.slice(2))
