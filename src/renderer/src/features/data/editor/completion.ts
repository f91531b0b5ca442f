import { call } from '../../../api/client'
import { useCatalogStore } from '../catalog/useCatalogStore'
import { monaco } from './monaco'

let registered = false

/** SQL completion: the server's `lake.complete` plus every catalog table and column name. */
export function registerCompletion() {
  if (registered) return
  registered = true
  const K = monaco.languages.CompletionItemKind
  const kindOf = { keyword: K.Keyword, table: K.Struct, column: K.Field, function: K.Function, other: K.Text } as const

  monaco.languages.registerCompletionItemProvider('sql', {
    triggerCharacters: ['.', ' ', '"'],
    async provideCompletionItems(model, position) {
      const sql = model.getValue()
      const offset = model.getOffsetAt(position)
      const word = model.getWordUntilPosition(position)
      const wordRange = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn)
      const suggestions: import('monaco-editor/editor/editor.api').languages.CompletionItem[] = []
      const seen = new Set<string>()

      if (sql.length <= 100_000) {
        try {
          const remote = await call('lake.complete', { sql, position: offset })
          for (const c of remote) {
            if (seen.has(c.label)) continue
            seen.add(c.label)
            const start = model.getPositionAt(Math.min(c.start, offset))
            suggestions.push({
              label: c.label,
              kind: kindOf[c.kind] ?? K.Text,
              detail: c.detail,
              insertText: c.label,
              sortText: `0${String(suggestions.length).padStart(4, '0')}`,
              range: new monaco.Range(start.lineNumber, start.column, position.lineNumber, position.column)
            })
          }
        } catch {
          // the catalog names below still help
        }
      }

      for (const src of useCatalogStore.getState().sources) {
        for (const t of src.tables) {
          if (!seen.has(t.sqlName)) {
            seen.add(t.sqlName)
            suggestions.push({
              label: t.sqlName,
              kind: K.Struct,
              detail: `table · ${src.name}${t.rowCount !== null ? ` · ${t.rowCount.toLocaleString('en-US')} rows` : ''}`,
              insertText: t.sqlName,
              sortText: `1${t.sqlName}`,
              range: wordRange
            })
          }
          for (const c of t.columns) {
            if (seen.has(c.name)) continue
            seen.add(c.name)
            suggestions.push({
              label: c.name,
              kind: K.Field,
              detail: `${c.type} · ${t.name}`,
              insertText: /^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name) ? c.name : `"${c.name.replace(/"/g, '""')}"`,
              sortText: `2${c.name}`,
              range: wordRange
            })
          }
        }
      }
      return { suggestions }
    }
  })
}
