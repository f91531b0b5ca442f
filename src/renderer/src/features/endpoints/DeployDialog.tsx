import { useEffect, useMemo, useState } from 'react'
import type { JobTarget } from '../../../../shared/jobs'
import type { ModelVersion } from '../../../../shared/registry'
import { call, onEvent } from '../../api/client'
import { Dialog } from '../../components/Dialog'
import { openEndpoint } from './useEndpointsNav'
import './endpoints.css'
import { errorText } from '../../lib/errors'

/** The model's versions, fetched again whenever the registry says that model changed. */
export function useVersions(model: string | null) {
  const [versions, setVersions] = useState<ModelVersion[]>([])
  useEffect(() => {
    if (!model) return
    const load = () => void call('registry.versions.list', { name: model }).then((p) => setVersions(p.versions), () => setVersions([]))
    load()
    return onEvent('registry.changed', (e) => {
      if (e.name === null || e.name === model) load()
    })
  }, [model])
  return versions
}

/** `$0.115/h`, or the currency's code where it is not USD. */
export const perHour = (v: number, currency: string) => `${currency === 'USD' ? '$' : `${currency} `}${v.toFixed(3)}/h`

/** SageMaker targets and the shipped hosting prices, for the Where choice. */
function useSageMaker() {
  const [targets, setTargets] = useState<JobTarget[]>([])
  const [prices, setPrices] = useState<{ currency: string; hosting: Record<string, number> }>({ currency: 'USD', hosting: {} })
  useEffect(() => {
    void call('jobs.targets.list', {}).then((t) => setTargets(t.filter((x) => x.kind === 'sagemaker')), () => setTargets([]))
    void call('endpoints.sagemaker.prices', {}).then(setPrices, () => undefined)
  }, [])
  return { targets, prices }
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
  const [where, setWhere] = useState('local')
  const [instanceType, setInstanceType] = useState('ml.m5.large')
  const [instanceCount, setInstanceCount] = useState(1)
  const sm = useSageMaker()
  const smTarget = sm.targets.find((t) => t.id === where) ?? null
  const price = sm.prices.hosting[instanceType]
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
      await call('endpoints.deploy', {
        name,
        model,
        ...sel,
        ...(interpreter && !smTarget ? { interpreter } : {}),
        ...(smTarget ? { sagemaker: { target: smTarget.id, instanceType, instanceCount } } : {})
      })
      onDeployed?.(name)
      if (offerOpen) setDeployed(name)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }
  if (deployed)
    return (
      <Dialog title="Deploy a model" onClose={onClose} className="endpoints-dialog">
        <div className="dialog-body">
          <p role="status" aria-label="Deployed">
            Endpoint <strong>{deployed}</strong> is starting{smTarget ? ` on SageMaker (${smTarget.name})` : ''}. Its URL, token and state are in the Endpoints room.
          </p>
          <div className="dialog-foot">
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
        </div>
      </Dialog>
    )
  return (
    <Dialog title="Deploy a model" onClose={onClose} className="endpoints-dialog">
      <div className="dialog-body">
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
          Where
          <select value={where} onChange={(e) => setWhere(e.target.value)} aria-label="Where">
            <option value="local">This machine</option>
            {sm.targets.map((t) => (
              <option key={t.id} value={t.id}>
                SageMaker: {t.name}
                {t.sagemaker?.region ? ` (${t.sagemaker.region})` : ''}
              </option>
            ))}
          </select>
        </label>
        {smTarget ? (
          <fieldset className="deploy-sagemaker" aria-label="SageMaker instances">
            <label>
              Instance type
              <select value={instanceType} onChange={(e) => setInstanceType(e.target.value)} aria-label="Instance type">
                {[...new Set([...Object.keys(sm.prices.hosting), instanceType])].map((t) => (
                  <option key={t} value={t}>
                    {t}
                    {sm.prices.hosting[t] !== undefined ? ` · ${perHour(sm.prices.hosting[t], sm.prices.currency)}` : ''}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Instance count
              <input type="number" min={1} max={100} value={instanceCount} onChange={(e) => setInstanceCount(Math.max(1, Number(e.target.value) || 1))} aria-label="Instance count" />
            </label>
            <p role="status" aria-label="Cost per hour" className="deploy-cost">
              {price !== undefined
                ? `Costs about ${perHour(price * instanceCount, sm.prices.currency)} while it runs (${instanceCount} × ${instanceType} at ${perHour(price, sm.prices.currency)}, on-demand list price).`
                : `${instanceType} is not in the price table (resources/cloud/sagemaker-prices.json).`}
            </p>
            <p className="muted small">
              Deploys the version&apos;s SageMaker model package: push the version to SageMaker from the Models room and approve it in Reviews first. SageMaker bills
              the instances until you stop or delete the endpoint.
            </p>
          </fieldset>
        ) : (
          <label>
            Python interpreter (optional)
            <input value={interpreter} onChange={(e) => setInterpreter(e.target.value)} aria-label="Python interpreter" placeholder="the selected interpreter" />
          </label>
        )}
        {error && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={busy || !model || !target || !name} onClick={() => void submit()}>
            {busy ? 'Deploying…' : 'Deploy'}
          </button>
        </div>
      </div>
    </Dialog>
  )
}
