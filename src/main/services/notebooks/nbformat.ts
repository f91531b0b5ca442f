/**
 * nbformat 4: validation (the structure Jupyter's schema requires, unknown keys allowed and kept),
 * and the places where Jupyter stores text as a list of lines (nbformat/v4/rwbase.py split_lines).
 */
import { z } from 'zod'
import type { NotebookJson } from '../../../shared/api'
import { AppError } from '../../../shared/errors'
import { JsonSyntaxError, parseWithGuide, stringifyLike, type Guide } from './json'

const multiline = z.union([z.string(), z.array(z.string())])
const dict = z.record(z.string(), z.unknown())
const mimeBundle = z.record(z.string(), z.unknown())
const executionCount = z.number().int().min(0).nullable()

const output = z.discriminatedUnion('output_type', [
  z.looseObject({ output_type: z.literal('stream'), name: z.string(), text: multiline }),
  z.looseObject({ output_type: z.literal('display_data'), data: mimeBundle, metadata: dict.optional() }),
  z.looseObject({
    output_type: z.literal('execute_result'),
    data: mimeBundle,
    metadata: dict.optional(),
    execution_count: executionCount
  }),
  z.looseObject({
    output_type: z.literal('error'),
    ename: z.string(),
    evalue: z.string(),
    traceback: z.array(z.string())
  })
])

const cellId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-zA-Z0-9-_]+$/, 'cell ids use letters, digits, - and _')
const attachments = z.record(z.string(), mimeBundle)

const cell = z.discriminatedUnion('cell_type', [
  z.looseObject({
    cell_type: z.literal('code'),
    id: cellId.optional(),
    source: multiline,
    metadata: dict,
    outputs: z.array(output),
    execution_count: executionCount
  }),
  z.looseObject({ cell_type: z.literal('markdown'), id: cellId.optional(), source: multiline, metadata: dict, attachments: attachments.optional() }),
  z.looseObject({ cell_type: z.literal('raw'), id: cellId.optional(), source: multiline, metadata: dict, attachments: attachments.optional() })
])

const notebook = z.looseObject({
  cells: z.array(cell),
  metadata: dict,
  nbformat: z.literal(4),
  nbformat_minor: z.number().int().min(0)
})

export interface ValidationIssue {
  path: string
  message: string
}

/** Throws NOTEBOOK_INVALID naming the first problems (with JSON paths) when `value` is not nbformat 4. */
export function validateNotebook(value: unknown, file?: string): NotebookJson {
  const where = file ? ` ${file}` : ''
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const major = (value as { nbformat?: unknown }).nbformat
    if (typeof major === 'number' && major < 4) {
      throw new AppError('NOTEBOOK_INVALID', `The notebook${where} is nbformat ${major}; only nbformat 4 is supported (open and save it once in Jupyter to upgrade it).`, {
        path: file,
        nbformat: major
      })
    }
  }
  const r = notebook.safeParse(value)
  if (r.success) {
    const ids = new Set<string>()
    const cells = (value as NotebookJson).cells
    for (let i = 0; i < cells.length; i++) {
      const id = cells[i].id
      if (id === undefined) continue
      if (ids.has(id)) {
        throw new AppError('NOTEBOOK_INVALID', `The notebook${where} is not valid nbformat 4: cell id "${id}" is used twice.`, {
          path: file,
          issues: [{ path: `cells.${i}.id`, message: 'duplicate cell id' }]
        })
      }
      ids.add(id)
    }
    return value as NotebookJson
  }
  const issues: ValidationIssue[] = r.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }))
  const first = issues[0]
  throw new AppError('NOTEBOOK_INVALID', `The notebook${where} is not valid nbformat 4: ${first.path}: ${first.message}`, {
    path: file,
    issues
  })
}

/** Parses notebook text; NOTEBOOK_INVALID with line and column on a syntax error. */
export function parseNotebook(text: string, file?: string): { notebook: NotebookJson; guide: Guide; indent: number } {
  let parsed: { value: unknown; guide: Guide }
  try {
    parsed = parseWithGuide(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new AppError('NOTEBOOK_INVALID', `The notebook${file ? ' ' + file : ''} is not valid JSON: ${err.message}`, {
        path: file,
        line: err.line,
        column: err.column
      })
    }
    throw err
  }
  return { notebook: validateNotebook(parsed.value, file), guide: parsed.guide, indent: detectIndent(text) }
}

/** The indent the file uses (Jupyter: 1); 1 for a one-line file. */
function detectIndent(text: string): number {
  const m = /^\{\r?\n( +)"/.exec(text)
  return m ? Math.min(m[1].length, 8) : 1
}

const SPLIT_MIMES = new Set(['application/javascript', 'image/svg+xml'])

/** True where Jupyter writes a string as a list of lines (split_lines in nbformat/v4/rwbase.py). */
export function jupyterSplitsAt(nb: NotebookJson, path: readonly (string | number)[]): boolean {
  if (path[0] !== 'cells' || typeof path[1] !== 'number') return false
  const c = nb.cells[path[1]]
  if (!c) return false
  if (path.length === 3) return path[2] === 'source'
  if (path[2] === 'attachments' && path.length === 5) return isSplitMime(String(path[4]))
  if (c.cell_type !== 'code' || path[2] !== 'outputs' || typeof path[3] !== 'number') return false
  const out = c.outputs?.[path[3]] as { output_type?: string } | undefined
  if (out?.output_type === 'stream') return path.length === 5 && path[4] === 'text'
  if (out?.output_type === 'execute_result' || out?.output_type === 'display_data') {
    return path.length === 6 && path[4] === 'data' && isSplitMime(String(path[5]))
  }
  return false
}

function isSplitMime(mime: string): boolean {
  return mime.startsWith('text/') || SPLIT_MIMES.has(mime)
}

/**
 * The file text for a notebook as Jupyter writes it (indent 1, sorted keys, text as lists of
 * lines, trailing newline); where `previous` (the parsed file on disk) still holds the same
 * values, their exact form is kept (key order, number and string spelling, strings not split).
 */
export function serializeNotebook(nb: NotebookJson, previous?: { guide: Guide; indent: number }): string {
  return (
    stringifyLike(stripTransient(nb), previous?.guide, {
      indent: previous?.indent ?? 1,
      splitLines: (p) => jupyterSplitsAt(nb, p)
    }) + '\n'
  )
}

/** Drops what Jupyter never stores (strip_transient): without mutating the caller's object. */
function stripTransient(nb: NotebookJson): NotebookJson {
  const md = nb.metadata
  const dropTop = 'orig_nbformat' in md || 'orig_nbformat_minor' in md || 'signature' in md
  const dropCell = nb.cells.some((c) => c.metadata && 'trusted' in c.metadata)
  if (!dropTop && !dropCell) return nb
  const metadata = { ...md }
  delete metadata.orig_nbformat
  delete metadata.orig_nbformat_minor
  delete metadata.signature
  const cells = nb.cells.map((c) => {
    if (!c.metadata || !('trusted' in c.metadata)) return c
    const m = { ...c.metadata }
    delete m.trusted
    return { ...c, metadata: m }
  })
  return { ...nb, metadata, cells }
}

export function newNotebook(kernel?: { name?: string; displayName?: string; language?: string }): NotebookJson {
  const name = kernel?.name ?? 'python3'
  const language = kernel?.language ?? 'python'
  return {
    cells: [],
    metadata: {
      kernelspec: { display_name: kernel?.displayName ?? (name === 'python3' ? 'Python 3 (ipykernel)' : name), language, name },
      language_info: { name: language }
    },
    nbformat: 4,
    nbformat_minor: 5
  }
}
