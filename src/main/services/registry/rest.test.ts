/**
 * MLflow's Model Registry REST API 2.0 (mlflow.org/docs/latest/rest-api.html, "Registered Models"
 * and "Model Versions"): every endpoint with its request/response shape, and the error codes and
 * statuses MLflow's server answers with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistryHarness, type RegistryHarness } from './testing'

let h: RegistryHarness
let runId: string
beforeAll(async () => {
  h = await createRegistryHarness()
  runId = h.makeRun({ metrics: { accuracy: 0.91 } })
})
afterAll(async () => h?.cleanup())

const err = (status: number, error_code: string, message?: RegExp) => ({ status, body: expect.objectContaining({ error_code, ...(message ? { message: expect.stringMatching(message) } : {}) }) })

describe('registered-models/*', () => {
  it('create: returns the model; duplicates, missing and invalid names are refused', async () => {
    const r = await h.api('POST', 'registered-models/create', { name: 'fraud', description: 'card fraud', tags: [{ key: 'team', value: 'risk' }] })
    expect(r.status).toBe(200)
    expect(r.body.registered_model).toMatchObject({ name: 'fraud', description: 'card fraud', tags: [{ key: 'team', value: 'risk' }], latest_versions: [], aliases: [] })
    expect(typeof r.body.registered_model.creation_timestamp).toBe('number')
    expect(await h.api('POST', 'registered-models/create', { name: 'fraud' })).toEqual(err(400, 'RESOURCE_ALREADY_EXISTS', /Registered Model \(name=fraud\) already exists/))
    expect(await h.api('POST', 'registered-models/create', {})).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /Missing value for required parameter 'name'/))
    expect(await h.api('POST', 'registered-models/create', { name: 'a/b' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /Invalid model name/))
    expect(await h.api('POST', 'registered-models/create', { name: 42 })).toEqual(err(400, 'INVALID_PARAMETER_VALUE'))
    expect((await h.api('GET', 'registered-models/create', { name: 'x' })).status).toBe(405)
  })

  it('get, update (PATCH), set-tag, delete-tag', async () => {
    expect((await h.api('GET', 'registered-models/get', { name: 'fraud' })).body.registered_model.name).toBe('fraud')
    expect(await h.api('GET', 'registered-models/get', { name: 'nope' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST', /Registered Model with name=nope not found/))
    expect(await h.api('GET', 'registered-models/get', {})).toEqual(err(400, 'INVALID_PARAMETER_VALUE'))
    const u = await h.api('PATCH', 'registered-models/update', { name: 'fraud', description: 'updated' })
    expect(u.body.registered_model.description).toBe('updated')
    expect(await h.api('PATCH', 'registered-models/update', { name: 'nope', description: 'x' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    expect((await h.api('POST', 'registered-models/set-tag', { name: 'fraud', key: 'domain', value: 'payments' })).body).toEqual({})
    expect(await h.api('POST', 'registered-models/set-tag', { name: 'fraud', value: 'x' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /'key'/))
    expect(await h.api('POST', 'registered-models/set-tag', { name: 'nope', key: 'k', value: 'v' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    let tags = (await h.api('GET', 'registered-models/get', { name: 'fraud' })).body.registered_model.tags
    expect(tags).toContainEqual({ key: 'domain', value: 'payments' })
    expect((await h.api('DELETE', 'registered-models/delete-tag', { name: 'fraud', key: 'domain' })).status).toBe(200)
    tags = (await h.api('GET', 'registered-models/get', { name: 'fraud' })).body.registered_model.tags
    expect(tags).toEqual([{ key: 'team', value: 'risk' }])
  })

  it('search: filter by name and tags, order_by, max_results and page_token', async () => {
    for (const n of ['alpha', 'beta', 'gamma']) await h.api('POST', 'registered-models/create', { name: `search-${n}`, tags: [{ key: 'group', value: n === 'beta' ? 'b' : 'a' }] })
    const like = await h.api('GET', 'registered-models/search', { filter: "name LIKE 'search-%'", order_by: ['name DESC'] })
    expect(like.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['search-gamma', 'search-beta', 'search-alpha'])
    const tag = await h.api('GET', 'registered-models/search', { filter: "tags.group = 'a'" })
    expect(tag.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['search-alpha', 'search-gamma'])
    const ilike = await h.api('GET', 'registered-models/search', { filter: "name ILIKE 'SEARCH-B%'" })
    expect(ilike.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['search-beta'])
    const p1 = await h.api('GET', 'registered-models/search', { filter: "name LIKE 'search-%'", max_results: 2 })
    expect(p1.body.registered_models).toHaveLength(2)
    expect(p1.body.next_page_token).toEqual(expect.any(String))
    const p2 = await h.api('GET', 'registered-models/search', { filter: "name LIKE 'search-%'", max_results: 2, page_token: p1.body.next_page_token })
    expect(p2.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['search-gamma'])
    expect(p2.body.next_page_token).toBeUndefined()
    expect(await h.api('GET', 'registered-models/search', { filter: "name = 'x' OR name = 'y'" })).toEqual(err(400, 'INVALID_PARAMETER_VALUE'))
    expect(await h.api('GET', 'registered-models/search', { filter: "description = 'x'" })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /Invalid attribute key/))
    expect(await h.api('GET', 'registered-models/search', { order_by: ['size ASC'] })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /Invalid order by key/))
    expect(await h.api('GET', 'registered-models/search', { max_results: 5000 })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /at most 1000/))
    expect(await h.api('GET', 'registered-models/search', { page_token: 'garbage' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /page token/))
    // POST is accepted too (the Python client's choice for long filters)
    expect((await h.api('POST', 'registered-models/search', { filter: "name = 'search-beta'" })).body.registered_models).toHaveLength(1)
  })

  it('rename and delete', async () => {
    await h.api('POST', 'registered-models/create', { name: 'old-name' })
    expect(await h.api('POST', 'registered-models/rename', { name: 'old-name', new_name: 'fraud' })).toEqual(err(400, 'RESOURCE_ALREADY_EXISTS'))
    expect(await h.api('POST', 'registered-models/rename', { name: 'old-name' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /'new_name'/))
    expect((await h.api('POST', 'registered-models/rename', { name: 'old-name', new_name: 'new-name' })).body.registered_model.name).toBe('new-name')
    expect((await h.api('DELETE', 'registered-models/delete', { name: 'new-name' })).body).toEqual({})
    expect(await h.api('GET', 'registered-models/get', { name: 'new-name' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    expect(await h.api('DELETE', 'registered-models/delete', { name: 'new-name' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
  })
})

describe('model-versions/*', () => {
  it('create from runs:/ or the run artifact URI; errors for unknown models and runs', async () => {
    const r = await h.api('POST', 'model-versions/create', { name: 'fraud', source: `runs:/${runId}/model`, run_id: runId, tags: [{ key: 'stage', value: 'candidate' }], description: 'first' })
    expect(r.status).toBe(200)
    expect(r.body.model_version).toMatchObject({ name: 'fraud', version: '1', source: `runs:/${runId}/model`, run_id: runId, status: 'READY', current_stage: 'None', description: 'first', tags: [{ key: 'stage', value: 'candidate' }], aliases: [] })
    const root = (await h.api('GET', 'runs/get', { run_id: runId })).body.run.info.artifact_uri
    const r2 = await h.api('POST', 'model-versions/create', { name: 'fraud', source: `${root}/model`, run_id: runId })
    expect(r2.body.model_version.version).toBe('2')
    expect(await h.api('POST', 'model-versions/create', { name: 'nope', source: `runs:/${runId}/model` })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST', /Registered Model with name=nope not found/))
    expect(await h.api('POST', 'model-versions/create', { name: 'fraud' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /'source'/))
    expect(await h.api('POST', 'model-versions/create', { name: 'fraud', source: `runs:/${'0'.repeat(32)}/model` })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST', /Run with id/))
    expect(await h.api('POST', 'model-versions/create', { name: 'fraud', source: `runs:/${runId}/model`, run_id: 'f'.repeat(32) })).toEqual(err(400, 'INVALID_PARAMETER_VALUE'))
    // the registered model now lists its latest version
    const m = (await h.api('GET', 'registered-models/get', { name: 'fraud' })).body.registered_model
    expect(m.latest_versions.map((v: { version: string }) => v.version)).toEqual(['2'])
    expect((await h.api('POST', 'registered-models/get-latest-versions', { name: 'fraud' })).body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2'])
  })

  it('get, update, set-tag, delete-tag; bad and unknown versions', async () => {
    expect((await h.api('GET', 'model-versions/get', { name: 'fraud', version: '1' })).body.model_version.version).toBe('1')
    expect(await h.api('GET', 'model-versions/get', { name: 'fraud', version: '99' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST', /Model Version \(name=fraud, version=99\) not found/))
    expect(await h.api('GET', 'model-versions/get', { name: 'fraud', version: 'one' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /'version'/))
    expect(await h.api('GET', 'model-versions/get', { name: 'fraud' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /'version'/))
    expect(await h.api('GET', 'model-versions/get', { name: 'nope', version: '1' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST', /Registered Model/))
    expect((await h.api('PATCH', 'model-versions/update', { name: 'fraud', version: '1', description: 'better' })).body.model_version.description).toBe('better')
    expect((await h.api('POST', 'model-versions/set-tag', { name: 'fraud', version: '1', key: 'validated', value: 'yes' })).status).toBe(200)
    expect(await h.api('POST', 'model-versions/set-tag', { name: 'fraud', version: '9', key: 'k', value: 'v' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    let v = (await h.api('GET', 'model-versions/get', { name: 'fraud', version: '1' })).body.model_version
    expect(v.tags).toContainEqual({ key: 'validated', value: 'yes' })
    expect((await h.api('DELETE', 'model-versions/delete-tag', { name: 'fraud', version: '1', key: 'validated' })).status).toBe(200)
    v = (await h.api('GET', 'model-versions/get', { name: 'fraud', version: '1' })).body.model_version
    expect(v.tags).toEqual([{ key: 'stage', value: 'candidate' }])
  })

  it('search: by name, run_id, tags, version_number; order and paging', async () => {
    const byName = await h.api('GET', 'model-versions/search', { filter: "name = 'fraud'" })
    expect(byName.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '1'])
    const byRun = await h.api('GET', 'model-versions/search', { filter: `run_id = '${runId}'`, order_by: ['version_number ASC'] })
    expect(byRun.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1', '2'])
    const byTag = await h.api('GET', 'model-versions/search', { filter: "tags.stage = 'candidate'" })
    expect(byTag.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1'])
    const byNumber = await h.api('GET', 'model-versions/search', { filter: "name = 'fraud' AND version_number > 1" })
    expect(byNumber.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2'])
    const page = await h.api('GET', 'model-versions/search', { filter: "name = 'fraud'", max_results: 1 })
    expect(page.body.model_versions).toHaveLength(1)
    const next = await h.api('GET', 'model-versions/search', { filter: "name = 'fraud'", max_results: 1, page_token: page.body.next_page_token })
    expect(next.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1'])
    expect(await h.api('GET', 'model-versions/search', { filter: "metrics.acc > 1" })).toEqual(err(400, 'INVALID_PARAMETER_VALUE'))
    expect(await h.api('GET', 'model-versions/search', { filter: "stage = 'x'" })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /Invalid attribute key/))
  })

  it('aliases: set, get-by-alias, delete; models:/ URIs resolve and their files download', async () => {
    expect((await h.api('POST', 'registered-models/alias', { name: 'fraud', alias: 'champion', version: '1' })).body).toEqual({})
    const got = await h.api('GET', 'registered-models/alias', { name: 'fraud', alias: 'champion' })
    expect(got.body.model_version).toMatchObject({ name: 'fraud', version: '1', aliases: ['champion'] })
    expect((await h.api('GET', 'registered-models/get', { name: 'fraud' })).body.registered_model.aliases).toEqual([{ alias: 'champion', version: '1' }])
    expect(await h.api('POST', 'registered-models/alias', { name: 'fraud', alias: 'champion', version: '42' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    expect(await h.api('POST', 'registered-models/alias', { name: 'fraud', alias: 'bad alias', version: '1' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE'))
    expect(await h.api('GET', 'registered-models/alias', { name: 'fraud', alias: 'ghost' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST', /alias ghost not found/))
    // models:/fraud@champion → the version's files
    const resolved = await h.api('GET', 'model-versions/resolve', { uri: 'models:/fraud@champion' })
    expect(resolved.body).toMatchObject({ name: 'fraud', version: '1' })
    const dl = await h.api('GET', 'model-versions/get-download-uri', { name: 'fraud', version: '1' })
    expect(dl.body.artifact_uri).toBe(resolved.body.artifact_uri)
    expect(dl.body.artifact_uri).toMatch(/^mlflow-artifacts:\/0\/[0-9a-f]{32}\/artifacts\/model$/)
    const file = await fetch(`${h.server.url}/api/2.0/mlflow-artifacts/artifacts/${dl.body.artifact_uri.slice('mlflow-artifacts:/'.length)}/MLmodel`, { headers: { Authorization: `Bearer ${h.server.token}` } })
    expect(file.status).toBe(200)
    expect(await file.text()).toBe('flavors: {}\n')
    expect((await h.api('GET', 'model-versions/resolve', { uri: 'models:/fraud/2' })).body.version).toBe('2')
    expect(await h.api('GET', 'model-versions/resolve', { uri: 'models:/fraud@nobody' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    expect((await h.api('DELETE', 'registered-models/alias', { name: 'fraud', alias: 'champion' })).status).toBe(200)
    expect(await h.api('GET', 'registered-models/alias', { name: 'fraud', alias: 'champion' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
  })

  it('delete a version (also an aliased one, as MLflow allows); the audit trail keeps it', async () => {
    await h.api('POST', 'registered-models/alias', { name: 'fraud', alias: 'challenger', version: '2' })
    expect((await h.api('DELETE', 'model-versions/delete', { name: 'fraud', version: '2' })).body).toEqual({})
    expect(await h.api('GET', 'model-versions/get', { name: 'fraud', version: '2' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    expect(await h.api('DELETE', 'model-versions/delete', { name: 'fraud', version: '2' })).toEqual(err(404, 'RESOURCE_DOES_NOT_EXIST'))
    expect((await h.api('GET', 'registered-models/get', { name: 'fraud' })).body.registered_model.aliases).toEqual([])
    const ev = h.audit.list({ entity: 'fraud/2' }).events.find((e) => e.action === 'version.delete')!
    expect(ev.before).toMatchObject({ version: 2, aliases: ['challenger'] })
  })

  it('reviews over REST go through the same checks (the caller registered it: no self-approval)', async () => {
    expect((await h.api('POST', 'model-versions/request-review', { name: 'fraud', version: '1' })).body).toMatchObject({ approval_status: 'PendingManualApproval', required_approvals: 1 })
    expect(await h.api('POST', 'model-versions/approve', { name: 'fraud', version: '1' })).toEqual(err(400, 'INVALID_PARAMETER_VALUE', /comment is required/))
    const self = await h.api('POST', 'model-versions/approve', { name: 'fraud', version: '1', comment: 'fine by me' })
    expect(self).toEqual(err(403, 'PERMISSION_DENIED', /another reviewer/))
    expect(self.body.atelier_code).toBe('SELF_APPROVAL')
    expect(await h.api('POST', 'model-versions/approve', { name: 'fraud', version: '1', comment: 'x', expected_revision: 0 })).toEqual(err(409, 'RESOURCE_CONFLICT'))
  })
})

describe('errors common to every endpoint', () => {
  it('unknown endpoints, malformed JSON and missing tokens', async () => {
    expect(await h.api('GET', 'registered-models/nothing')).toEqual(err(404, 'ENDPOINT_NOT_FOUND'))
    const bad = await fetch(`${h.server.url}/api/2.0/mlflow/registered-models/create`, { method: 'POST', headers: { Authorization: `Bearer ${h.server.token}`, 'Content-Type': 'application/json' }, body: '{nope' })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error_code).toBe('BAD_REQUEST')
    const anon = await fetch(`${h.server.url}/api/2.0/mlflow/registered-models/search`)
    expect(anon.status).toBe(401)
    expect((await anon.json()).error_code).toBe('UNAUTHENTICATED')
    // the tracking API behind the same server still answers
    expect((await h.api('GET', 'experiments/get', { experiment_id: '0' })).body.experiment.name).toBe('Default')
  })
})
