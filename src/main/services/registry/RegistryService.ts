import type { Principal } from '../../../shared/auth'
import { AppError } from '../../../shared/errors'
import type * as R from '../../../shared/registry'

const notBuilt = (): never => {
  throw new AppError('UNSUPPORTED', 'This registry method is not available yet.')
}

/** Registered models and versions in the app's SQLite store (filled in step by step). */
export class RegistryService {
  listModels(_req: unknown): R.RegisteredModelPage { return notBuilt() }
  getModel(_name: string): R.RegisteredModel { return notBuilt() }
  createModel(_req: { name: string; description?: string; tags?: Record<string, string> }, _actor: Principal): R.RegisteredModel { return notBuilt() }
  updateModel(_name: string, _description: string, _actor: Principal): R.RegisteredModel { return notBuilt() }
  renameModel(_name: string, _newName: string, _actor: Principal): R.RegisteredModel { return notBuilt() }
  deleteModel(_name: string, _actor: Principal): void { notBuilt() }
  listVersions(_req: unknown): R.ModelVersionPage { return notBuilt() }
  getVersion(_name: string, _version: number): R.ModelVersion { return notBuilt() }
  createVersionFromRun(_req: unknown, _actor: Principal): Promise<R.ModelVersion> { return notBuilt() }
  updateVersion(_name: string, _version: number, _patch: { description?: string }, _actor: Principal, _expectedRevision?: number): R.ModelVersion { return notBuilt() }
  deleteVersion(_name: string, _version: number, _actor: Principal): void { notBuilt() }
  setAlias(_name: string, _alias: string, _version: number, _actor: Principal): R.RegisteredModel { return notBuilt() }
  deleteAlias(_name: string, _alias: string, _actor: Principal): R.RegisteredModel { return notBuilt() }
  setTag(_name: string, _version: number | null, _key: string, _value: string, _actor: Principal): void { notBuilt() }
  deleteTag(_name: string, _version: number | null, _key: string, _actor: Principal): void { notBuilt() }
  lineage(_name: string, _version: number): Promise<R.LineageGraph> { return notBuilt() }
  openLineage(_name: string, _version: number): Promise<R.OpenLineageExport> { return notBuilt() }
  compare(_a: { name: string; version: number }, _b: { name: string; version: number }): Promise<R.VersionComparison> { return notBuilt() }
  readonly cards = {
    get: (_n: string, _v: number): Promise<R.ModelCard> => notBuilt(),
    save: (_n: string, _v: number, _c: R.ModelCardInput, _a: Principal, _r?: number): Promise<R.ModelCard> => notBuilt(),
    export: (_n: string, _v: number, _f: 'markdown' | 'html', _d: boolean): Promise<R.CardExport> => notBuilt()
  }
  readonly reviews = {
    request: (_n: string, _v: number, _a: Principal, _o: { comment?: string; expectedRevision?: number }): Promise<R.ReviewOutcome> => notBuilt(),
    approve: (_n: string, _v: number, _a: Principal, _o: { comment: string; moveAlias?: string; expectedRevision?: number }): Promise<R.ReviewOutcome> => notBuilt(),
    reject: (_n: string, _v: number, _a: Principal, _o: { comment: string; expectedRevision?: number }): Promise<R.ReviewOutcome> => notBuilt(),
    queue: (_l?: number): R.ReviewQueueItem[] => notBuilt(),
    page: (_n: string, _v: number, _a: Principal): Promise<R.ReviewPage> => notBuilt(),
    evaluate: (_n: string, _v: number): Promise<R.PolicyEvaluation> => notBuilt()
  }
  readonly checklist = {
    get: (_n: string, _v: number): R.Checklist => notBuilt(),
    set: (_n: string, _v: number, _i: string, _c: boolean, _a: Principal): R.Checklist => notBuilt(),
    configure: (_items: { id?: string; label: string }[], _a: Principal): { items: { id: string; label: string }[] } => notBuilt()
  }
  readonly policies = {
    list: (): Promise<R.PolicyList> => notBuilt()
  }
}
