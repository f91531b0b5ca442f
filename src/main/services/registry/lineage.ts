/**
 * Lineage of a version (version ← source run ← dataset inputs and code; → endpoints once they exist),
 * its export as OpenLineage RunEvents, and the side-by-side comparison of two versions.
 */
import { MODEL_CARD_FIELDS, MODEL_CARD_LABELS, type LineageEdge, type LineageGraph, type LineageNode, type OpenLineageExport, type VersionComparison } from '../../../shared/registry'
import { higherIsBetter } from './reviews'
import type { RegistryService } from './RegistryService'
import type { VersionRow } from './store'

const PRODUCER = 'https://github.com/atelier-app/atelier'
const RUN_EVENT_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent'
const NAMESPACE = 'atelier'

type DatasetRow = { name: string; digest: string; source_type: string; source: string; schema: string | null; tags: string }

function runInfo(r: RegistryService, runId: string) {
  const run = r.d.db
    .prepare('SELECT id, run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri FROM tracking_runs WHERE run_uuid = ?')
    .get(runId) as
    | { id: number; run_uuid: string; experiment_id: number; name: string; user_id: string; status: string; start_time: number | null; end_time: number | null; artifact_uri: string }
    | undefined
  if (!run) return null
  const datasets = r.d.db
    .prepare(
      `SELECT d.name, d.digest, d.source_type, d.source, d.schema, i.tags FROM tracking_inputs i JOIN tracking_datasets d ON d.id = i.dataset_id WHERE i.run_id = ? ORDER BY d.name`
    )
    .all(run.id) as DatasetRow[]
  const experiment = (r.d.db.prepare('SELECT name FROM tracking_experiments WHERE experiment_id = ?').get(run.experiment_id) as { name: string } | undefined)?.name ?? String(run.experiment_id)
  return { run, datasets, experiment, tags: r.store.runTags(runId) }
}

/** A dataset's source JSON (`{"uri": …}`, `{"path": …}`, `{"table": …}`) as a location, when it has one. */
function datasetLocation(d: DatasetRow): string {
  try {
    const s = JSON.parse(d.source) as Record<string, unknown>
    for (const k of ['uri', 'url', 'path', 'table', 'table_name']) if (typeof s[k] === 'string') return s[k] as string
  } catch {
    // a plain string source
  }
  return d.source
}

export function lineageGraph(r: RegistryService, v: VersionRow): LineageGraph {
  const nodes: LineageNode[] = []
  const edges: LineageEdge[] = []
  const vid = `model_version:${v.name}/${v.version}`
  nodes.push({ id: vid, kind: 'model_version', label: `${v.name} v${v.version}`, details: { approvalStatus: v.approval_status, source: v.source, registeredBy: v.created_by_name } })
  if (v.run_id) {
    const info = runInfo(r, v.run_id)
    const rid = `run:${v.run_id}`
    nodes.push({
      id: rid,
      kind: 'run',
      label: info?.run.name || v.run_id.slice(0, 8),
      details: info ? { runId: v.run_id, experiment: info.experiment, status: info.run.status, user: info.run.user_id } : { runId: v.run_id, missing: 'the run no longer exists' }
    })
    edges.push({ from: rid, to: vid, kind: 'registered_from' })
    if (info) {
      for (const d of info.datasets) {
        const location = datasetLocation(d)
        const kind: LineageNode['kind'] = /table/i.test(d.source_type) ? 'table' : /local|file|path/i.test(d.source_type) || /^(\/|file:)/.test(location) ? 'file' : 'dataset'
        const id = `dataset:${d.name}@${d.digest}`
        if (!nodes.some((n) => n.id === id)) nodes.push({ id, kind, label: d.name, details: { digest: d.digest, sourceType: d.source_type, source: location, context: contextOf(d.tags) } })
        edges.push({ from: id, to: rid, kind: 'input' })
      }
      const t = info.tags
      if (t['mlflow.source.git.commit']) {
        const id = `code:${t['mlflow.source.git.commit']}`
        nodes.push({ id, kind: 'code', label: `commit ${t['mlflow.source.git.commit'].slice(0, 10)}`, details: { commit: t['mlflow.source.git.commit'], repo: t['mlflow.source.git.repoURL'] ?? '', source: t['mlflow.source.name'] ?? '' } })
        edges.push({ from: id, to: rid, kind: 'code' })
      }
      const sourceName = t['mlflow.source.name'] ?? ''
      if (/\.ipynb$/i.test(sourceName) || t['mlflow.source.type'] === 'NOTEBOOK') {
        const id = `notebook:${sourceName}`
        nodes.push({ id, kind: 'notebook', label: sourceName.split('/').pop() || sourceName, details: { path: sourceName } })
        edges.push({ from: id, to: rid, kind: 'code' })
      }
      if (t['atelier.job.id']) {
        const id = `job:${t['atelier.job.id']}`
        nodes.push({ id, kind: 'job', label: `job ${t['atelier.job.id'].slice(0, 8)}`, details: { jobId: t['atelier.job.id'], backend: t['atelier.job.backend'] ?? '', target: t['atelier.job.target'] ?? '' } })
        edges.push({ from: id, to: rid, kind: 'ran_as' })
      }
    }
  }
  return { nodes, edges }
}

function contextOf(tags: string): string {
  try {
    const list = JSON.parse(tags) as { key: string; value: string }[]
    return list.find((t) => t.key === 'mlflow.data.context')?.value ?? ''
  } catch {
    return ''
  }
}

/** `0123…` (32 hex) → UUID form, as OpenLineage wants run ids. */
function asUuid(hex: string): string {
  const h = hex.replace(/-/g, '').toLowerCase()
  if (!/^[0-9a-f]{32}$/.test(h)) return hex
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export function openLineageEvents(r: RegistryService, v: VersionRow): OpenLineageExport {
  const fileName = `${v.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-v${v.version}-openlineage.json`
  const output = {
    namespace: `${NAMESPACE}-registry`,
    name: `models:/${v.name}/${v.version}`,
    facets: { storage: { _producer: PRODUCER, _schemaURL: 'https://openlineage.io/spec/facets/1-0-0/StorageDatasetFacet.json', storageLayer: 'mlflow', fileFormat: 'mlflow-model' } }
  }
  if (!v.run_id) return { fileName, events: [] }
  const info = runInfo(r, v.run_id)
  if (!info) return { fileName, events: [] }
  const inputs = info.datasets.map((d) => {
    const facets: Record<string, unknown> = {}
    if (d.schema) {
      try {
        const s = JSON.parse(d.schema) as { mlflow_colspec?: { name?: string; type?: string }[] }
        if (Array.isArray(s.mlflow_colspec)) {
          facets.schema = {
            _producer: PRODUCER,
            _schemaURL: 'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json',
            fields: s.mlflow_colspec.map((c) => ({ name: c.name ?? '', type: c.type ?? '' }))
          }
        }
      } catch {
        // no schema facet
      }
    }
    facets.version = { _producer: PRODUCER, _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json', datasetVersion: d.digest }
    return { namespace: d.source_type || NAMESPACE, name: datasetLocation(d) || d.name, facets }
  })
  const run = { runId: asUuid(v.run_id), facets: {} as Record<string, unknown> }
  if (info.tags['mlflow.source.git.commit']) {
    run.facets.sourceCodeLocation = {
      _producer: PRODUCER,
      _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/SourceCodeLocationJobFacet.json',
      type: 'git',
      url: info.tags['mlflow.source.git.repoURL'] ?? '',
      version: info.tags['mlflow.source.git.commit']
    }
  }
  const job = { namespace: NAMESPACE, name: `${info.experiment}.${info.run.name || v.run_id}`, facets: {} }
  const start = info.run.start_time ?? v.created_at
  const end = info.run.end_time ?? v.created_at
  const endType = info.run.status === 'FAILED' ? 'FAIL' : info.run.status === 'KILLED' ? 'ABORT' : info.run.status === 'RUNNING' ? 'RUNNING' : 'COMPLETE'
  const base = { producer: PRODUCER, schemaURL: RUN_EVENT_SCHEMA, run, job, inputs }
  return {
    fileName,
    events: [
      { eventType: 'START', eventTime: new Date(start).toISOString(), ...base, outputs: [] },
      { eventType: endType, eventTime: new Date(end).toISOString(), ...base, outputs: [output] }
    ]
  }
}

export function compareVersions(r: RegistryService, a: VersionRow, b: VersionRow): VersionComparison {
  const [va, vb] = r.store.toVersions([a, b])
  const pa = r.store.runParams(a.run_id)
  const pb = r.store.runParams(b.run_id)
  const params = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort().map((key) => ({ key, a: pa[key] ?? null, b: pb[key] ?? null, same: pa[key] === pb[key] }))
  const metrics = [...new Set([...Object.keys(va.metrics), ...Object.keys(vb.metrics)])].sort().map((key) => {
    const x = va.metrics[key] ?? null
    const y = vb.metrics[key] ?? null
    return { key, a: x, b: y, delta: x !== null && y !== null ? y - x : null, higherIsBetter: higherIsBetter(key) }
  })
  const ca = r.cards.fieldsOf(a)
  const cb = r.cards.fieldsOf(b)
  const card = [
    ...MODEL_CARD_FIELDS.map((f) => ({ field: f, label: MODEL_CARD_LABELS[f], a: ca[f], b: cb[f], same: ca[f] === cb[f] })),
    { field: 'riskTier' as const, label: 'Risk tier', a: a.risk_tier ?? '', b: b.risk_tier ?? '', same: a.risk_tier === b.risk_tier }
  ]
  return { a: va, b: vb, params, metrics, card }
}
