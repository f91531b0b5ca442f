import type { KernelIopubEvent } from '../../../../shared/api'

/** An nbformat output, plus renderer-only fields (prefixed `_`, dropped on save). */
export type Output = Record<string, unknown> & {
  output_type: 'stream' | 'execute_result' | 'display_data' | 'error'
  _truncated?: { msgId: string; name: 'stdout' | 'stderr' }
  /** A rich output over the relay cap: shown as a placeholder; the payload is fetched on demand (kernels.fullDisplay). */
  _full?: { msgId: string; index: number; bytes: number }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)/g
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '')
}

/**
 * Applies carriage returns as Jupyter does: on each line, the text after the last \r replaces what came
 * before. A trailing \r is kept (the rewind applies to the next chunk of the stream); \b erases a char.
 */
export function applyCarriageReturns(s: string): string {
  if (!s.includes('\r') && !s.includes('\b')) return s
  return s
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const pending = line.endsWith('\r')
      const body = pending ? line.replace(/\r+$/, '') : line
      const cut = body.lastIndexOf('\r')
      let out = cut >= 0 ? body.slice(cut + 1) : body
      // \x08 is backspace (in a regex, \b outside a class is a word boundary)
      for (let i = out.indexOf('\x08'); i >= 0; i = out.indexOf('\x08')) out = out.slice(0, Math.max(0, i - 1)) + out.slice(i + 1)
      return pending ? out + '\r' : out
    })
    .join('\n')
}

export function joinSource(s: unknown): string {
  if (Array.isArray(s)) return s.join('')
  return typeof s === 'string' ? s : ''
}

const MAX_STREAM_CHARS = 200_000

/** Applies one iopub message to a cell's outputs; returns the new list (or the same list when unchanged). */
export function reduceOutputs(outputs: Output[], ev: KernelIopubEvent, pendingClear: boolean): { outputs: Output[]; pendingClear: boolean } {
  const c = ev.content
  let outs = outputs
  const produces = ev.msgType === 'stream' || ev.msgType === 'execute_result' || ev.msgType === 'display_data' || ev.msgType === 'error'
  if (pendingClear && produces) {
    outs = []
    pendingClear = false
  }
  switch (ev.msgType) {
    case 'stream': {
      const name = (c.name as 'stdout' | 'stderr') ?? 'stdout'
      const text = String(c.text ?? '')
      const last = outs[outs.length - 1]
      const trunc = ev.truncated ? { msgId: ev.parentMsgId, name } : undefined
      if (last && last.output_type === 'stream' && last.name === name) {
        const prev = String(last.text ?? '')
        if (last._truncated && prev.length >= MAX_STREAM_CHARS) return { outputs: outs, pendingClear }
        // a carriage return only rewrites its own line: re-apply them to the last line only
        let joined: string
        if (!text.includes('\r') && !text.includes('\x08') && !prev.endsWith('\r')) joined = prev + text
        else {
          const cut = prev.lastIndexOf('\n') + 1
          joined = prev.slice(0, cut) + applyCarriageReturns(prev.slice(cut) + text)
        }
        let truncated = last._truncated ?? trunc
        if (joined.length > MAX_STREAM_CHARS) {
          joined = joined.slice(0, MAX_STREAM_CHARS)
          truncated = truncated ?? { msgId: ev.parentMsgId, name }
        }
        return { outputs: [...outs.slice(0, -1), { ...last, text: joined, _truncated: truncated }], pendingClear }
      }
      return { outputs: [...outs, { output_type: 'stream', name, text: applyCarriageReturns(text), _truncated: trunc }], pendingClear }
    }
    case 'execute_result':
    case 'display_data': {
      const o: Output = { output_type: ev.msgType, data: c.data ?? {}, metadata: c.metadata ?? {} }
      if (ev.msgType === 'execute_result') o.execution_count = c.execution_count ?? null
      const displayId = (c.transient as { display_id?: string } | undefined)?.display_id
      if (displayId) o._displayId = displayId
      const full = c.atelier_full as { index: number; bytes: number } | undefined
      if (full) o._full = { msgId: ev.parentMsgId, index: full.index, bytes: full.bytes }
      return { outputs: [...outs, o], pendingClear }
    }
    case 'error':
      return {
        outputs: [...outs, { output_type: 'error', ename: c.ename ?? 'Error', evalue: c.evalue ?? '', traceback: (c.traceback as string[]) ?? [] }],
        pendingClear
      }
    case 'clear_output':
      if (c.wait) return { outputs: outs, pendingClear: true }
      return { outputs: [], pendingClear: false }
    default:
      return { outputs: outs, pendingClear }
  }
}

/** update_display_data: replaces the data of every output with that display id. */
export function updateDisplay(outputs: Output[], displayId: string, content: Record<string, unknown>): Output[] | null {
  let hit = false
  const next = outputs.map((o) => {
    if (o._displayId !== displayId) return o
    hit = true
    return { ...o, data: content.data ?? {}, metadata: content.metadata ?? {} }
  })
  return hit ? next : null
}

/** The output as saved in the .ipynb (renderer-only fields dropped, text split into lines). */
export function toNbformat(o: Output): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (!k.startsWith('_')) out[k] = v
  return out
}
