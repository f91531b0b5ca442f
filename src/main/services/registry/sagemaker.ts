/**
 * Sync between the local registry and SageMaker Model Registry. A pushed version becomes a model
 * package in a group named after the model: its model folder is packed as `model.tar.gz`, uploaded
 * under the target's bucket and prefix, and named with the region's sklearn inference image as the
 * package's container; the package waits in PendingManualApproval. Its ARN is kept on the version
 * (tag `sagemaker.modelPackageArn`), the package (target, group, ARN, approval status) is recorded in
 * `sagemaker_model_packages` for the version page, and the push is audited. SageMaker's pending packages are listed
 * beside the local review queue; approving or rejecting one calls UpdateModelPackage with the
 * reviewer's comment as ApprovalDescription and writes the decision to the audit trail; as for local
 * versions, a comment is required and whoever pushed the package cannot decide on it.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand
} from '@aws-sdk/client-sagemaker'
import type { Principal } from '../../../shared/auth'
import { packageGroupName, type SageMakerPendingPackage, type SageMakerVersionPackage } from '../../../shared/registry'
import { AppError } from '../../../shared/errors'
import { roleCan } from '../../../shared/permissions'
import type { JobService } from '../jobs/JobService'
import { awsError, SageMakerBackend, tablesDirDefault } from '../jobs/SageMakerBackend'
import type { RegistryService } from './RegistryService'
import { ref } from './store'

export const PACKAGE_ARN_TAG = 'sagemaker.modelPackageArn'


export interface SageMakerRegistryDeps {
  registry: RegistryService
  /** Root of the tracking artifacts (default: the tracking service's artifact store). */
  artifactsRoot?: string
  /** The SageMaker backend of a saved target (its clients and settings). */
  backend: (targetId: string) => Promise<SageMakerBackend>
  tablesDir?: string
}

export { packageGroupName }

/** The sklearn inference image of the shipped table for a region. */
export function inferenceImage(region: string, tablesDir = tablesDirDefault()): string {
  const table = JSON.parse(readFileSync(join(tablesDir, 'sagemaker-images.json'), 'utf8')) as {
    images: { framework: string; repository: string; tag: string; accounts: Record<string, string> }[]
  }
  const row = table.images.find((r) => r.framework === 'sklearn' && r.accounts[region])
  if (!row) throw new AppError('INVALID_SPEC', `No sklearn image for ${region} in sagemaker-images.json; add one there.`)
  const host = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return `${row.accounts[region]}.dkr.ecr.${region}.${host}/${row.repository}:${row.tag}`
}

function tarGz(dir: string, out: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('tar', ['-czf', out, '-C', dir, '.'], (err, _o, stderr) =>
      err ? reject(new AppError('INTERNAL', `Cannot pack the model folder: ${stderr || err.message}`)) : resolve()
    )
  )
}

export class SageMakerRegistry {
  constructor(private readonly d: SageMakerRegistryDeps) {}

  /** The version's model folder on this machine. */
  modelDir(name: string, version: number): string {
    const v = this.d.registry.getVersion(name, version)
    if (!v.runId) throw new AppError('INVALID_STATE', `Version ${version} of '${name}' has no run; only versions registered from a run can be pushed.`)
    const run = this.d.registry.d.tracking.runs.require(v.runId)
    const rel = this.d.registry.d.tracking.runArtifactDir(run)
    if (rel === null) throw new AppError('INVALID_STATE', `The artifacts of run ${v.runId} are not stored by Atelier.`)
    const dir = join(this.d.artifactsRoot ?? this.d.registry.d.tracking.artifacts.root, rel, v.artifactPath ?? '')
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AppError('NOT_FOUND', `The model folder of version ${version} of '${name}' is missing.`)
    return dir
  }

  private now(): number {
    return this.d.registry.d.now?.() ?? Date.now()
  }

  async push(req: { name: string; version: number; target: string; group?: string }, actor: Principal): Promise<SageMakerVersionPackage> {
    const v = this.d.registry.getVersion(req.name, req.version)
    const dir = this.modelDir(req.name, req.version)
    const b = await this.d.backend(req.target)
    const group = req.group ?? packageGroupName(req.name)
    const prefix = (b.cfg.prefix ?? 'atelier').replace(/^\/+|\/+$/g, '')
    const key = `${prefix}/registry/${group}/${req.version}/model.tar.gz`
    const tmp = mkdtempSync(join(tmpdir(), 'atelier-smreg-'))
    try {
      const file = join(tmp, 'model.tar.gz')
      await tarGz(dir, file)
      await b.s3.send(new PutObjectCommand({ Bucket: b.cfg.bucket, Key: key, Body: readFileSync(file), ContentType: 'application/gzip' })).catch((e) => {
        throw awsError(e, 'S3 upload')
      })
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
    const modelDataUrl = `s3://${b.cfg.bucket}/${key}`
    try {
      await b.sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: group }))
    } catch (e) {
      if ((e as { name?: string }).name !== 'ValidationException') throw awsError(e, 'SageMaker')
      await b.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: group, ModelPackageGroupDescription: `Atelier model '${req.name}'` })).catch((err) => {
        throw awsError(err, 'SageMaker')
      })
    }
    const out = await b.sm
      .send(
        new CreateModelPackageCommand({
          ModelPackageGroupName: group,
          ModelPackageDescription: v.description || `${req.name} version ${req.version}`,
          ModelApprovalStatus: 'PendingManualApproval',
          InferenceSpecification: {
            Containers: [{ Image: inferenceImage(b.cfg.region, this.d.tablesDir), ModelDataUrl: modelDataUrl }],
            SupportedContentTypes: ['text/csv'],
            SupportedResponseMIMETypes: ['text/csv']
          },
          CustomerMetadataProperties: { 'atelier.model': req.name, 'atelier.version': String(req.version), 'atelier.pushedBy': actor.id }
        })
      )
      .catch((e) => {
        throw awsError(e, 'SageMaker')
      })
    const packageArn = out.ModelPackageArn!
    const at = this.now()
    const row = this.d.registry.store.version(req.name, req.version)
    this.d.registry.d.db
      .prepare(
        `INSERT OR REPLACE INTO sagemaker_model_packages (package_arn, version_id, target_id, group_name, model_data_url, approval_status, approval_description, pushed_by, pushed_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'PendingManualApproval', NULL, ?, ?, ?)`
      )
      .run(packageArn, row.id, req.target, group, modelDataUrl, actor.name || actor.id, at, at)
    this.d.registry.setTag(req.name, req.version, PACKAGE_ARN_TAG, packageArn, actor)
    this.d.registry.audit({
      actor: ref(actor),
      action: 'sagemaker.push',
      entityType: 'version',
      entity: `${req.name}/${req.version}`,
      after: { target: req.target, packageArn, modelDataUrl, group }
    })
    return { target: req.target, packageArn, modelDataUrl, group, approvalStatus: 'PendingManualApproval', approvalDescription: null, pushedBy: actor.name || actor.id, pushedAt: at, updatedAt: at }
  }

  /** The packages a version was pushed as, newest first; with `refresh`, each status is read from SageMaker and stored. */
  async packages(req: { name: string; version: number; refresh?: boolean }): Promise<SageMakerVersionPackage[]> {
    const row = this.d.registry.store.version(req.name, req.version)
    const rows = this.d.registry.d.db
      .prepare('SELECT * FROM sagemaker_model_packages WHERE version_id = ? ORDER BY pushed_at DESC, package_arn DESC')
      .all(row.id) as PackageRow[]
    const out = rows.map(toPackage)
    if (!req.refresh) return out
    for (const p of out) {
      try {
        const b = await this.d.backend(p.target)
        const d = await b.sm.send(new DescribeModelPackageCommand({ ModelPackageName: p.packageArn })).catch((e) => {
          throw awsError(e, 'SageMaker')
        })
        p.approvalStatus = d.ModelApprovalStatus ?? p.approvalStatus
        p.approvalDescription = d.ApprovalDescription ?? null
        p.updatedAt = this.now()
        this.record(p.packageArn, p.approvalStatus, p.approvalDescription)
      } catch (e) {
        p.refreshError = e instanceof Error ? e.message : String(e)
      }
    }
    return out
  }

  private record(packageArn: string, status: string, description: string | null): void {
    this.d.registry.d.db
      .prepare('UPDATE sagemaker_model_packages SET approval_status = ?, approval_description = ?, updated_at = ? WHERE package_arn = ?')
      .run(status, description, this.now(), packageArn)
  }

  /** SageMaker's packages waiting for approval on a target, newest first. */
  async pending(target: string): Promise<SageMakerPendingPackage[]> {
    const b = await this.d.backend(target)
    const out: SageMakerPendingPackage[] = []
    let token: string | undefined
    do {
      const page = await b.sm.send(new ListModelPackagesCommand({ ModelApprovalStatus: 'PendingManualApproval', ModelPackageType: 'Versioned', MaxResults: 100, NextToken: token })).catch((e) => {
        throw awsError(e, 'SageMaker')
      })
      for (const s of page.ModelPackageSummaryList ?? []) {
        out.push({
          source: 'sagemaker',
          target,
          packageArn: s.ModelPackageArn!,
          group: s.ModelPackageGroupName ?? s.ModelPackageName ?? '',
          packageVersion: s.ModelPackageVersion ?? 0,
          description: s.ModelPackageDescription ?? null,
          createdAt: s.CreationTime ? s.CreationTime.getTime() : 0,
          approvalStatus: s.ModelApprovalStatus ?? 'PendingManualApproval'
        })
      }
      token = page.NextToken
    } while (token && out.length < 1000)
    return out
  }

  /** Approves or rejects a SageMaker package; the comment becomes its ApprovalDescription. */
  async decide(req: { target: string; packageArn: string; decision: 'approve' | 'reject'; comment: string }, actor: Principal): Promise<{ packageArn: string; approvalStatus: string }> {
    const comment = req.comment.trim()
    if (comment === '') throw new AppError('COMMENT_REQUIRED', `A comment is required to ${req.decision} a model package.`, { field: 'comment' })
    if (!roleCan(actor.role, 'review')) throw new AppError('FORBIDDEN', 'Reviewing needs the review permission (reviewer or admin role).')
    const b = await this.d.backend(req.target)
    const before = await b.sm.send(new DescribeModelPackageCommand({ ModelPackageName: req.packageArn })).catch((e) => {
      throw awsError(e, 'SageMaker')
    })
    if (before.ModelApprovalStatus !== 'PendingManualApproval') {
      throw new AppError('INVALID_STATE', `The model package is not pending review (its status is ${before.ModelApprovalStatus}).`, { approvalStatus: before.ModelApprovalStatus })
    }
    if (before.CustomerMetadataProperties?.['atelier.pushedBy'] === actor.id) {
      throw new AppError('SELF_APPROVAL', `You pushed this model package; another reviewer must ${req.decision} it.`)
    }
    const status = req.decision === 'approve' ? 'Approved' : 'Rejected'
    await b.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: req.packageArn, ModelApprovalStatus: status, ApprovalDescription: comment })).catch((e) => {
      throw awsError(e, 'SageMaker')
    })
    this.record(req.packageArn, status, comment)
    this.d.registry.audit({
      actor: ref(actor),
      action: req.decision === 'approve' ? 'sagemaker.approve' : 'sagemaker.reject',
      entityType: 'model_package',
      entity: req.packageArn,
      before: { approvalStatus: before.ModelApprovalStatus },
      after: { approvalStatus: status },
      comment
    })
    return { packageArn: req.packageArn, approvalStatus: status }
  }
}

interface PackageRow {
  package_arn: string
  target_id: string
  group_name: string
  model_data_url: string
  approval_status: string
  approval_description: string | null
  pushed_by: string
  pushed_at: number
  updated_at: number
}

function toPackage(r: PackageRow): SageMakerVersionPackage {
  return {
    target: r.target_id,
    packageArn: r.package_arn,
    group: r.group_name,
    modelDataUrl: r.model_data_url,
    approvalStatus: r.approval_status,
    approvalDescription: r.approval_description,
    pushedBy: r.pushed_by,
    pushedAt: r.pushed_at,
    updatedAt: r.updated_at
  }
}

/** The SageMaker backend of a saved job target (its keys from the secret store), for the registry sync. */
export function sagemakerBackendOf(jobs: Pick<JobService, 'store' | 'backends'>): (targetId: string) => Promise<SageMakerBackend> {
  return async (targetId) => {
    const t = jobs.store.target(targetId)
    if (!t || t.kind !== 'sagemaker') throw new AppError('NOT_FOUND', `No SageMaker target '${targetId}'.`)
    const b = await jobs.backends.get('sagemaker', t)
    if (!(b instanceof SageMakerBackend)) throw new AppError('NOT_FOUND', `No SageMaker target '${targetId}'.`)
    return b
  }
}
