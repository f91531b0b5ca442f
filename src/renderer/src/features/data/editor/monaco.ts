/**
 * Monaco, trimmed: the core editor API, the features the SQL editor uses, and the SQL language
 * with DuckDB's extra keywords. Workers come from Vite `?worker` imports (CSP: worker-src 'self').
 */
import * as monaco from 'monaco-editor/editor/editor.api'
import 'monaco-editor/editor/browser/coreCommands'
import 'monaco-editor/editor/contrib/suggest/browser/suggestController'
import 'monaco-editor/editor/contrib/snippet/browser/snippetController2'
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution'
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError'
import 'monaco-editor/editor/contrib/find/browser/findController'
import 'monaco-editor/editor/contrib/comment/browser/comment'
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching'
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard'
import 'monaco-editor/editor/contrib/contextmenu/browser/contextmenu'
import 'monaco-editor/editor/contrib/cursorUndo/browser/cursorUndo'
import 'monaco-editor/editor/contrib/linesOperations/browser/linesOperations'
import 'monaco-editor/editor/contrib/multicursor/browser/multicursor'
import 'monaco-editor/editor/contrib/wordOperations/browser/wordOperations'
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter'
import 'monaco-editor/editor/contrib/placeholderText/browser/placeholderText.contribution'
import 'monaco-editor/features/codicon/register'
import { conf as sqlConf, language as sqlLanguage } from 'monaco-editor/languages/definitions/sql/sql'
import EditorWorker from 'monaco-editor/editor/editor.worker?worker'
import { DUCKDB_FUNCTIONS, DUCKDB_KEYWORDS } from './duckdbKeywords'

self.MonacoEnvironment = {
  getWorker: () => new EditorWorker()
}

monaco.languages.register({ id: 'sql', extensions: ['.sql'], aliases: ['SQL', 'DuckDB SQL'] })
monaco.languages.setLanguageConfiguration('sql', sqlConf)
monaco.languages.setMonarchTokensProvider('sql', {
  ...sqlLanguage,
  keywords: Array.from(new Set([...sqlLanguage.keywords, ...DUCKDB_KEYWORDS])),
  builtinFunctions: Array.from(new Set([...sqlLanguage.builtinFunctions, ...DUCKDB_FUNCTIONS]))
})

const common = {
  'editor.background': '#00000000'
}
monaco.editor.defineTheme('atelier-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [
    { token: 'keyword', foreground: '7aa2f7', fontStyle: 'bold' },
    { token: 'predefined', foreground: 'bb9af7' },
    { token: 'string', foreground: '9ece6a' },
    { token: 'number', foreground: 'ff9e64' },
    { token: 'comment', foreground: '6b7280', fontStyle: 'italic' },
    { token: 'operator', foreground: '89ddff' }
  ],
  colors: { ...common, 'editor.lineHighlightBackground': '#ffffff0a', 'editorLineNumber.foreground': '#4b5563' }
})
monaco.editor.defineTheme('atelier-light', {
  base: 'vs',
  inherit: true,
  rules: [
    { token: 'keyword', foreground: '1d4ed8', fontStyle: 'bold' },
    { token: 'predefined', foreground: '7c3aed' },
    { token: 'string', foreground: '15803d' },
    { token: 'number', foreground: 'c2410c' },
    { token: 'comment', foreground: '6b7280', fontStyle: 'italic' }
  ],
  colors: { ...common, 'editor.lineHighlightBackground': '#0000000a' }
})

export function preferredTheme(): string {
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'atelier-light' : 'atelier-dark'
}

export { monaco }
