import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../log'
import { NotebookService } from './NotebookService'
import { serializeNotebook } from './nbformat'
import type { NotebookJson } from '../../../shared/api'

const root = mkdtempSync(join(tmpdir(), 'atelier-nbsafe-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const service = new NotebookService({ workspace: { path: root }, log: silentLogger })

const nb = (source: string): NotebookJson => ({
  cells: [{ cell_type: 'code', id: 'c1', source, metadata: {}, outputs: [], execution_count: null }],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5
})

describe('notebook saves that must not lose data', () => {
  it('two concurrent saves against the same hash: exactly one wins, the other gets NOTEBOOK_CONFLICT naming the hash on disk', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const file = join(root, `race${trial}.ipynb`)
      writeFileSync(file, serializeNotebook(nb('start')))
      const doc = await service.open(file)
      const results = await Promise.allSettled([
        service.save(file, nb('edit A'), { expectedHash: doc.hash }),
        service.save(file, nb('edit B'), { expectedHash: doc.hash })
      ])
      const won = results.filter((r) => r.status === 'fulfilled')
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(won).toHaveLength(1)
      expect(lost).toHaveLength(1)
      const onDisk = await service.open(file)
      expect(lost[0].reason.code).toBe('NOTEBOOK_CONFLICT')
      expect(lost[0].reason.details.actualHash).toBe(onDisk.hash)
      expect((won[0] as PromiseFulfilledResult<{ hash: string }>).value.hash).toBe(onDisk.hash)
    }
  })

  it('saving through a symlink writes the target and keeps the link a link', async () => {
    const realDir = join(root, 'real')
    mkdirSync(realDir)
    const target = join(realDir, 'target.ipynb')
    writeFileSync(target, serializeNotebook(nb('original')))
    const link = join(root, 'link.ipynb')
    symlinkSync(target, link)
    const doc = await service.open(link)
    const r = await service.save(link, nb('through the link'), { expectedHash: doc.hash })
    expect(r.written).toBe(true)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(link)).toBe(target)
    expect(readFileSync(target, 'utf8')).toContain('through the link')
    expect((await service.open(link)).hash).toBe(r.hash)
    expect(readdirSync(realDir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('refuses a file that is not valid UTF-8 with NOTEBOOK_INVALID and leaves it untouched', async () => {
    const file = join(root, 'latin1.ipynb')
    const text = serializeNotebook(nb('caf\u00e9'))
    const bytes = Buffer.from(text.replace('caf\u00e9', 'caf\u0000'), 'utf8')
    bytes[bytes.indexOf(0)] = 0xe9 // Latin-1 é: not UTF-8
    writeFileSync(file, bytes)
    const mtime = statSync(file).mtimeMs
    const err = await service.open(file).catch((e) => e)
    expect(err.code).toBe('NOTEBOOK_INVALID')
    expect(err.message).toMatch(/UTF-8/)
    expect(err.details.offset).toBe(bytes.indexOf(0xe9))
    expect(readFileSync(file).equals(bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(mtime)
  })

  it('keeps NaN and ±Infinity in metadata and outputs as written, also after a JSON transport turned them into null', async () => {
    const file = join(root, 'nan.ipynb')
    const text = `{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 1,
   "id": "c1",
   "metadata": {
    "score": NaN
   },
   "outputs": [
    {
     "data": {
      "application/json": {
       "hi": Infinity,
       "lo": -Infinity,
       "v": NaN
      },
      "text/plain": [
       "nan"
      ]
     },
     "execution_count": 1,
     "metadata": {},
     "output_type": "execute_result"
    }
   ],
   "source": [
    "float('nan')"
   ]
  }
 ],
 "metadata": {
  "limits": [
   NaN,
   Infinity,
   -Infinity
  ]
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`
    writeFileSync(file, text)
    const doc = await service.open(file)
    expect(Number.isNaN(doc.notebook.metadata.limits && (doc.notebook.metadata.limits as number[])[0])).toBe(true)
    // Unedited, over a JSON transport: nothing written.
    const overWire = JSON.parse(JSON.stringify(doc.notebook)) as NotebookJson
    expect((overWire.metadata.limits as unknown[])[0]).toBeNull()
    const same = await service.save(file, overWire, { expectedHash: doc.hash })
    expect(same.written).toBe(false)
    expect(readFileSync(file, 'utf8')).toBe(text)
    // Edited: only the edit changes.
    overWire.cells[0].source = "float('inf')"
    const r = await service.save(file, overWire, { expectedHash: doc.hash })
    expect(r.written).toBe(true)
    expect(readFileSync(file, 'utf8')).toBe(text.replace(`"float('nan')"`, `"float('inf')"`))
    // And directly (structured clone keeps NaN): the same bytes.
    const direct = await service.open(file)
    direct.notebook.cells[0].source = "float('nan')"
    await service.save(file, direct.notebook, { expectedHash: direct.hash })
    expect(readFileSync(file, 'utf8')).toBe(text)
  })

  it('sweeps temp files of a crashed save at start when their writer is dead, and keeps live writers\u2019 temps', async () => {
    const dir = join(root, 'crash')
    mkdirSync(join(dir, 'sub'), { recursive: true })
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    const stale = join(dir, 'sub', `.analysis.ipynb.${dead}.0badc0de.tmp`)
    const live = join(dir, `.analysis.ipynb.${process.ppid}.0123abcd.tmp`)
    const mine = join(dir, `.other.ipynb.${process.pid}.89abcdef.tmp`)
    const unrelated = join(dir, '.keep.tmp')
    for (const f of [stale, live, mine, unrelated]) writeFileSync(f, 'x'.repeat(1000))
    const fresh = new NotebookService({ workspace: { path: dir }, log: silentLogger })
    const removed = await fresh.sweepStaleTemps()
    expect(removed).toEqual([stale])
    expect(existsSync(stale)).toBe(false)
    for (const f of [live, mine, unrelated]) expect(existsSync(f)).toBe(true)
  })
})
