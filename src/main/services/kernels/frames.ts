/**
 * "Open in Data": a DataFrame (or Series) of the kernel written to a file the Data room queries.
 * Parquet with pyarrow, else with DuckDB in the kernel, else CSV (with the column types, so the Data
 * room reads them back typed); the format used is reported. The code runs from a `user_expressions`
 * entry of a silent execute request, in a private dict: the user's namespace and history are untouched.
 */
const EXPORT = String.raw`
import os, json, re
obj = get_ipython().user_ns[name]
if hasattr(obj, 'to_frame') and not hasattr(obj, 'columns'):
    obj = obj.to_frame()
if type(obj.index).__name__ != 'RangeIndex':
    obj = obj.reset_index()
obj = obj.set_axis([str(c) for c in obj.columns], axis=1)
if folder is None:
    import tempfile, getpass
    folder = os.path.join(tempfile.gettempdir(), 'atelier-%s-frames-%s' % (re.sub(r'\W', '_', getpass.getuser()), kernel))
os.makedirs(folder, mode=0o700, exist_ok=True)
base = os.path.join(folder, re.sub(r'[^A-Za-z0-9_.-]', '_', name))
fmt = None
why = []
try:
    import pyarrow
    path = base + '.parquet'
    obj.to_parquet(path, index=False)
    fmt = 'parquet-pyarrow'
except Exception as e:
    why.append('pyarrow: %s' % (e if not isinstance(e, ImportError) else 'not installed'))
if fmt is None:
    try:
        import duckdb
        path = base + '.parquet'
        con = duckdb.connect()
        con.register('atelier_frame', obj)
        con.execute("COPY atelier_frame TO '%s' (FORMAT PARQUET)" % path.replace("'", "''"))
        con.close()
        fmt = 'parquet-duckdb'
    except Exception as e:
        why.append('duckdb: %s' % (e if not isinstance(e, ImportError) else 'not installed'))
types = {}
if fmt is None:
    path = base + '.csv'
    obj.to_csv(path, index=False)
    fmt = 'csv'
    for c, d in obj.dtypes.items():
        k = getattr(d, 'kind', 'O')
        types[c] = {'i': 'BIGINT', 'u': 'UBIGINT', 'f': 'DOUBLE', 'b': 'BOOLEAN', 'M': 'TIMESTAMP'}.get(k, 'VARCHAR')
out = json.dumps({'path': path, 'format': fmt, 'bytes': os.path.getsize(path), 'rows': int(len(obj)), 'types': types, 'why': why})
`

/** The user_expressions entry that writes `name` into `folder` (null: a per-user, per-kernel temp folder on the kernel's machine). */
export function exportExpression(name: string, folder: string | null, kernelId: string): string {
  const g = `{'get_ipython': get_ipython, 'name': ${JSON.stringify(name)}, 'folder': ${folder === null ? 'None' : JSON.stringify(folder)}, 'kernel': ${JSON.stringify(kernelId)}}`
  return `(lambda g: (exec(${JSON.stringify(EXPORT)}, g), type('AtelierFrame', (), {'__repr__': lambda self, s=g['out']: s})())[1])(${g})`
}

export interface ExportedFrame {
  path: string
  format: 'parquet-pyarrow' | 'parquet-duckdb' | 'csv'
  bytes: number
  rows: number
  types: Record<string, string>
  why: string[]
}

/** Reads `n` bytes at `offset` of a file on the kernel's machine, base64 (repr of a str: quoted, nothing escaped). */
export function chunkExpression(path: string, offset: number, n: number): string {
  return `(lambda f: (f.seek(${offset}), __import__('base64').b64encode(f.read(${n})).decode('ascii'), f.close())[1])(open(${JSON.stringify(path)}, 'rb'))`
}

/** Removes the file (and its folder when empty) on the kernel's machine. */
export function removeExpression(path: string): string {
  return `(lambda os: (os.remove(${JSON.stringify(path)}), os.rmdir(os.path.dirname(${JSON.stringify(path)})) if not os.listdir(os.path.dirname(${JSON.stringify(path)})) else None))(__import__('os'))`
}

/** The Data room's SQL for a written frame. */
export function frameSql(f: Pick<ExportedFrame, 'path' | 'format' | 'types'>): string {
  const lit = (s: string) => `'${s.replace(/'/g, "''")}'`
  if (f.format !== 'csv') return `SELECT * FROM read_parquet(${lit(f.path)})`
  const types = Object.entries(f.types)
  const typed = types.length ? `, types = {${types.map(([c, t]) => `${lit(c)}: ${lit(t)}`).join(', ')}}` : ''
  return `SELECT * FROM read_csv(${lit(f.path)}, header = true${typed})`
}

export function describeFormat(f: Pick<ExportedFrame, 'format'>): string {
  return f.format === 'parquet-pyarrow' ? 'Parquet (written with pyarrow)' : f.format === 'parquet-duckdb' ? 'Parquet (written with DuckDB)' : 'CSV (neither pyarrow nor duckdb is installed in the kernel; column types kept)'
}
