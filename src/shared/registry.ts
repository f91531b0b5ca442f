/**
 * Model registry, reviews and governance: the part of the WorkbenchApi contract for registered
 * models, their versions, aliases, tags, model cards, reviews, checklists, policies, lineage and
 * the audit trail. `api.ts` spreads `registryRequests()` into its request table and merges
 * `RegistryResults`/`RegistryEvents` into `Results`/`Events`.
 *
 * The same store answers MLflow's Model Registry REST API (/api/2.0/mlflow/registered-models/*,
 * /model-versions/*); both doors go through one service, so the review rules (no self-approval,
 * blocking policies, risk-tier routing, optimistic concurrency) hold for every caller.
 */
import { z } from 'zod'

// ---------- vocabulary ----------

/**
 * SageMaker's approval vocabulary plus `None` (registered, no review asked yet).
 * The UI shows PendingManualApproval as "Pending".
 */
export const APPROVAL_STATUSES = ['None', 'PendingManualApproval', 'Approved', 'Rejected'] as const
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number]

export const RISK_TIERS = ['low', 'medium', 'high'] as const
export type RiskTier = (typeof RISK_TIERS)[number]

/** Approvals each tier needs (low: none from people, the policies approve it when all pass). */
export const REQUIRED_APPROVALS: Record<RiskTier, number> = { low: 0, medium: 1, high: 2 }

/**
 * A registered model's name: no `/`, `@` or `:` (they delimit `models:/name/3` and
 * `models:/name@alias`), no leading/trailing space.
 */
export const MODEL_NAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_. -]{0,254}[A-Za-z0-9_.-])?$/
export const modelName = z
  .string()
  .max(256)
  .regex(MODEL_NAME_RE, 'letters, digits, space, dot, dash and underscore; not starting with a space, dot or dash')
/** Aliases as MLflow allows them; `latest` and `v<digits>` are reserved (they read as versions). */
export const ALIAS_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,255}$/
export const aliasName = z
  .string()
  .regex(ALIAS_RE, 'letters, digits, dash and underscore')
  .refine((a) => a.toLowerCase() !== 'latest' && !/^v\d+$/i.test(a), 'latest and v<number> are reserved')
export const tagKey = z.string().min(1).max(250)
export const tagValue = z.string().max(5000)
const versionNo = z.number().int().min(1)
const ref = { name: modelName, version: versionNo }
const comment = z.string().max(10_000)
const revision = z.number().int().min(0)
const markdown = z.string().max(100_000)

export const MODEL_CARD_FIELDS = [
  'intendedUse',
  'outOfScopeUses',
  'trainingData',
  'evaluation',
  'ethicalConsiderations',
  'limitations',
  'owner'
] as const
export type ModelCardField = (typeof MODEL_CARD_FIELDS)[number]
export const MODEL_CARD_LABELS: Record<ModelCardField, string> = {
  intendedUse: 'Intended use',
  outOfScopeUses: 'Out-of-scope uses',
  trainingData: 'Training data',
  evaluation: 'Evaluation',
  ethicalConsiderations: 'Ethical considerations',
  limitations: 'Limitations',
  owner: 'Owner'
}

export const ModelCardInput = z
  .object({
    intendedUse: markdown.optional(),
    outOfScopeUses: markdown.optional(),
    trainingData: markdown.optional(),
    evaluation: markdown.optional(),
    ethicalConsiderations: markdown.optional(),
    limitations: markdown.optional(),
    owner: z.string().max(500).optional(),
    riskTier: z.enum(RISK_TIERS).optional()
  })
  .strict()
export type ModelCardInput = z.infer<typeof ModelCardInput>

const searchPage = {
  /** Free text over names (and descriptions), case-insensitive substring. */
  query: z.string().max(500).optional(),
  /** Every pair must match exactly (`tags.k = 'v'`). */
  tags: z.record(tagKey, tagValue).optional(),
  maxResults: z.number().int().min(1).max(1000).optional(),
  pageToken: z.string().max(200).optional()
}

// ---------- requests ----------

export function registryRequests() {
  return {
    // models
    'registry.models.list': z
      .object({
        ...searchPage,
        orderBy: z.enum(['name', 'updated', 'created']).optional(),
        descending: z.boolean().optional()
      })
      .strict(),
    'registry.models.get': z.object({ name: modelName }).strict(),
    'registry.models.create': z
      .object({ name: modelName, description: markdown.optional(), tags: z.record(tagKey, tagValue).optional() })
      .strict(),
    'registry.models.update': z.object({ name: modelName, description: markdown }).strict(),
    'registry.models.rename': z.object({ name: modelName, newName: modelName }).strict(),
    'registry.models.delete': z.object({ name: modelName }).strict(),
    // versions
    'registry.versions.list': z
      .object({
        /** One model's versions, newest first; without it, across models (search). */
        name: modelName.optional(),
        ...searchPage,
        approvalStatus: z.enum(APPROVAL_STATUSES).optional()
      })
      .strict(),
    'registry.versions.get': z.object(ref).strict(),
    /** Registers the folder `artifactPath` of run `runId` (an MLflow model directory) as a new version. */
    'registry.versions.create': z
      .object({
        name: modelName,
        runId: z.string().min(1).max(200),
        artifactPath: z.string().min(1).max(4096),
        description: markdown.optional(),
        tags: z.record(tagKey, tagValue).optional(),
        /** Create the registered model when it does not exist yet (the "new model" choice). */
        createModel: z.boolean().optional()
      })
      .strict(),
    'registry.versions.update': z.object({ ...ref, description: markdown, expectedRevision: revision.optional() }).strict(),
    'registry.versions.delete': z.object(ref).strict(),
    // aliases and tags
    'registry.alias.set': z.object({ ...ref, alias: aliasName }).strict(),
    'registry.alias.delete': z.object({ name: modelName, alias: aliasName }).strict(),
    /** `version` absent: a tag on the registered model; present: on that version. */
    'registry.tags.set': z.object({ name: modelName, version: versionNo.optional(), key: tagKey, value: tagValue }).strict(),
    'registry.tags.delete': z.object({ name: modelName, version: versionNo.optional(), key: tagKey }).strict(),
    // model card
    'registry.card.get': z.object(ref).strict(),
    'registry.card.save': z.object({ ...ref, card: ModelCardInput, expectedRevision: revision.optional() }).strict(),
    /** The published (frozen at approval) snapshot when there is one and `draft` is not set; else the current card. */
    'registry.card.export': z.object({ ...ref, format: z.enum(['markdown', 'html']), draft: z.boolean().optional() }).strict(),
    // reviews
    'registry.review.request': z.object({ ...ref, comment: comment.optional(), expectedRevision: revision.optional() }).strict(),
    'registry.review.approve': z
      .object({
        ...ref,
        /** Required (non-blank); checked by the service so every door answers COMMENT_REQUIRED. */
        comment,
        /** Move this alias to the version when the approval completes (e.g. `champion`). */
        moveAlias: aliasName.optional(),
        expectedRevision: revision.optional()
      })
      .strict(),
    'registry.review.reject': z.object({ ...ref, comment, expectedRevision: revision.optional() }).strict(),
    'registry.reviews.queue': z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
    'registry.review.page': z.object(ref).strict(),
    /** Pushes a version to a SageMaker target's Model Registry as a PendingManualApproval model package. */
    'registry.sagemaker.push': z
      .object({
        ...ref,
        target: z.string().min(1).max(200),
        /** The model package group (default: the model's name in SageMaker's alphabet). */
        group: z
          .string()
          .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'letters, digits and dashes, up to 63, starting and ending with a letter or digit')
          .optional()
      })
      .strict(),
    /** Where a version was pushed in SageMaker Model Registry; `refresh` asks SageMaker for each package's status now. */
    'registry.sagemaker.packages': z.object({ ...ref, refresh: z.boolean().optional() }).strict(),
    /** SageMaker's model packages waiting for approval on a target (shown beside the local queue). */
    'registry.sagemaker.pending': z.object({ target: z.string().min(1).max(200) }).strict(),
    /** Approves or rejects a SageMaker model package; the comment becomes its ApprovalDescription. */
    'registry.sagemaker.review': z
      .object({ target: z.string().min(1).max(200), packageArn: z.string().min(1).max(2048), decision: z.enum(['approve', 'reject']), comment })
      .strict(),
    // checklist
    'registry.checklist.get': z.object(ref).strict(),
    'registry.checklist.set': z.object({ ...ref, itemId: z.string().min(1).max(100), checked: z.boolean() }).strict(),
    /** The configurable items every review shows (admin). */
    'registry.checklist.configure': z
      .object({
        items: z
          .array(z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/).optional(), label: z.string().min(1).max(500) }).strict())
          .max(100)
      })
      .strict(),
    // policies
    'registry.policies.list': z.object({}).strict(),
    'registry.policies.evaluate': z.object(ref).strict(),
    // lineage and comparison
    'registry.lineage': z.object(ref).strict(),
    /** OpenLineage RunEvents (JSON) for the version's source run: inputs → run → model output. */
    'registry.lineage.export': z.object(ref).strict(),
    'registry.compare': z.object({ a: z.object(ref).strict(), b: z.object(ref).strict() }).strict(),
    // audit trail
    'audit.list': z
      .object({
        entityType: z.enum(['model', 'version', 'alias', 'tag', 'card', 'review', 'checklist', 'policy', 'user', 'model_package']).optional(),
        /** e.g. `fraud` (model) or `fraud/3` (version). */
        entity: z.string().max(600).optional(),
        actor: z.string().max(200).optional(),
        /** Events with seq < beforeSeq (paging newest first). */
        beforeSeq: z.number().int().min(1).optional(),
        limit: z.number().int().min(1).max(5000).optional()
      })
      .strict(),
    'audit.verify': z.object({}).strict(),
    'audit.export': z.object({ format: z.enum(['jsonl', 'csv']) }).strict()
  } as const
}

export type RegistryMethod = keyof ReturnType<typeof registryRequests>

// ---------- results ----------

export interface PrincipalRef {
  id: string
  name: string
}

export interface RegisteredModel {
  name: string
  description: string
  createdAt: number
  updatedAt: number
  createdBy: PrincipalRef
  tags: Record<string, string>
  /** alias → version */
  aliases: Record<string, number>
  latestVersion: number | null
  versionCount: number
}

export interface ModelVersion {
  name: string
  version: number
  description: string
  createdAt: number
  updatedAt: number
  createdBy: PrincipalRef
  /** The run it was registered from (null for a version created over REST with only a source). */
  runId: string | null
  /** Folder inside the run's artifacts (e.g. `model`). */
  artifactPath: string
  /** Where the files are: `runs:/<id>/model` or a storage URI. */
  source: string
  approvalStatus: ApprovalStatus
  /** Bumped by every change to the version, its card or its review state; send it back as expectedRevision. */
  revision: number
  tags: Record<string, string>
  aliases: string[]
  riskTier: RiskTier | null
  /** Latest value of each metric of the source run. */
  metrics: Record<string, number>
  /** Worst result of the last policy evaluation (null when never evaluated). */
  policyState: PolicyState | null
}

export interface RegisteredModelPage {
  models: RegisteredModel[]
  nextPageToken: string | null
}

export interface ModelVersionPage {
  versions: ModelVersion[]
  nextPageToken: string | null
}

export interface ModelCard {
  name: string
  version: number
  fields: Record<ModelCardField, string>
  riskTier: RiskTier | null
  updatedAt: number | null
  updatedBy: PrincipalRef | null
  /** Version revision the card was read at. */
  revision: number
  /** Frozen at approval; the latest one. */
  published: PublishedCard | null
  /** Markdown of the run's metrics, offered when `evaluation` is empty. */
  suggestedEvaluation: string
}

export interface PublishedCard {
  publishedAt: number
  /** sha256 (hex) of the canonical JSON of the frozen card. */
  contentHash: string
  fields: Record<ModelCardField, string>
  riskTier: RiskTier | null
}

export interface CardExport {
  fileName: string
  mimeType: string
  content: string
  /** The published snapshot's hash, when the export is of a snapshot. */
  contentHash: string | null
}

export type ReviewDecision = 'requested' | 'approved' | 'rejected' | 'approved-by-policy'

export interface Review {
  id: number
  name: string
  version: number
  reviewer: PrincipalRef
  decision: ReviewDecision
  comment: string
  createdAt: number
  /** Review round: each review request starts a new one; approvals count within the current round. */
  round: number
}

export interface ReviewOutcome {
  version: ModelVersion
  review: Review
  policies: PolicyEvaluation
  /** Approvals in the current round and how many the risk tier needs. */
  approvals: number
  requiredApprovals: number
}

export interface ReviewQueueItem {
  name: string
  version: number
  requestedAt: number
  requestedBy: PrincipalRef
  riskTier: RiskTier | null
  policyState: PolicyState | null
  approvals: number
  requiredApprovals: number
  revision: number
}

export interface ChecklistItem {
  id: string
  label: string
  checked: boolean
  checkedBy: PrincipalRef | null
  checkedAt: number | null
}

export interface Checklist {
  name: string
  version: number
  items: ChecklistItem[]
}

export type PolicySeverity = 'block' | 'warn'
export type PolicyState = 'pass' | 'warn' | 'block' | 'error'

export interface PolicyRule {
  /** `<file>#<name>` */
  id: string
  name: string
  file: string
  /** 1-based line of the rule in its file. */
  line: number
  scope: { models: string; riskTiers: RiskTier[] | null }
  expr: string
  severity: PolicySeverity
  message: string
  /** Set when the rule cannot be used (bad YAML, missing field, CEL that does not compile or type-check). */
  error: string | null
}

export interface PolicyFileError {
  file: string
  line: number
  reason: string
}

export interface PolicyList {
  rules: PolicyRule[]
  /** Files that did not parse as a whole. */
  errors: PolicyFileError[]
  /** Folders read, in order (workspace first). */
  sources: string[]
}

export interface PolicyResult {
  ruleId: string
  name: string
  file: string
  line: number
  severity: PolicySeverity
  /** error: the rule is broken (shown, blocks nothing silently: it is reported as state `error`). */
  outcome: 'pass' | 'fail' | 'error' | 'skipped'
  message: string
  error: string | null
}

export interface PolicyEvaluation {
  state: PolicyState
  results: PolicyResult[]
  /** Failing `block` rules' messages; approve is refused (POLICY_BLOCKED) while non-empty. */
  blocking: string[]
  warnings: string[]
  fileErrors: PolicyFileError[]
  evaluatedAt: number
}

export interface MetricComparison {
  key: string
  value: number | null
  champion: number | null
  /** value − champion, when both exist. */
  delta: number | null
  /** Whether larger is better for this metric (loss/error/rmse/mae…: false), for colouring. */
  higherIsBetter: boolean
}

export interface EvaluationArtifact {
  path: string
  kind: 'plot' | 'confusion_matrix' | 'explainability' | 'bias' | 'report' | 'other'
  size: number
}

export interface ReviewPage {
  model: RegisteredModel
  version: ModelVersion
  card: ModelCard
  /** The version holding `champion` (null when none or this one). */
  champion: { version: number } | null
  metrics: MetricComparison[]
  params: Record<string, string>
  evaluationArtifacts: EvaluationArtifact[]
  checklist: Checklist
  policies: PolicyEvaluation
  reviews: Review[]
  approvals: number
  requiredApprovals: number
  /** For the caller: may they approve/reject now, and if not, why. */
  canReview: { ok: boolean; reasons: string[] }
}

export interface LineageNode {
  id: string
  kind: 'model_version' | 'run' | 'dataset' | 'table' | 'file' | 'code' | 'notebook' | 'job' | 'endpoint'
  label: string
  details: Record<string, string>
}

export interface LineageEdge {
  from: string
  to: string
  /** e.g. `registered_from`, `input`, `code`, `ran_as`, `serves` */
  kind: string
}

export interface LineageGraph {
  nodes: LineageNode[]
  edges: LineageEdge[]
}

export interface OpenLineageExport {
  fileName: string
  /** OpenLineage RunEvent objects (START and COMPLETE of the source run). */
  events: Record<string, unknown>[]
}

export interface VersionComparison {
  a: ModelVersion
  b: ModelVersion
  params: { key: string; a: string | null; b: string | null; same: boolean }[]
  metrics: { key: string; a: number | null; b: number | null; delta: number | null; higherIsBetter: boolean }[]
  card: { field: ModelCardField | 'riskTier'; label: string; a: string; b: string; same: boolean }[]
}

export interface AuditEvent {
  seq: number
  time: number
  actor: PrincipalRef
  /** e.g. `model.create`, `version.approve`, `alias.set`, `card.save`, `policy.evaluate` */
  action: string
  entityType: string
  entity: string
  before: unknown
  after: unknown
  comment: string
  prevHash: string
  hash: string
}

/** A package group name for a model: SageMaker's alphabet, ≤ 63 characters. */
export function packageGroupName(model: string): string {
  const s = model.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '')
  return (s || 'model').slice(0, 63).replace(/-+$/, '')
}

/** A SageMaker model package waiting for approval, listed beside the local review queue. */
export interface SageMakerPendingPackage {
  source: 'sagemaker'
  target: string
  packageArn: string
  group: string
  packageVersion: number
  description: string | null
  createdAt: number
  approvalStatus: string
}

/** A model package a local version was pushed as (newest first on the version page). */
export interface SageMakerVersionPackage {
  target: string
  packageArn: string
  group: string
  modelDataUrl: string
  /** As SageMaker last reported it (PendingManualApproval, Approved, Rejected). */
  approvalStatus: string
  approvalDescription: string | null
  pushedBy: string
  pushedAt: number
  /** When the status was last read from or written to SageMaker. */
  updatedAt: number
  /** SageMaker's words when a refresh could not read the package (the stored status is shown). */
  refreshError?: string
}

export interface AuditPage {
  events: AuditEvent[]
  /** Pass as beforeSeq for the next (older) page. */
  nextBeforeSeq: number | null
  total: number
}

export interface AuditVerification {
  ok: boolean
  checked: number
  /** The first event whose hash or link does not match, by seq. */
  firstBroken: { seq: number; reason: string } | null
  headHash: string | null
}

export interface AuditExport {
  fileName: string
  mimeType: string
  content: string
  count: number
}

export interface RegistryResults {
  'registry.models.list': RegisteredModelPage
  'registry.models.get': RegisteredModel
  'registry.models.create': RegisteredModel
  'registry.models.update': RegisteredModel
  'registry.models.rename': RegisteredModel
  'registry.models.delete': { ok: true }
  'registry.versions.list': ModelVersionPage
  'registry.versions.get': ModelVersion
  'registry.versions.create': ModelVersion
  'registry.versions.update': ModelVersion
  'registry.versions.delete': { ok: true }
  'registry.alias.set': RegisteredModel
  'registry.alias.delete': RegisteredModel
  'registry.tags.set': { ok: true }
  'registry.tags.delete': { ok: true }
  'registry.card.get': ModelCard
  'registry.card.save': ModelCard
  'registry.card.export': CardExport
  'registry.review.request': ReviewOutcome
  'registry.review.approve': ReviewOutcome
  'registry.review.reject': ReviewOutcome
  'registry.reviews.queue': ReviewQueueItem[]
  'registry.review.page': ReviewPage
  'registry.sagemaker.push': SageMakerVersionPackage
  'registry.sagemaker.packages': SageMakerVersionPackage[]
  'registry.sagemaker.pending': SageMakerPendingPackage[]
  'registry.sagemaker.review': { packageArn: string; approvalStatus: string }
  'registry.checklist.get': Checklist
  'registry.checklist.set': Checklist
  'registry.checklist.configure': { items: { id: string; label: string }[] }
  'registry.policies.list': PolicyList
  'registry.policies.evaluate': PolicyEvaluation
  'registry.lineage': LineageGraph
  'registry.lineage.export': OpenLineageExport
  'registry.compare': VersionComparison
  'audit.list': AuditPage
  'audit.verify': AuditVerification
  'audit.export': AuditExport
}

/** Something in the registry changed (any door); the UI refetches what it shows. */
export interface RegistryChangedEvent {
  kind: 'model' | 'version' | 'alias' | 'tag' | 'card' | 'review' | 'checklist' | 'policy'
  name: string | null
  version: number | null
  /** The audit action, e.g. `version.approve`. */
  action: string
}

export interface RegistryEvents {
  'registry.changed': RegistryChangedEvent
}

export function registryEventNames() {
  return ['registry.changed'] as const
}
