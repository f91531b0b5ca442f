/// <reference types="vite/client" />

declare module 'plotly.js-dist-min' {
  // The bundled plotly has no types; the few calls we make are typed in components/Plot.tsx.
  const Plotly: unknown
  export default Plotly
}

declare module 'monaco-editor/languages/definitions/sql/sql' {
  import type { languages } from 'monaco-editor/editor/editor.api'
  export const conf: languages.LanguageConfiguration
  export const language: languages.IMonarchLanguage & { keywords: string[]; builtinFunctions: string[] }
}
