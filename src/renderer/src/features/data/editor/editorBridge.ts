import type { editor as Editor } from 'monaco-editor/editor/editor.api'
import { useTabsStore } from './useTabsStore'

/** What the rest of the Data room may ask of the (lazily created) Monaco editor. */
export const editorBridge = {
  editor: null as Editor.IStandaloneCodeEditor | null,

  /** The selection if any, else the whole text, with where it starts (1-based) for error markers. */
  runnable(): { sql: string; origin: { line: number; column: number } } {
    const ed = this.editor
    const model = ed?.getModel()
    if (!ed || !model) {
      const { tabs, activeId } = useTabsStore.getState()
      return { sql: tabs.find((t) => t.id === activeId)?.sql ?? '', origin: { line: 1, column: 1 } }
    }
    const sel = ed.getSelection()
    if (sel && !sel.isEmpty()) {
      const text = model.getValueInRange(sel)
      if (text.trim()) return { sql: text, origin: { line: sel.startLineNumber, column: sel.startColumn } }
    }
    return { sql: model.getValue(), origin: { line: 1, column: 1 } }
  },

  /** Inserts SQL on its own line at the cursor (or replaces an empty editor) and selects it. */
  insert(text: string) {
    const ed = this.editor
    const model = ed?.getModel()
    if (!ed || !model) {
      const { activeId, setSql, tabs } = useTabsStore.getState()
      const cur = tabs.find((t) => t.id === activeId)?.sql ?? ''
      if (activeId) setSql(activeId, cur.trim() ? `${cur}\n${text}` : text)
      return
    }
    if (!model.getValue().trim()) {
      model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null)
      const end = model.getFullModelRange()
      ed.setSelection(end)
    } else {
      const pos = ed.getPosition() ?? { lineNumber: model.getLineCount(), column: 1 }
      const line = pos.lineNumber
      const lineText = model.getLineContent(line)
      const atEmptyLine = lineText.trim() === ''
      const insertLine = atEmptyLine ? line : line + 1
      const range = atEmptyLine
        ? { startLineNumber: line, startColumn: 1, endLineNumber: line, endColumn: lineText.length + 1 }
        : { startLineNumber: line, startColumn: lineText.length + 1, endLineNumber: line, endColumn: lineText.length + 1 }
      ed.executeEdits('catalog', [{ range, text: atEmptyLine ? text : `\n${text}`, forceMoveMarkers: true }])
      ed.setSelection({
        startLineNumber: insertLine,
        startColumn: 1,
        endLineNumber: insertLine,
        endColumn: text.length + 1
      })
      ed.revealLineInCenterIfOutsideViewport(insertLine)
    }
    ed.focus()
  },

  focus() {
    this.editor?.focus()
  }
}
