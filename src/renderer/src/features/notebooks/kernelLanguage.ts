import { call } from '../../api/client'
import { monaco } from './monacoPython'
import { useNotebookStore } from './useNotebookStore'

/**
 * Completion and hover in notebook cells, from the kernel (`complete_request`, `inspect_request`).
 * Registered once for Python; only models that belong to notebook cells are served. Jupyter counts
 * cursor positions in code points, Monaco in UTF-16 units: both directions are converted.
 */
const cellModels = new Set<string>()
export function trackCellModel(uri: string): () => void {
  cellModels.add(uri)
  return () => cellModels.delete(uri)
}

export const toCodePoints = (s: string, utf16: number) => [...s.slice(0, utf16)].length
export function toUtf16(s: string, codePoints: number): number {
  let i = 0
  for (const ch of s) {
    if (codePoints-- <= 0) break
    i += ch.length
  }
  return i
}

const KIND: Record<string, number> = {
  function: monaco.languages.CompletionItemKind.Function,
  class: monaco.languages.CompletionItemKind.Class,
  module: monaco.languages.CompletionItemKind.Module,
  keyword: monaco.languages.CompletionItemKind.Keyword,
  instance: monaco.languages.CompletionItemKind.Variable,
  statement: monaco.languages.CompletionItemKind.Variable,
  param: monaco.languages.CompletionItemKind.Variable,
  path: monaco.languages.CompletionItemKind.File,
  property: monaco.languages.CompletionItemKind.Property
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '')

let registered = false
export function registerKernelLanguage() {
  if (registered) return
  registered = true
  monaco.languages.registerCompletionItemProvider('python', {
    triggerCharacters: ['.'],
    async provideCompletionItems(model, position) {
      const kernelId = useNotebookStore.getState().kernelId
      if (!kernelId || !cellModels.has(model.uri.toString())) return { suggestions: [] }
      const code = model.getValue()
      const offset = model.getOffsetAt(position)
      try {
        const r = await call('kernels.complete', { kernelId, code, cursorPos: toCodePoints(code, offset) })
        const start = model.getPositionAt(toUtf16(code, r.cursorStart))
        const end = model.getPositionAt(toUtf16(code, r.cursorEnd))
        const range = new monaco.Range(start.lineNumber, start.column, end.lineNumber, end.column)
        const types = (r.metadata._jupyter_types_experimental as { text: string; type?: string; signature?: string }[] | undefined) ?? []
        const byText = new Map(types.map((t) => [t.text, t]))
        return {
          suggestions: r.matches.map((m, i) => {
            const t = byText.get(m)
            return {
              label: m,
              insertText: m,
              range,
              sortText: String(i).padStart(5, '0'),
              kind: KIND[t?.type ?? ''] ?? monaco.languages.CompletionItemKind.Text,
              detail: t?.signature || t?.type
            }
          })
        }
      } catch {
        return { suggestions: [] }
      }
    }
  })
  monaco.languages.registerHoverProvider('python', {
    async provideHover(model, position) {
      const kernelId = useNotebookStore.getState().kernelId
      if (!kernelId || !cellModels.has(model.uri.toString())) return null
      const word = model.getWordAtPosition(position)
      if (!word) return null
      const code = model.getValue()
      const offset = model.getOffsetAt({ lineNumber: position.lineNumber, column: word.endColumn })
      try {
        const r = await call('kernels.inspect', { kernelId, code, cursorPos: toCodePoints(code, offset), detailLevel: 0 })
        const text = r.found ? stripAnsi(String(r.data['text/plain'] ?? '')) : ''
        if (!text) return null
        const clipped = text.length > 4000 ? text.slice(0, 4000) + '\n…' : text
        return {
          range: new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn),
          contents: [{ value: '```text\n' + clipped.replace(/```/g, '`​``') + '\n```' }]
        }
      } catch {
        return null
      }
    }
  })
}
