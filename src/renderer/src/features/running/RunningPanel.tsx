import { useCallback, useEffect, useState } from 'react'
import type { RunningItem, RunningKind, RunningPolicy } from '../../../../shared/running'
import { roleCan } from '../../../../shared/permissions'
import { call, onEvent } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { useSessionStore } from '../auth/session'
import { formatDuration } from '../../lib/format'
import './running.css'

const KIND_LABEL: Record<RunningKind, string> = {
  server: 'Jupyter server',
  kernel: 'Kernel',
  job: 'Job',
  tunnel: 'SSH tunnel',
  endpoint: 'Endpoint'
}
/** Kinds that can be idle, so an idle policy applies to them (jobs are never idle). */
const POLICY_KINDS: RunningKind[] = ['kernel', 'server', 'tunnel', 'endpoint']
const POLL_MS = 4000

function formatBytes(n: number | null): string {
  if (n === null) return '—'
  if (n < 2 ** 20) return `${Math.round(n / 1024)} KiB`
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(0)} MiB`
  return `${(n / 2 ** 30).toFixed(2)} GiB`
}

/** USD, with cents; below a cent, enough digits to see it move. */
function formatUsd(n: number): string {
  return n !== 0 && Math.abs(n) < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`
}

function formatCost(i: RunningItem): string {
  if (i.costPerHour == null) return '—'
  return `${formatUsd(i.costPerHour)}/h${i.costSoFar == null ? '' : ` · ${formatUsd(i.costSoFar)} so far`}`
}

/** The live things Atelier runs, kept fresh while someone looks (the top bar and the panel share it). */
function useRunning(active: boolean) {
  const [items, setItems] = useState<RunningItem[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const refresh = useCallback(async () => {
    try {
      setItems(await call('running.list', {}))
      setError(null)
    } catch (err) {
      setError((err as Error).message)
    }
  }, [])
  useEffect(() => {
    if (!active) return
    void refresh()
    const t = setInterval(() => void refresh(), POLL_MS)
    const offs = [
      onEvent('running.warning', () => void refresh()),
      onEvent('running.stopped', () => void refresh()),
      onEvent('kernel.status', () => void refresh()),
      onEvent('job.status', () => void refresh())
    ]
    return () => {
      clearInterval(t)
      offs.forEach((off) => off())
    }
  }, [active, refresh])
  return { items, error, refresh }
}

/** The top bar's "Running (N)" button, which opens the full Running view. */
export function RunningIndicator() {
  const [open, setOpen] = useState(false)
  const { items, error, refresh } = useRunning(true)
  const n = items?.length ?? 0
  const warned = items?.some((i) => i.stopAt) ?? false
  return (
    <>
      <button
        type="button"
        className={`btn small ghost running-btn${warned ? ' warn' : ''}`}
        onClick={() => setOpen(true)}
        title={warned ? 'Something idle will be stopped soon' : 'Servers, kernels, jobs and tunnels Atelier runs'}
      >
        Running ({n})
      </button>
      {open && <RunningPanel items={items} error={error} refresh={refresh} onClose={() => setOpen(false)} />}
    </>
  )
}

function RunningPanel(p: { items: RunningItem[] | null; error: string | null; refresh: () => Promise<void>; onClose: () => void }) {
  const principal = useSessionStore((s) => s.principal)
  const canStop = !principal || roleCan(principal.role, 'write')
  const [busy, setBusy] = useState<string | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const [, setNow] = useState(0)
  useEffect(() => {
    const t = setInterval(() => setNow((x) => x + 1), 1000)
    return () => clearInterval(t)
  }, [])

  const stop = async (i: RunningItem) => {
    setBusy(`${i.kind}:${i.id}`)
    try {
      await call('running.stop', { kind: i.kind, id: i.id })
      setMessage(`Stopped ${KIND_LABEL[i.kind].toLowerCase()} ${i.name}`)
    } catch (err) {
      setMessage(`Could not stop ${i.name}: ${(err as Error).message}`)
    } finally {
      setBusy(null)
      await p.refresh()
    }
  }
  const stopIdle = async () => {
    setBusy('idle')
    try {
      const { stopped } = await call('running.stopIdle', {})
      setMessage(stopped.length ? `Stopped ${stopped.length} idle item${stopped.length === 1 ? '' : 's'}` : 'Nothing was idle')
    } catch (err) {
      setMessage(`Could not stop idle items: ${(err as Error).message}`)
    } finally {
      setBusy(null)
      await p.refresh()
    }
  }
  const idleCount = p.items?.filter((i) => i.idleMs !== null).length ?? 0
  const costly = p.items?.filter((i) => i.costPerHour != null) ?? []
  const perHour = costly.reduce((sum, i) => sum + (i.costPerHour ?? 0), 0)

  return (
    <Dialog title="Running" onClose={p.onClose} className="wide running-dialog">
      <div className="dialog-body">
        <div className="running-actions">
          <span className="muted">
            {p.items ? `${p.items.length} live · ${idleCount} idle` : 'Loading…'}
            {p.error && <span role="alert"> · {p.error}</span>}
          </span>
          {costly.length > 0 && (
            <span className="running-cost-total" role="status" aria-label="Cloud cost per hour" title="On-demand list prices from resources/cloud (editable)">
              Cloud: {formatUsd(perHour)}/h ({costly.length} resource{costly.length === 1 ? '' : 's'})
            </span>
          )}
          <span className="spacer" />
          {canStop && (
            <button type="button" className="btn small" disabled={idleCount === 0 || busy !== null} onClick={() => void stopIdle()}>
              Stop all idle
            </button>
          )}
        </div>
        {message && (
          <p className="running-message" role="status">
            {message}
          </p>
        )}
        <table className="stats-table running-table" aria-label="Running resources">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Idle
              </th>
              <th scope="col" className="num">
                Memory
              </th>
              <th scope="col" className="num">
                Cost
              </th>
              <th scope="col">Details</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.items?.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  Nothing is running.
                </td>
              </tr>
            )}
            {p.items?.map((i) => (
              <tr key={`${i.kind}:${i.id}`} aria-label={`${KIND_LABEL[i.kind]} ${i.name}`}>
                <td>{KIND_LABEL[i.kind]}</td>
                <td title={i.name}>{i.name}</td>
                <td>
                  {i.state}
                  {i.stopAt && (
                    <span className="running-warn" role="note">
                      {' '}
                      · stops at {new Date(i.stopAt).toLocaleTimeString()} unless used
                    </span>
                  )}
                </td>
                <td className="num">{i.idleMs === null ? '—' : formatDuration(i.idleMs)}</td>
                <td className="num" title={i.memoryBytes === null ? 'Not measured: it does not run on this machine' : 'Resident memory of its process tree'}>
                  {formatBytes(i.memoryBytes)}
                </td>
                <td className="num" title={i.costPerHour == null ? 'No cloud cost (local, or no price in the table)' : 'Price per hour from the shipped table; cost since it started running'}>
                  {formatCost(i)}
                </td>
                <td title={i.detail ?? undefined}>{i.detail ?? ''}</td>
                <td>
                  {canStop && (
                    <button
                      type="button"
                      className="btn small"
                      aria-label={`Stop ${KIND_LABEL[i.kind].toLowerCase()} ${i.name}`}
                      disabled={busy !== null}
                      onClick={() => void stop(i)}
                    >
                      Stop
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <PolicyEditor canEdit={canStop} />
      </div>
    </Dialog>
  )
}

function PolicyEditor({ canEdit }: { canEdit: boolean }) {
  const [policies, setPolicies] = useState<RunningPolicy[] | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  useEffect(() => {
    void call('running.policies.get', {}).then(setPolicies, () => setPolicies([]))
  }, [])
  if (!policies) return null
  const edit = (kind: RunningKind, patch: Partial<RunningPolicy>) => {
    setSaved(null)
    setPolicies(policies.map((p) => (p.kind === kind ? { ...p, ...patch } : p)))
  }
  const minutes = (s: number | null) => (s === null ? '' : String(Math.round((s / 60) * 100) / 100))
  return (
    <form
      className="running-policies"
      aria-label="Idle policies"
      onSubmit={(e) => {
        e.preventDefault()
        void call('running.policies.set', { policies }).then(
          (p) => {
            setPolicies(p)
            setSaved('Saved')
          },
          (err) => setSaved(`Not saved: ${(err as Error).message}`)
        )
      }}
    >
      <h3>Idle policies</h3>
      {policies
        .filter((p) => POLICY_KINDS.includes(p.kind))
        .map((p) => (
          <div className="running-policy" key={p.kind}>
            <span className="running-policy-kind">{KIND_LABEL[p.kind]}s</span>
            <label>
              Stop after idle (min)
              <input
                type="number"
                min={0.1}
                step="any"
                placeholder="never"
                disabled={!canEdit}
                value={minutes(p.idleSeconds)}
                aria-label={`${KIND_LABEL[p.kind]}s: stop after idle, minutes`}
                onChange={(e) => edit(p.kind, { idleSeconds: e.target.value === '' ? null : Number(e.target.value) * 60 })}
              />
            </label>
            <label>
              Warn before (min)
              <input
                type="number"
                min={0}
                step="any"
                disabled={!canEdit}
                value={minutes(p.warnSeconds)}
                aria-label={`${KIND_LABEL[p.kind]}s: warn before stopping, minutes`}
                onChange={(e) => edit(p.kind, { warnSeconds: Number(e.target.value || 0) * 60 })}
              />
            </label>
          </div>
        ))}
      {canEdit && (
        <div className="running-actions">
          <button type="submit" className="btn small primary">
            Save policies
          </button>
          {saved && <span role="status">{saved}</span>}
        </div>
      )}
    </form>
  )
}
