import { useEffect, useRef } from 'react'
import { registerKernelLanguage, trackCellModel } from './kernelLanguage'
import { monaco, preferredTheme } from './monacoPython'
import { useNotebookStore, type CellType } from './useNotebookStore'

export type RunMode = 'advance' | 'inPlace' | 'insert'

interface Props {
  cellId: string
  index: number
  type: CellType
  source: string
  focus: boolean
  onRun: (mode: RunMode) => void
  onEscape: () => void
}

const LINE_H = 19

/** A Monaco editor sized to its content; mounted only for cells near the viewport. */
export function CellEditor({ cellId, index, type, source, focus, onRun, onEscape }: Props) {
  const host = useRef<HTMLDivElement>(null)
  const edRef = useRef<import('monaco-editor/editor/editor.api').editor.IStandaloneCodeEditor | null>(null)
  const runRef = useRef(onRun)
  const escRef = useRef(onEscape)
  runRef.current = onRun
  escRef.current = onEscape

  useEffect(() => {
    if (!host.current) return
    const ed = monaco.editor.create(host.current, {
      value: source,
      language: type === 'code' ? 'python' : type === 'markdown' ? 'markdown' : 'plaintext',
      ariaLabel: `Cell ${index + 1} source`,
      editContext: false,
      theme: preferredTheme(),
      minimap: { enabled: false },
      fontSize: 13,
      lineHeight: LINE_H,
      fontFamily: "'JetBrains Mono', 'Cascadia Code', 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
      scrollBeyondLastLine: false,
      scrollbar: { vertical: 'hidden', alwaysConsumeMouseWheel: false, handleMouseWheel: false },
      overviewRulerLanes: 0,
      lineNumbers: 'off',
      glyphMargin: false,
      folding: false,
      renderLineHighlight: 'none',
      wordWrap: 'on',
      automaticLayout: true,
      tabSize: 4,
      padding: { top: 4, bottom: 4 },
      fixedOverflowWidgets: true,
      accessibilitySupport: 'on',
      accessibilityPageSize: 2000
    })
    edRef.current = ed
    registerKernelLanguage()
    const untrack = trackCellModel(ed.getModel()!.uri.toString())
    // find-in-notebook hits, highlighted in this cell
    const hits = ed.createDecorationsCollection()
    const paintHits = (q: string) => {
      const m = ed.getModel()
      hits.set(q && m ? m.findMatches(q, false, false, false, null, false, 1000).map((f) => ({ range: f.range, options: { inlineClassName: 'nb-find-hit' } })) : [])
    }
    paintHits(useNotebookStore.getState().find.query)
    const unsubFind = useNotebookStore.subscribe((st, prev) => {
      if (st.find.query !== prev.find.query) paintHits(st.find.query)
    })
    const fit = () => {
      if (host.current) host.current.style.height = `${Math.max(LINE_H + 8, ed.getContentHeight())}px`
    }
    fit()
    const subs = [
      ed.onDidContentSizeChange(fit),
      ed.onDidChangeModelContent(() => {
        useNotebookStore.getState().setSource(cellId, ed.getValue())
        paintHits(useNotebookStore.getState().find.query)
      }),
      ed.onDidFocusEditorText(() => {
        const s = useNotebookStore.getState()
        const i = s.cells.findIndex((c) => c.id === cellId)
        if (i >= 0 && (s.selected !== i || s.mode !== 'edit')) s.select(i, 'edit')
      })
    ]
    const action = (id: string, key: number, run: () => void) =>
      ed.addAction({ id, label: id, keybindings: [key], run: () => { ed.trigger('kb', 'hideSuggestWidget', null); run() } })
    action('nb.runAdvance', monaco.KeyMod.Shift | monaco.KeyCode.Enter, () => runRef.current('advance'))
    action('nb.runInPlace', monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => runRef.current('inPlace'))
    action('nb.runInsert', monaco.KeyMod.Alt | monaco.KeyCode.Enter, () => runRef.current('insert'))
    ed.addAction({
      id: 'nb.escape',
      label: 'Command mode',
      keybindings: [monaco.KeyCode.Escape],
      precondition: '!suggestWidgetVisible && !findWidgetVisible',
      run: () => escRef.current()
    })
    return () => {
      untrack()
      unsubFind()
      subs.forEach((s) => s.dispose())
      edRef.current = null
      ed.getModel()?.dispose()
      ed.dispose()
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cellId])

  useEffect(() => {
    const ed = edRef.current
    if (ed && ed.getValue() !== source) ed.setValue(source)
  }, [source])

  useEffect(() => {
    const ed = edRef.current
    const m = ed?.getModel()
    if (m) monaco.editor.setModelLanguage(m, type === 'code' ? 'python' : type === 'markdown' ? 'markdown' : 'plaintext')
  }, [type])

  useEffect(() => {
    if (focus) edRef.current?.focus()
  }, [focus])

  useEffect(() => {
    edRef.current?.updateOptions({ ariaLabel: `Cell ${index + 1} source` })
  }, [index])

  const initialH = useRef(Math.max(1, source.split('\n').length) * LINE_H + 8)
  return <div ref={host} className="nb-editor" style={{ height: initialH.current }} />
}
