// `npm run users -- add <name> --role <role> [--data-dir D]` (password on stdin), `list`, `set-role`,
// `disable`, `enable`, `password`, `token <name>`: runs the built out/main/users.js.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { ensureBuild, ensureDeps, root } from './lib.mjs'

ensureDeps()
ensureBuild()
const child = spawn(process.execPath, [join(root, 'out', 'main', 'users.js'), ...process.argv.slice(2)], { stdio: 'inherit' })
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
