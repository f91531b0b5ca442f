import { useEffect, useState } from 'react'
import type { CatalogSource } from '../../../../shared/api'
import type { ColumnProfile, ProblemType, SplitSettings } from '../../../../shared/builder'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { ProgressBar } from '../../components/ProgressBar'
import { useWorkspaceStore } from '../workspace/useWorkspaceStore'
import { Results } from './Results'
import { message, subscribeBuilder, useBuilderStore } from './useBuilderStore'
import './builder.css'

export function BuilderRoom() {
  const { builds, selectedId, load, select, error, setError } = useBuilderStore()
  const [creating, setCreating] = useState(false)
  // builds belong to the workspace they were made in: a switch reloads the list
  const generation = useWorkspaceStore((s) => s.generation)
  useEffect(() => {
    subscribeBuilder()
    load().catch(setError)
  }, [load, setError, generation])
  return (
    <div className="builder">
      <aside className="builder-list" aria-label="Builds">
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New model
        </button>
        <ul role="listbox" aria-label="Builds">
          {builds.map((b) => (
            <li key={b.id} role="option" aria-selected={b.id === selectedId} tabIndex={0} onClick={() => void select(b.id)} onKeyDown={(e) => e.key === 'Enter' && void select(b.id)}>
              <strong>{b.name}</strong>
              <span className={`state state-${b.state}`}>{b.state}</span>
              <small>{b.table}</small>
            </li>
          ))}
        </ul>
      </aside>
      <section className="builder-main">
        {error && (
          <div role="alert" className="builder-error">
            {error}
            <button type="button" aria-label="Dismiss" onClick={() => setError(null)}>
              ×
            </button>
          </div>
        )}
        {selectedId ? <BuildView /> : <p className="muted">Pick a build, or start one with “New model”.</p>}
      </section>
      {creating && <NewModelDialog onClose={() => setCreating(false)} />}
    </div>
  )
}

function NewModelDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('')
  const [tables, setTables] = useState<string[]>([])
  const [table, setTable] = useState('')
  const [file, setFile] = useState('')
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState<string | null>(null)
  const { load, select } = useBuilderStore()
  useEffect(() => {
    call('lake.catalog', {}).then((cat: CatalogSource[]) => {
      const names = cat.flatMap((s) => s.tables.map((t) => t.sqlName))
      setTables(names)
      setTable((t) => t || names[0] || '')
    }, (e) => setErr(message(e)))
  }, [])
  const submit = async () => {
    setBusy(true)
    setErr(null)
    try {
      let t = table
      if (file.trim()) {
        const src = await call('lake.sources.add', { kind: 'file', location: file.trim() })
        t = src.name
      }
      const b = await call('builder.create', { name: name.trim(), table: t })
      await load()
      await select(b.id)
      onClose()
    } catch (e) {
      setErr(message(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <Dialog title="New model" onClose={onClose}>
      <form
        className="builder-form"
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
      >
        <label>
          Model name
          <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </label>
        <label>
          Dataset
          <select value={table} onChange={(e) => setTable(e.target.value)}>
            {tables.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Or a CSV/Parquet file
          <input value={file} onChange={(e) => setFile(e.target.value)} placeholder="path in the workspace" />
        </label>
        {err && <p role="alert">{err}</p>}
        <div className="row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !name.trim() || (!table && !file.trim())}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  )
}

const pct = (v: number) => `${v.toFixed(v < 10 && v > 0 ? 1 : 0)}%`

function MiniChart({ c }: { c: ColumnProfile }) {
  const max = Math.max(1, ...c.histogram.map((h) => h.count))
  return (
    <svg className="mini" width={72} height={20} role="img" aria-label={`Distribution of ${c.name}`}>
      {c.histogram.map((h, i) => {
        const w = 72 / Math.max(1, c.histogram.length)
        const hgt = (18 * h.count) / max
        return <rect key={i} x={i * w + 0.5} y={20 - hgt} width={Math.max(1, w - 1)} height={hgt} />
      })}
    </svg>
  )
}

function BuildView() {
  const { detail, columns, refresh, loadColumns, setError } = useBuilderStore()
  const [busy, setBusy] = useState<string | null>(null)
  if (!detail) return <p className="muted">Loading…</p>
  const s = detail.settings
  const running = detail.state === 'running'
  const update = async (patch: Parameters<typeof call<'builder.update'>>[1]['settings']) => {
    // shown at once (controlled inputs), then saved; the saved build replaces it
    useBuilderStore.setState({ detail: { ...detail, settings: { ...detail.settings, ...patch, split: patch.split ?? detail.settings.split, features: patch.features ?? detail.settings.features } } })
    try {
      await call('builder.update', { buildId: detail.id, settings: patch })
      await refresh()
    } catch (e) {
      setError(e)
    }
  }
  const setTarget = async (target: string) => {
    const cols = columns?.columns ?? []
    // new target: tick every other column without a blocking warning
    const features = cols.filter((c) => c.name !== target && !c.warnings.some((w) => ['id_like', 'constant', 'all_missing', 'free_text', 'date', 'leakage', 'high_cardinality_text'].includes(w.kind))).map((c) => c.name)
    await update({ target, features, problemType: null })
    await loadColumns(detail.table, target)
  }
  const toggle = (name: string, on: boolean) => void update({ features: on ? [...s.features, name] : s.features.filter((f) => f !== name) })
  const setSplit = (patch: Partial<SplitSettings>) => void update({ split: { ...s.split, ...patch } })
  const start = async (mode: 'preview' | 'quick' | 'standard') => {
    setBusy(mode)
    setError(null)
    try {
      await call('builder.start', { buildId: detail.id, mode })
      await refresh()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(null)
    }
  }
  const inferred = columns?.problemType ?? null
  return (
    <div className="build-view">
      <h2>{detail.name}</h2>
      <p className="muted">
        {detail.table} · {columns ? `${columns.rows.toLocaleString()} rows` : ''} · experiment “{detail.experimentName}”
      </p>
      <fieldset className="builder-setup" disabled={running}>
        <legend>Set-up</legend>
        <div className="row">
          <label>
            Target column
            <select value={s.target ?? ''} onChange={(e) => void setTarget(e.target.value)}>
              <option value="">Choose…</option>
              {(columns?.columns ?? []).map((c) => (
                <option key={c.name}>{c.name}</option>
              ))}
            </select>
          </label>
          <label>
            Problem type
            <select value={s.problemType ?? ''} onChange={(e) => void update({ problemType: (e.target.value || null) as ProblemType | null })}>
              <option value="">{inferred ? `Inferred: ${inferred}` : 'Inferred'}</option>
              <option value="binary">binary</option>
              <option value="multiclass">multiclass</option>
              <option value="regression">regression</option>
            </select>
          </label>
        </div>
        <table className="columns-table" aria-label="Columns">
          <thead>
            <tr>
              <th>Use</th>
              <th>Type</th>
              <th className="num">Missing</th>
              <th className="num">Distinct</th>
              <th>Distribution</th>
              <th>Warnings</th>
            </tr>
          </thead>
          <tbody>
            {(columns?.columns ?? []).map((c) => {
              const isTarget = c.name === s.target
              return (
                <tr key={c.name} className={isTarget ? 'target' : ''}>
                  <td>
                    <label className="col-check">
                      <input type="checkbox" aria-label={c.name} aria-describedby={`col-${c.name}-desc`} checked={s.features.includes(c.name)} disabled={isTarget} onChange={(e) => toggle(c.name, e.target.checked)} />
                      {c.name}
                      {isTarget && <em> (target)</em>}
                    </label>
                  </td>
                  <td>{c.type}</td>
                  <td className="num">{pct(c.missingPct)}</td>
                  <td className="num">{c.distinct.toLocaleString()}</td>
                  <td>
                    <MiniChart c={c} />
                  </td>
                  <td id={`col-${c.name}-desc`} className="warn">
                    <span className="sr-only">
                      {c.type}, {pct(c.missingPct)} missing, {c.distinct} distinct{c.warnings.length ? '. ' : ''}
                    </span>
                    {c.warnings.map((w) => w.message).join('; ')}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
        <div className="row split">
          {(['train', 'validation', 'test'] as const).map((k) => (
            <label key={k}>
              {k[0].toUpperCase() + k.slice(1)} %
              <input type="number" min={1} max={98} value={s.split[k]} onChange={(e) => setSplit({ [k]: Number(e.target.value) })} />
            </label>
          ))}
          <label>
            Seed
            <input type="number" min={0} value={s.split.seed} onChange={(e) => setSplit({ seed: Number(e.target.value) })} />
          </label>
          <label className="inline">
            <input type="checkbox" checked={s.split.stratify} onChange={(e) => setSplit({ stratify: e.target.checked })} />
            Stratified
          </label>
        </div>
      </fieldset>
      <div className="row actions">
        <button type="button" onClick={() => void start('preview')} disabled={running || !!busy}>
          Preview model
        </button>
        <button type="button" className="primary" onClick={() => void start('quick')} disabled={running || !!busy}>
          Quick build
        </button>
        <button type="button" onClick={() => void start('standard')} disabled={running || !!busy}>
          Standard build
        </button>
        {running && (
          <button type="button" onClick={() => void call('builder.cancel', { buildId: detail.id }).catch(setError)}>
            Cancel build
          </button>
        )}
      </div>
      {running && detail.progress && <ProgressBar label={detail.progress.message} percent={Math.round(detail.progress.fraction * 100)} />}
      {detail.error && (
        <p role="alert" className="builder-error">
          {detail.error.message}
          {detail.error.hint && <code> {detail.error.hint}</code>}
        </p>
      )}
      {detail.notices.length > 0 && (
        <ul className="notices" aria-label="Notices">
          {detail.notices.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {detail.preview && (
        <p className="preview" role="status">
          Preview on a sample: expected {detail.preview.objective} ≈ {Number(detail.preview.leaderboard[0]?.validation?.[detail.preview.objective] ?? 0).toFixed(3)}; top columns:{' '}
          {detail.preview.details.impact.columns.slice(0, 3).map((c) => c.column).join(', ')}
        </p>
      )}
      {detail.candidates.length > 0 && <Leaderboard />}
      {detail.results && detail.state !== 'running' && <Results key={detail.updatedAt} />}
    </div>
  )
}

function Leaderboard() {
  const detail = useBuilderStore((s) => s.detail)!
  const obj = detail.results?.objective ?? 'roc_auc'
  return (
    <table className="stats-table leaderboard" aria-label="Leaderboard">
      <thead>
        <tr>
          <th>Candidate</th>
          <th>Status</th>
          <th className="num">Validation {obj}</th>
          <th className="num">Test {obj}</th>
          <th className="num">Seconds</th>
        </tr>
      </thead>
      <tbody>
        {detail.candidates.map((c) => (
          <tr key={c.name}>
            <th>
              {c.name.replace(/_/g, ' ')}
              {c.name === detail.best ? ' ★' : ''}
            </th>
            <td title={c.error}>{c.status === 'failed' ? `failed: ${c.error}` : c.status}</td>
            <td className="num">{c.validation?.[obj]?.toFixed(4) ?? ''}</td>
            <td className="num">{c.test?.[obj]?.toFixed(4) ?? ''}</td>
            <td className="num">{c.seconds?.toFixed(1) ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
