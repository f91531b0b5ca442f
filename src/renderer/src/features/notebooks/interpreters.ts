import type { InterpreterInfo } from '../../../../shared/api'

/** What an interpreter lacks to run a local Jupyter server, and the exact command that installs it. */
export function missingPackages(i: InterpreterInfo): string[] {
  const miss: string[] = []
  if (!i.jupyterServer && !i.notebook) miss.push('jupyter_server')
  if (!i.ipykernel) miss.push('ipykernel')
  return miss
}

export function installHint(i: InterpreterInfo): string | null {
  const miss = missingPackages(i)
  if (!miss.length) return null
  if (i.source === 'system' && i.path.startsWith('/usr/bin/')) {
    const debs = miss.map((m) => (m === 'jupyter_server' ? 'python3-jupyter-server' : 'python3-ipykernel'))
    return `sudo apt install ${debs.join(' ')}`
  }
  return `${i.path} -m pip install ${miss.join(' ')}`
}

export function describeInterpreter(i: InterpreterInfo): string {
  const has = (ok: boolean, name: string) => `${name} ${ok ? '✓' : '✗'}`
  return [
    i.version ? `Python ${i.version}` : 'version unknown',
    i.source,
    has(i.jupyterServer || i.notebook, 'jupyter'),
    has(i.ipykernel, 'ipykernel')
  ].join(' · ')
}

/**
 * The picker's order: interpreters that can run a kernel first (the selected one among them, then by
 * source), the ones that need packages after them, in their own group.
 */
export function groupInterpreters(list: InterpreterInfo[]): { usable: InterpreterInfo[]; other: InterpreterInfo[] } {
  const rank: Record<InterpreterInfo['source'], number> = { 'workspace-venv': 0, conda: 1, path: 2, system: 3, pyenv: 4 }
  const order = (a: InterpreterInfo, b: InterpreterInfo) => rank[a.source] - rank[b.source] || a.path.localeCompare(b.path)
  return { usable: list.filter((i) => i.usable).sort(order), other: list.filter((i) => !i.usable).sort(order) }
}
