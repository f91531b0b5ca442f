import type { VariableInfo } from '../../../shared/api'

/**
 * The user's variables, computed in the kernel without touching its namespace or its history:
 * the code runs through `exec` in a private dict from a `user_expressions` entry of a silent,
 * store_history=False execute request, so the execution count does not move. The expression's
 * value is an object whose repr is the JSON, which arrives as text/plain.
 */
const INSPECT = String.raw`
import sys, json, types
ns = get_ipython().user_ns
hidden = set(get_ipython().user_ns_hidden) if hasattr(get_ipython(), 'user_ns_hidden') else set()
pd = sys.modules.get('pandas')
np = sys.modules.get('numpy')
skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)
rows = []
for name, v in list(ns.items()):
    if name.startswith('_') or name in hidden or name in ('In', 'Out', 'exit', 'quit', 'get_ipython'):
        continue
    if isinstance(v, skip):
        continue
    if len(rows) >= 500:
        break
    t = type(v)
    tn = t.__name__ if t.__module__ == 'builtins' else t.__module__ + '.' + t.__qualname__
    kind = 'other'
    shape = None
    size = None
    nbytes = None
    preview = None
    columns = None
    approx = False
    try:
        if pd is not None and isinstance(v, pd.DataFrame):
            kind = 'dataframe'
            columns = [{'name': str(c), 'dtype': str(d)} for c, d in list(v.dtypes.items())[:200]]
            nbytes = int(v.memory_usage(index=True, deep=True).sum())
        elif pd is not None and isinstance(v, pd.Series):
            kind = 'series'
            nbytes = int(v.memory_usage(index=True, deep=True))
            preview = 'dtype ' + str(v.dtype)
        elif np is not None and isinstance(v, np.ndarray):
            kind = 'ndarray'
            nbytes = int(v.nbytes)
            preview = 'dtype ' + str(v.dtype)
        s = getattr(v, 'shape', None)
        if isinstance(s, tuple) and all(isinstance(x, int) or type(x).__name__.startswith('int') for x in s):
            shape = [int(x) for x in s]
        if kind == 'other':
            if isinstance(v, (str, bytes, bytearray)):
                size = len(v)
                nbytes = sys.getsizeof(v)
            elif isinstance(v, (list, tuple, set, frozenset, dict)):
                # a container: its length, and its memory estimated from up to 200 items (keys and values)
                size = len(v)
                items = list(v.items())[:200] if isinstance(v, dict) else list(v)[:200] if isinstance(v, (set, frozenset)) else v[:200]
                per = 0
                for it in items:
                    for x in (it if isinstance(v, dict) else (it,)):
                        n = getattr(x, 'nbytes', None)
                        per += n if isinstance(n, int) else sys.getsizeof(x)
                nbytes = sys.getsizeof(v) + (int(per * len(v) / len(items)) if items else 0)
                approx = len(v) > len(items) or any(not isinstance(x, (int, float, str, bytes, bool, type(None))) for x in (items[:20] if not isinstance(v, dict) else [b for a in items[:20] for b in a]))
            else:
                # other objects: what they say they hold (tensors, sparse matrices, xarray), else nothing:
                # sys.getsizeof of a wrapper (a model, a figure) is not its size
                n = getattr(v, 'nbytes', None)
                if isinstance(n, int) and not isinstance(n, bool):
                    nbytes = n
                elif callable(getattr(v, 'element_size', None)) and callable(getattr(v, 'nelement', None)):
                    try:
                        nbytes = int(v.element_size() * v.nelement())
                    except Exception:
                        nbytes = None
                if not isinstance(v, (int, float, complex, bool)) and hasattr(v, '__len__'):
                    try:
                        size = len(v)
                    except Exception:
                        size = None
            import reprlib
            r = reprlib.Repr()
            r.maxstring = 120
            r.maxother = 120
            preview = r.repr(v)[:200]
        elif shape is not None:
            size = 1
            for x in shape:
                size *= x
    except Exception as e:
        preview = '<error: %s>' % type(e).__name__
    rows.append({'name': name, 'type': tn, 'kind': kind, 'shape': shape, 'size': size, 'bytes': nbytes, 'approx': approx, 'preview': preview, 'columns': columns})
out = json.dumps(rows, default=str)
`

/** The `user_expressions` entry for the execute request. */
export function variablesExpression(): string {
  const src = JSON.stringify(INSPECT)
  return `(lambda g: (exec(${src}, g), type('AtelierVars', (), {'__repr__': lambda self, s=g['out']: s})())[1])({'get_ipython': get_ipython})`
}

/** Reads the text/plain result of the expression. */
export function parseVariables(result: unknown): VariableInfo[] {
  const r = result as { status?: string; data?: Record<string, unknown>; ename?: string; evalue?: string } | undefined
  if (!r || r.status !== 'ok') throw new Error(r?.ename ? `${r.ename}: ${r.evalue}` : 'the kernel did not evaluate the inspection')
  const text = r.data?.['text/plain']
  if (typeof text !== 'string') throw new Error('the inspection returned no text')
  const rows = JSON.parse(text) as (VariableInfo & { columns: VariableInfo['columns'] | null; approx?: boolean })[]
  return rows.map((row) => {
    const { columns, approx, ...rest } = row
    return { ...rest, ...(approx ? { bytesApprox: true } : {}), ...(columns ? { columns } : {}) }
  })
}
