import { useEffect, useRef, useState } from 'react'
import { runActive } from '../actions'
import { useQueryStore } from '../query/useQueryStore'
import { registerCompletion } from './completion'
import { editorBridge } from './editorBridge'
import { monaco, preferredTheme } from './monaco'
import { useTabsStore } from './useTabsStore'

type Model = import('monaco-editor/editor/editor.api').editor.ITextModel
type ViewState = import('monaco-editor/editor/editor.api').editor.ICodeEditorViewState | null

const models = new Map<string, Model>()
const viewStates = new Map<string, ViewState>()
const MARKER_OWNER = 'atelier'
const PLACEHOLDER = 'Write SQL… (Ctrl+Enter runs the selection or everything)'

function modelFor(tabId: string, sql: string): Model {
  let m = models.get(tabId)
  if (!m || m.isDisposed()) {
    m = monaco.editor.createModel(sql, 'sql', monaco.Uri.parse(`inmemory://query/${tabId}.sql`))
    models.set(tabId, m)
  }
  return m
}

/** The Monaco SQL editor: one model per query tab (keeping undo history), markers for SQL errors. */
export function SqlEditor() {
  const host = useRef<HTMLDivElement>(null)
  // Our own placeholder: Monaco's keeps a stale "empty" state when switching to a model that
  // was created with text (both models at version 1), and then draws over the query.
  const [placeholder, setPlaceholder] = useState<{ left: number } | null>(null)
  const activeId = useTabsStore((s) => s.activeId)
  const tabs = useTabsStore((s) => s.tabs)
  const activeSql = tabs.find((t) => t.id === activeId)?.sql
  const query = useQueryStore((s) => (activeId ? s.byTab[activeId] : undefined))

  useEffect(() => {
    if (!host.current) return
    registerCompletion()
    const { tabs: initialTabs, activeId: initialId } = useTabsStore.getState()
    const initial = initialId ? modelFor(initialId, initialTabs.find((t) => t.id === initialId)?.sql ?? '') : null
    const ed = monaco.editor.create(host.current, {
      model: initial,
      ariaLabel: 'SQL editor',
      // a real <textarea> (not the EditContext div): it is what assistive tech and test drivers can fill
      editContext: false,
      language: 'sql',
      theme: preferredTheme(),
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      lineHeight: 20,
      fontFamily: "'JetBrains Mono', 'Cascadia Code', 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
      scrollBeyondLastLine: false,
      renderLineHighlight: 'line',
      tabSize: 2,
      wordWrap: 'on',
      padding: { top: 6, bottom: 6 },
      fixedOverflowWidgets: true,
      quickSuggestions: { other: true, comments: false, strings: false },
      suggestOnTriggerCharacters: true,
      acceptSuggestionOnEnter: 'smart',
      // screen-reader mode keeps the whole text (up to accessibilityPageSize lines) in the textarea,
      // mirrored with the selection: screen readers, and test drivers' fill(), see the real document
      accessibilitySupport: 'on',
      accessibilityPageSize: 2000
    })
    editorBridge.editor = ed
    const refreshPlaceholder = () => {
      const m = ed.getModel()
      setPlaceholder(m && m.getValueLength() === 0 ? { left: ed.getLayoutInfo().contentLeft } : null)
    }
    refreshPlaceholder()
    const placeholderSubs = [ed.onDidChangeModel(refreshPlaceholder), ed.onDidChangeModelContent(refreshPlaceholder), ed.onDidLayoutChange(refreshPlaceholder)]
    // Monaco rewrites its textarea (text + cursor) when it gains focus, which drops a select-all made
    // just before focusing (what assistive tools and test drivers' fill() do): honour it explicitly.
    const textarea = host.current.querySelector('textarea')
    const onFocusCapture = () => {
      const m = ed.getModel()
      if (!textarea || !m || textarea.value.length === 0) return
      if (textarea.selectionStart === 0 && textarea.selectionEnd === textarea.value.length) ed.setSelection(m.getFullModelRange())
    }
    textarea?.addEventListener('focus', onFocusCapture, true)
    // …and a select-all made while focused, right before a key (Monaco reads textarea selection changes
    // asynchronously, so a Delete pressed at once would act on the stale editor selection)
    const onKeyCapture = () => {
      const m = ed.getModel()
      const sel = ed.getSelection()
      if (!textarea || !m || !sel || textarea.value.length === 0) return
      if (textarea.selectionStart === 0 && textarea.selectionEnd === textarea.value.length && textarea.value === m.getValue() && !sel.equalsRange(m.getFullModelRange()))
        ed.setSelection(m.getFullModelRange())
    }
    textarea?.addEventListener('keydown', onKeyCapture, true)
    ed.addAction({
      id: 'atelier.run',
      label: 'Run query',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
      run: () => {
        ed.trigger('run', 'hideSuggestWidget', null)
        runActive()
      }
    })
    const mq = window.matchMedia?.('(prefers-color-scheme: light)')
    const onScheme = () => monaco.editor.setTheme(preferredTheme())
    mq?.addEventListener('change', onScheme)
    const sub = ed.onDidChangeModelContent(() => {
      const m = ed.getModel()
      const id = useTabsStore.getState().activeId
      if (m && id && models.get(id) === m) {
        useTabsStore.getState().setSql(id, m.getValue())
        monaco.editor.setModelMarkers(m, MARKER_OWNER, [])
      }
    })
    return () => {
      textarea?.removeEventListener('focus', onFocusCapture, true)
      textarea?.removeEventListener('keydown', onKeyCapture, true)
      sub.dispose()
      for (const d of placeholderSubs) d.dispose()
      mq?.removeEventListener('change', onScheme)
      editorBridge.editor = null
      ed.dispose()
    }
  }, [])

  // switch models with the active tab
  useEffect(() => {
    const ed = editorBridge.editor
    if (!ed || !activeId) return
    const m = modelFor(activeId, activeSql ?? '')
    if (ed.getModel() !== m) {
      const prevId = [...models.entries()].find(([, v]) => v === ed.getModel())?.[0]
      if (prevId) viewStates.set(prevId, ed.saveViewState())
      ed.setModel(m)
      const vs = viewStates.get(activeId)
      if (vs) ed.restoreViewState(vs)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [activeId])

  // text changed outside the editor (history, catalog insert without editor)
  useEffect(() => {
    if (!activeId || activeSql === undefined) return
    const m = models.get(activeId)
    if (m && m.getValue() !== activeSql) m.setValue(activeSql)
  }, [activeId, activeSql])

  // dispose models of closed tabs
  useEffect(() => {
    const ids = new Set(tabs.map((t) => t.id))
    for (const [id, m] of models) {
      if (!ids.has(id)) {
        m.dispose()
        models.delete(id)
        viewStates.delete(id)
      }
    }
  }, [tabs])

  // SQL error markers at DuckDB's position (1-based, relative to the text that ran)
  useEffect(() => {
    if (!activeId) return
    const m = models.get(activeId)
    if (!m) return
    const err = query?.status === 'error' ? query.error : undefined
    const line = Number(err?.details?.line)
    const column = Number(err?.details?.column)
    if (!err || err.code !== 'SQL_ERROR' || !Number.isFinite(line) || line < 1) {
      monaco.editor.setModelMarkers(m, MARKER_OWNER, [])
      return
    }
    const o = query!.origin
    const absLine = Math.min(m.getLineCount(), o.line + line - 1)
    const col = Number.isFinite(column) && column >= 1 ? column : 1
    const absCol = line === 1 ? o.column + col - 1 : col
    const word = m.getWordAtPosition({ lineNumber: absLine, column: absCol })
    const endCol = word && word.startColumn <= absCol ? word.endColumn : Math.min(absCol + 1, m.getLineMaxColumn(absLine))
    monaco.editor.setModelMarkers(m, MARKER_OWNER, [
      {
        severity: monaco.MarkerSeverity.Error,
        message: err.message,
        startLineNumber: absLine,
        startColumn: absCol,
        endLineNumber: absLine,
        endColumn: Math.max(endCol, absCol + 1)
      }
    ])
  }, [activeId, query])

  return (
    <div className="sql-editor-wrap">
      <div ref={host} className="sql-editor" />
      {placeholder && (
        <div className="sql-placeholder" aria-hidden="true" style={{ left: placeholder.left }}>
          {PLACEHOLDER}
        </div>
      )}
    </div>
  )
}
