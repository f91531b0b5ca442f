import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { NotebookService } from './NotebookService'
import type { NotebookJson } from '../../../shared/api'

/**
 * An edit made here is written exactly as `nbformat.write` writes the same edit, over the real
 * notebooks Debian ships (nbclient's test files and others). Each is first written once by
 * nbformat (the form Jupyter keeps it in), then edited both ways: through nbformat.read → edit →
 * nbformat.write, and through NotebookService.open → edit → save.
 */
const PY = '/usr/bin/python3'
const CORPUS_DIRS = ['/usr/lib/python3/dist-packages', '/usr/share']
const hasNbformat = (() => {
  try {
    execFileSync(PY, ['-c', 'import nbformat'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasNbformat) console.warn(`nbformat corpus test skipped: ${PY} cannot import nbformat`)

const EDIT = String.raw`
import glob, json, os, sys, nbformat
out, dirs = sys.argv[1], sys.argv[2:]
files = sorted({f for d in dirs for f in glob.glob(os.path.join(d, '**', '*.ipynb'), recursive=True)})
done = []
for i, path in enumerate(files):
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:
        print(f'skip {path}: {e}', file=sys.stderr)
        continue
    name = f'nb{i:03d}'
    with open(f'{out}/{name}.base.ipynb', 'w', encoding='utf-8') as f:
        nbformat.write(nb, f)
    with open(f'{out}/{name}.base.ipynb', encoding='utf-8') as f:
        nb = nbformat.read(f, as_version=4)
    # The same edits the TypeScript side makes (see edit() there).
    cells = nb.cells
    first = next((c for c in cells if c.source), None)
    if first is not None:
        first.source = 'edited = True\n' + first.source
    if cells:
        cells[-1].source = cells[-1].source + '\n# tail'
    outputs = [o for c in cells if c.cell_type == 'code' for o in c.outputs]
    stream = next((o for o in outputs if o.output_type == 'stream'), None)
    if stream is not None:
        stream.text = stream.text + 'extra line\n'
    rich = next((o for o in outputs if o.output_type in ('execute_result', 'display_data') and 'text/plain' in o.data), None)
    if rich is not None:
        rich.data['text/plain'] = rich.data['text/plain'] + '\n(edited)'
    added = nbformat.from_dict({'cell_type': 'markdown', 'metadata': {}, 'source': '## Added\nline 2\r\nline 3'})
    if nb.nbformat_minor >= 5:
        added['id'] = 'atelier-added'
    cells.append(added)
    with open(f'{out}/{name}.expected.ipynb', 'w', encoding='utf-8') as f:
        nbformat.write(nb, f)
    done.append({'name': name, 'source': path})
json.dump(done, open(f'{out}/manifest.json', 'w'))
`

type Text = string | string[]
const joined = (t: Text) => (Array.isArray(t) ? t.join('') : t)

/** The edits of the Python side; `form` is how the renderer sends each changed text. */
function edit(nb: NotebookJson, form: (text: string) => Text): NotebookJson {
  const cells = nb.cells
  const first = cells.find((c) => joined(c.source as Text) !== '')
  if (first) first.source = form('edited = True\n' + joined(first.source as Text))
  if (cells.length) cells[cells.length - 1].source = form(joined(cells[cells.length - 1].source as Text) + '\n# tail')
  const outputs = cells.flatMap((c) => (c.cell_type === 'code' ? ((c.outputs ?? []) as Record<string, unknown>[]) : []))
  const stream = outputs.find((o) => o.output_type === 'stream')
  if (stream) stream.text = form(joined(stream.text as Text) + 'extra line\n')
  const rich = outputs.find(
    (o) => (o.output_type === 'execute_result' || o.output_type === 'display_data') && 'text/plain' in (o.data as object)
  )
  if (rich) {
    const data = rich.data as Record<string, Text>
    data['text/plain'] = form(joined(data['text/plain']) + '\n(edited)')
  }
  const added: Record<string, unknown> = { cell_type: 'markdown', metadata: {}, source: form('## Added\nline 2\r\nline 3') }
  if (nb.nbformat_minor >= 5) added.id = 'atelier-added'
  cells.push(added as NotebookJson['cells'][number])
  return nb
}

const root = mkdtempSync(join(tmpdir(), 'atelier-nbcorpus-'))
let manifest: { name: string; source: string }[] = []
beforeAll(() => {
  if (!hasNbformat) return
  execFileSync(PY, ['-c', EDIT, root, ...CORPUS_DIRS.filter(existsSync)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 })
  manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'))
}, 150_000)
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe.skipIf(!hasNbformat)('edits are saved as nbformat.write writes them (Debian notebooks)', () => {
  const service = new NotebookService({ workspace: { path: root }, log: silentLogger })
  const forms: [string, (t: string) => Text][] = [
    ['one string (as the editor sends it)', (t) => t],
    ['a single-element list', (t) => [t]],
    ['a list split at every character', (t) => [...t]]
  ]
  for (const [label, form] of forms) {
    it(`changed text sent as ${label}`, async () => {
      expect(manifest.length).toBeGreaterThanOrEqual(20)
      const mismatched: string[] = []
      for (const { name, source } of manifest) {
        const base = join(root, `${name}.base.ipynb`)
        const baseBytes = readFileSync(base)
        const copy = join(root, `${name}.${forms.findIndex((f) => f[0] === label)}.ipynb`)
        await service.save(copy, JSON.parse(baseBytes.toString('utf8')) as NotebookJson)
        const doc = await service.open(copy)
        expect(readFileSync(copy).equals(baseBytes)).toBe(true)
        await service.save(copy, edit(doc.notebook, form), { expectedHash: doc.hash })
        if (!readFileSync(copy).equals(readFileSync(join(root, `${name}.expected.ipynb`)))) mismatched.push(source)
      }
      expect(mismatched).toEqual([])
    })
  }

  it('unchanged cells keep the file\u2019s own spelling (a string source stays a string)', async () => {
    const file = join(root, 'foreign.ipynb')
    const nb = {
      cells: [
        { cell_type: 'code', id: 'a', metadata: {}, source: 'kept\nas one string', outputs: [], execution_count: null },
        { cell_type: 'code', id: 'b', metadata: {}, source: ['x = 1\ny = 2'], outputs: [], execution_count: null }
      ],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5
    }
    const { writeFileSync } = await import('node:fs')
    writeFileSync(file, JSON.stringify(nb, null, 1) + '\n')
    const doc = await service.open(file)
    doc.notebook.cells[1].source = 'x = 1\ny = 3'
    await service.save(file, doc.notebook, { expectedHash: doc.hash })
    const text = readFileSync(file, 'utf8')
    expect(text).toContain('"source": "kept\\nas one string"')
    expect(text).toContain('"source": [\n    "x = 1\\n",\n    "y = 3"\n   ]')
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
})
