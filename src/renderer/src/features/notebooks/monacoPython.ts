/** The Data room's trimmed Monaco (workers, themes), plus the Python language for notebook cells. */
import { conf, language } from 'monaco-editor/languages/definitions/python/python'
import { monaco, preferredTheme } from '../data/editor/monaco'

if (!monaco.languages.getLanguages().some((l) => l.id === 'python')) {
  monaco.languages.register({ id: 'python', extensions: ['.py'], aliases: ['Python', 'py'] })
  monaco.languages.setLanguageConfiguration('python', conf)
  monaco.languages.setMonarchTokensProvider('python', language)
}

export { monaco, preferredTheme }
