import { describe, expect, it } from 'vitest'
import type { InterpreterInfo } from '../../../../shared/api'
import { groupInterpreters } from './interpreters'

const interp = (path: string, source: InterpreterInfo['source'], usable: boolean): InterpreterInfo => ({
  path,
  realPath: path,
  source,
  version: '3.11.2',
  jupyterServer: usable,
  notebook: false,
  ipykernel: usable,
  usable
})

describe('the interpreter picker', () => {
  it('lists usable interpreters first and puts the ones needing packages in their own group', () => {
    const list = [
      ...Array.from({ length: 10 }, (_, i) => interp(`/root/.pyenv/versions/3.${i}/bin/python`, 'pyenv', false)),
      interp('/usr/bin/python3', 'system', true),
      interp('/ws/.venv/bin/python', 'workspace-venv', true),
      interp('/usr/local/bin/python3', 'path', false)
    ]
    const { usable, other } = groupInterpreters(list)
    expect(usable.map((i) => i.path)).toEqual(['/ws/.venv/bin/python', '/usr/bin/python3'])
    expect(other).toHaveLength(11)
    expect(other[0].path).toBe('/usr/local/bin/python3')
    expect(other.every((i) => !i.usable)).toBe(true)
  })
})
