import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { NotebookService } from './NotebookService'
import { parseNotebook, serializeNotebook } from './nbformat'
import { formatNumber, splitLines } from './json'

const root = mkdtempSync(join(tmpdir(), 'atelier-nb-'))
const service = new NotebookService({ workspace: { path: root }, log: silentLogger })
const PY = '/usr/bin/python3'
const hasNbformat = (() => {
  try {
    execFileSync(PY, ['-c', 'import nbformat'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** Real notebooks written by Jupyter's own writer (nbformat.write, as Jupyter saves), plus an edited copy of each. */
const GENERATE = String.raw`
import base64, io, json, sys, nbformat
from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell, new_raw_cell, new_output
out = sys.argv[1]
try:
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(2, 1)); ax.plot([1, 3, 2]); buf = io.BytesIO(); fig.savefig(buf, format='png')
    png = base64.b64encode(buf.getvalue()).decode() + '\n'
except Exception:
    png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\n'
nbs = {}
nb = new_notebook(metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'},
  'language_info': {'name': 'python', 'version': '3.11.2', 'codemirror_mode': {'name': 'ipython', 'version': 3}},
  'widgets': {'application/vnd.jupyter.widget-state+json': {'state': {}, 'version_major': 2, 'version_minor': 0}},
  'zz_custom': {'b': 1, 'a': [1, 2, {'c': None}], 'ratio': 0.1, 'tiny': 1e-05, 'big': 1.5e+16}})
nb.cells = [
  new_markdown_cell('# Données 📊\nUnicode: 日本語, émoji 🎉, «quotes», tab\there', metadata={'tags': ['intro']}),
  new_code_cell('x = 1\nprint(x)\n', execution_count=1, outputs=[new_output('stream', name='stdout', text='1\n2\n')]),
  new_code_cell('x / 3', execution_count=2, outputs=[new_output('execute_result', execution_count=2,
     data={'text/plain': '0.3333333333333333', 'text/html': '<b>0.33</b>\n<i>x</i>'}, metadata={})]),
  new_code_cell('plot()', execution_count=3, outputs=[new_output('display_data',
     data={'image/png': png, 'text/plain': '<Figure size 200x100 with 1 Axes>'}, metadata={'needs_background': 'light'}),
     new_output('display_data', data={'application/json': {'a': [1, 2.5, 'é']}, 'application/vnd.custom+json': {'k': 'v'}}, metadata={})]),
  new_code_cell('1/0', execution_count=4, outputs=[new_output('error', ename='ZeroDivisionError', evalue='division by zero',
     traceback=['\x1b[0;31m---------\x1b[0m', 'ZeroDivisionError: division by zero'])]),
  new_code_cell('', execution_count=None),
  new_raw_cell('raw\ntext', metadata={'format': 'text/x-rst'}),
]
md = new_markdown_cell('![img](attachment:a.png)')
md['attachments'] = {'a.png': {'image/png': png}}
nb.cells.append(md)
nbs['rich'] = nb
nbs['empty'] = new_notebook()
nb2 = new_notebook(metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}})
nb2.cells = [new_code_cell('for i in range(3):\n    print(i)', execution_count=7,
  outputs=[new_output('stream', name='stdout', text='0\n1\n2\n'), new_output('stream', name='stderr', text='warning\r\n')])]
nbs['loops'] = nb2
for name, nb in nbs.items():
    with open(f'{out}/{name}.ipynb', 'w', encoding='utf-8') as f: nbformat.write(nb, f)
    edited = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    edited.cells.append(new_code_cell('y = 2\nprint(y)\n', execution_count=None))
    edited.cells[-1]['id'] = 'edited-cell'
    with open(f'{out}/{name}.edited.ipynb', 'w', encoding='utf-8') as f: nbformat.write(edited, f)
`

const NAMES = ['rich', 'empty', 'loops']

beforeAll(() => {
  if (hasNbformat) execFileSync(PY, ['-c', GENERATE, root])
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe.skipIf(!hasNbformat)('notebooks written by Jupyter (nbformat.write from /usr/bin/python3)', () => {
  it('re-serializes every one byte for byte, with and without the on-disk guide', () => {
    for (const name of NAMES) {
      const text = readFileSync(join(root, `${name}.ipynb`), 'utf8')
      const parsed = parseNotebook(text)
      expect(serializeNotebook(parsed.notebook, parsed)).toBe(text)
      if (name !== 'rich') expect(serializeNotebook(parsed.notebook)).toBe(text)
    }
  })

  it('open + save without edits changes no byte (and does not rewrite the file)', async () => {
    for (const name of NAMES) {
      const file = join(root, `${name}.ipynb`)
      const before = readFileSync(file)
      const mtime = statSync(file).mtimeMs
      const doc = await service.open(file)
      const r = await service.save(file, JSON.parse(JSON.stringify(doc.notebook)), { expectedHash: doc.hash })
      expect(r.written).toBe(false)
      expect(r.hash).toBe(doc.hash)
      expect(readFileSync(file).equals(before)).toBe(true)
      expect(statSync(file).mtimeMs).toBe(mtime)
    }
  })

  it('an edit is written exactly as Jupyter writes it (new cell with a string source)', async () => {
    for (const name of NAMES) {
      const file = join(root, `${name}.ipynb`)
      const doc = await service.open(file)
      doc.notebook.cells.push({ cell_type: 'code', id: 'edited-cell', source: 'y = 2\nprint(y)\n', metadata: {}, outputs: [], execution_count: null })
      const r = await service.save(file, doc.notebook, { expectedHash: doc.hash })
      expect(r.written).toBe(true)
      expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(root, `${name}.edited.ipynb`), 'utf8'))
      expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([])
    }
  })
})

describe('notebooks: preservation, validation and the changed-on-disk check', () => {
  const foreign = `{
  "nbformat_minor": 2,
  "nbformat": 4,
  "metadata": {"z": 1.0, "a": "caf\\u00e9", "1": "numeric key"},
  "cells": [
    {"cell_type": "markdown", "metadata": {}, "source": "one line\\nstill a string", "id": "m1"},
    {"cell_type": "code", "metadata": {"x": 2.50}, "source": ["a = 1"], "outputs": [], "execution_count": null, "id": "c1", "extra": {"keep": true}}
  ]
}
`
  it('keeps a foreign layout: key order, number and string spellings, string sources, unknown keys', async () => {
    const file = join(root, 'foreign.ipynb')
    writeFileSync(file, foreign)
    const doc = await service.open(file)
    expect(doc.notebook.metadata.z).toBe(1)
    expect(doc.notebook.cells[1].extra).toEqual({ keep: true })
    const parsed = parseNotebook(foreign)
    const again = serializeNotebook(parsed.notebook, parsed)
    // Layout follows Jupyter (indent from the file, one key per line) but every value keeps its spelling.
    expect(again).toContain('"z": 1.0')
    expect(again).toContain('"a": "caf\\u00e9"')
    expect(again).toContain('"x": 2.50')
    expect(again).toContain('"source": "one line\\nstill a string"')
    expect(again.indexOf('"nbformat_minor"')).toBeLessThan(again.indexOf('"cells"'))
    expect(again.indexOf('"z"')).toBeLessThan(again.indexOf('"1"'))
    // Moving a cell keeps its preserved spellings (matched by cell id).
    const moved = { ...parsed.notebook, cells: [parsed.notebook.cells[1], parsed.notebook.cells[0]] }
    expect(serializeNotebook(moved, parsed)).toContain('"x": 2.50')
  })

  it('formats numbers and lines as Python does', () => {
    expect([1, 0.1, 1e-5, 0.0001, 1.5e16, 123.456, -2.5e-7, 1e22].map(formatNumber)).toEqual([
      '1', '0.1', '1e-05', '0.0001', '1.5e+16', '123.456', '-2.5e-07', '1e+22'
    ])
    expect(splitLines('a\nb\r\nc\rd')).toEqual(['a\n', 'b\r\n', 'c\r', 'd'])
    expect(splitLines('')).toEqual([])
  })

  it('refuses a malformed file with NOTEBOOK_INVALID and leaves it untouched', async () => {
    const cases: [string, RegExp][] = [
      ['{"cells": [', /not valid JSON/],
      ['{"cells": [], "metadata": {}, "nbformat": 3, "nbformat_minor": 0}', /nbformat 3/],
      ['{"cells": [{"cell_type": "code", "source": 1, "metadata": {}, "outputs": [], "execution_count": null}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', /cells\.0\.source/],
      ['{"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [{"output_type": "nope"}], "execution_count": null}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', /outputs/]
    ]
    for (const [i, [text, msg]] of cases.entries()) {
      const file = join(root, `bad${i}.ipynb`)
      writeFileSync(file, text)
      const mtime = statSync(file).mtimeMs
      const err = await service.open(file).catch((e) => e)
      expect(err.code).toBe('NOTEBOOK_INVALID')
      expect(err.message).toMatch(msg)
      expect(readFileSync(file, 'utf8')).toBe(text)
      expect(statSync(file).mtimeMs).toBe(mtime)
      const saveErr = await service.save(file, JSON.parse('{"cells": 1}'), { force: true }).catch((e) => e)
      expect(saveErr.code).toBe('NOTEBOOK_INVALID')
      expect(saveErr.details.issues[0].path).toBe('cells')
      expect(readFileSync(file, 'utf8')).toBe(text)
    }
    const first = await service.open(join(root, 'bad0.ipynb')).catch((e) => e)
    expect(first.details).toMatchObject({ line: 1, column: 12 })
  })

  it('refuses to overwrite a file changed on disk (NOTEBOOK_CONFLICT) unless forced', async () => {
    const doc = await service.create('sub/new')
    expect(doc.path).toBe(join(root, 'sub/new.ipynb'))
    expect(doc.notebook.nbformat).toBe(4)
    const edited = { ...doc.notebook, cells: [{ cell_type: 'markdown' as const, id: 'a1', source: 'hi', metadata: {} }] }
    writeFileSync(doc.path, readFileSync(doc.path, 'utf8').replace('"cells": []', '"cells": [ ]'))
    const err = await service.save(doc.path, edited, { expectedHash: doc.hash }).catch((e) => e)
    expect(err.code).toBe('NOTEBOOK_CONFLICT')
    expect(err.details.expectedHash).toBe(doc.hash)
    expect((await service.save(doc.path, edited, { force: true })).written).toBe(true)
    expect((await service.open(doc.path)).notebook.cells[0].source).toEqual(['hi'])
    await expect(service.create('sub/new.ipynb')).rejects.toMatchObject({ code: 'FILE_CHANGED' })
    const listed = await service.list()
    expect(listed.map((e) => e.name)).toContain(join('sub', 'new.ipynb'))
    expect(existsSync(join(root, 'sub'))).toBe(true)
    expect(readdirSync(join(root, 'sub'))).toEqual(['new.ipynb'])
  })
})
