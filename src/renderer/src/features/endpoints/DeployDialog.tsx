import { useEffect, useMemo, useState } from 'react'
import type { ModelVersion } from '../../../../shared/registry'
import { call } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { openEndpoint } from './useEndpointsNav'
import './endpoints.css'

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e))

export function useVersions(model: string | null) {
  const [versions, setVersions] = useState<ModelVersion[]>([])
  useEffect(() => {
    if (!model) return
    void call('registry.versions.list', { name: model }).then((p) => setVersions(p.versions), () => setVersions([]))
  }, [model])
  return versions
}

const endpointNameFor = (model: string) =>
  model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)

/**
 * Deploys a registered model version, or an alias to follow, as an endpoint. `initial` preselects the
 * model and version or alias (the Models room opens it on a version); with `offerOpen` the dialog
 * stays open once deployed and offers to open the endpoint in the Endpoints room.
 */
export function DeployDialog({
  onClose,
  onDeployed,
  initial,
  offerOpen
}: {
  onClose: () => void
  onDeployed?: (name: string) => void
  initial?: { model: string; version?: number; alias?: string }
  offerOpen?: boolean
}) {
  const [models, setModels] = useState<string[]>(initial ? [initial.model] : [])
  const [model, setModel] = useState(initial?.model ?? '')
  const initialTarget = initial?.alias ? `a:${initial.alias}` : initial?.version ? `v:${initial.version}` : ''
  const [target, setTarget] = useState(initialTarget)
  const [name, setName] = useState(initial ? endpointNameFor(initial.alias ? `${initial.model}-${initial.alias}` : initial.model) : '')
  const [interpreter, setInterpreter] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [deployed, setDeployed] = useState<string | null>(null)
  const versions = useVersions(model || null)
  useEffect(() => {
    if (initial) return
    void call('registry.models.list', {}).then((p) => {
      setModels(p.models.map((m) => m.name))
      if (p.models[0]) setModel(p.models[0].name)
    })
  }, [initial])
  const aliases = useMemo(() => [...new Set(versions.flatMap((v) => v.aliases))], [versions])
  useEffect(() => {
    if (versions[0] && !target) setTarget(`v:${versions[0].version}`)
    if (model && !name) setName(endpointNameFor(model))
  }, [versions, model, name, target])
  const submit = async () => {
    setBusy(true)
    setError(null)
    try {
      const sel = target.startsWith('a:') ? { alias: target.slice(2) } : { version: Number(target.slice(2)) }
      await call('endpoints.deploy', { name, model, ...sel, ...(interpreter ? { interpreter } : {}) })
      onDeployed?.(name)
      if (offerOpen) setDeployed(name)
    } catch (e) {
      setError(msg(e))
    } finally {
      setBusy(false)
    }
  }
  if (deployed)
    return (
      <Dialog title="Deploy a model" onClose={onClose} className="endpoints-dialog">
        <p role="status" aria-label="Deployed">
          Endpoint <strong>{deployed}</strong> is starting. Its URL, token and state are in the Endpoints room.
        </p>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
          <button
            type="button"
            className="btn primary"
            onClick={() => {
              onClose()
              openEndpoint(deployed)
            }}
          >
            Open in Endpoints
          </button>
        </div>
      </Dialog>
    )
  return (
    <Dialog title="Deploy a model" onClose={onClose} className="endpoints-dialog">
      <label>
        Model
        <select value={model} onChange={(e) => (setModel(e.target.value), setTarget(''))} aria-label="Model" disabled={!!initial}>
          {models.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </label>
      <label>
        Version or alias
        <select value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Version or alias">
          {versions.map((v) => (
            <option key={v.version} value={`v:${v.version}`}>
              Version {v.version} ({v.approvalStatus})
            </option>
          ))}
          {aliases.map((a) => (
            <option key={a} value={`a:${a}`}>
              Follow @{a}
            </option>
          ))}
        </select>
      </label>
      <label>
        Endpoint name
        <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Endpoint name" />
      </label>
      <label>
        Python interpreter (optional)
        <input value={interpreter} onChange={(e) => setInterpreter(e.target.value)} aria-label="Python interpreter" placeholder="the selected interpreter" />
      </label>
      {error && (
        <div role="alert" className="error-box small">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="btn primary" disabled={busy || !model || !target || !name} onClick={() => void submit()}>
          {busy ? 'Deploying…' : 'Deploy'}
        </button>
      </div>
    </Dialog>
  )
}
