/**
 * Endpoints on SageMaker: each deploy creates one SageMaker model per variant (the region's sklearn
 * inference image with the variant's model.tar.gz), an endpoint configuration with the variants'
 * weights, then creates the endpoint or rolls the existing one onto the new configuration, and waits
 * for InService; the configuration and models it left are deleted then. Requests go through
 * SageMaker Runtime's InvokeEndpoint, SageMaker choosing the variant by weight.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  type ProductionVariantInstanceType
} from '@aws-sdk/client-sagemaker'
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import { AppError } from '../../../shared/errors'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { awsError, SageMakerBackend, tablesDirDefault, type SageMakerTargetConfig } from '../jobs/SageMakerBackend'
import type { JobService } from '../jobs/JobService'
import type { ManagedTarget } from './EndpointService'
import { inferenceImage } from '../registry/sagemaker'
import type { ManagedAnswer, ManagedEndpointBackend, ManagedStatus } from './backend'

export interface SageMakerVariant {
  name: string
  /** s3:// URL of the version's model.tar.gz (as pushed to the Model Registry). */
  modelDataUrl: string
  weight: number
  instanceType?: string
  instanceCount?: number
}

export type SageMakerEndpointState = ManagedStatus

/** The shipped, editable on-demand prices of hosting instances (per instance-hour). */
export function hostingPrices(tablesDir = tablesDirDefault()): { currency: string; hosting: Record<string, number> } {
  const table = JSON.parse(readFileSync(join(tablesDir, 'sagemaker-prices.json'), 'utf8')) as { currency?: string; hosting?: Record<string, number> }
  return { currency: table.currency ?? 'USD', hosting: table.hosting ?? {} }
}

const safe = (s: string) => s.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '')

export class SageMakerEndpointBackend implements ManagedEndpointBackend {
  readonly kind = 'sagemaker' as const
  readonly sm: SageMakerClient
  readonly runtime: SageMakerRuntimeClient
  private seq = 0

  constructor(readonly cfg: SageMakerTargetConfig & { runtimeEndpoint?: string; pollMs?: number }) {
    const credentials = cfg.credentials ?? fromNodeProviderChain(cfg.profile ? { profile: cfg.profile } : {})
    const common = { region: cfg.region, credentials, maxAttempts: cfg.maxAttempts ?? 5 }
    this.sm = new SageMakerClient({ ...common, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) })
    const rt = cfg.runtimeEndpoint ?? cfg.endpoint
    this.runtime = new SageMakerRuntimeClient({ ...common, ...(rt ? { endpoint: rt } : {}) })
  }

  private async send<T>(p: Promise<T>): Promise<T> {
    try {
      return await p
    } catch (e) {
      throw awsError(e, 'SageMaker')
    }
  }

  /** Creates the endpoint, or moves it onto a new configuration with these variants; resolves at InService. */
  async deploy(name: string, variants: SageMakerVariant[], o: { timeoutMs?: number; onStatus?: (s: SageMakerEndpointState) => void } = {}): Promise<SageMakerEndpointState> {
    if (variants.length === 0) throw new AppError('INVALID_SPEC', 'An endpoint needs at least one variant.')
    const stamp = `${Date.now().toString(36)}${(this.seq++).toString(36)}`
    const endpoint = safe(name).slice(0, 63)
    const image = inferenceImage(this.cfg.region, this.cfg.tablesDir)
    const productionVariants = []
    for (const v of variants) {
      const modelName = `${safe(name).slice(0, 30)}-${safe(v.name).slice(0, 20)}-${stamp}`.slice(0, 63)
      await this.send(this.sm.send(new CreateModelCommand({ ModelName: modelName, ExecutionRoleArn: this.cfg.roleArn, PrimaryContainer: { Image: image, ModelDataUrl: v.modelDataUrl } })))
      productionVariants.push({
        VariantName: safe(v.name),
        ModelName: modelName,
        InitialVariantWeight: v.weight,
        InitialInstanceCount: v.instanceCount ?? 1,
        InstanceType: (v.instanceType ?? 'ml.m5.large') as ProductionVariantInstanceType
      })
    }
    const config = `${endpoint.slice(0, 50)}-${stamp}`.slice(0, 63)
    await this.send(this.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: config, ProductionVariants: productionVariants })))
    const before = await this.describe(endpoint).then(
      (s) => s,
      (e: AppError) => (/Could not find endpoint/.test(e.message) ? null : Promise.reject(e))
    )
    try {
      if (before) await this.send(this.sm.send(new UpdateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config })))
      else await this.send(this.sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config })))
    } catch (e) {
      await this.deleteConfig(config)
      throw e
    }
    let done: SageMakerEndpointState
    try {
      done = await this.waitInService(endpoint, config, o.timeoutMs ?? 30 * 60_000, o.onStatus)
    } catch (e) {
      // a rolled-back update leaves the new configuration unused
      if (before) await this.deleteConfig(config)
      throw e
    }
    if (before && before.config !== config) await this.deleteConfig(before.config)
    return done
  }

  /** Deletes an endpoint configuration and the models it names; what is already gone is skipped. */
  private async deleteConfig(config: string): Promise<void> {
    const c = await this.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: config })).catch(() => null)
    if (!c) return
    await this.sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: config })).catch(() => undefined)
    for (const v of c.ProductionVariants ?? []) if (v.ModelName) await this.sm.send(new DeleteModelCommand({ ModelName: v.ModelName })).catch(() => undefined)
  }

  /** The model data URL of an approved model package (the image is this backend's own). */
  async approvedModelData(packageArn: string): Promise<string> {
    const p = await this.send(this.sm.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn })))
    if (p.ModelApprovalStatus !== 'Approved') {
      throw new AppError('INVALID_STATE', `The SageMaker model package ${packageArn} is ${p.ModelApprovalStatus ?? 'not approved'}; approve it in Reviews before deploying it.`, {
        approvalStatus: p.ModelApprovalStatus ?? null
      })
    }
    const url = p.InferenceSpecification?.Containers?.[0]?.ModelDataUrl
    if (!url) throw new AppError('INVALID_STATE', `The SageMaker model package ${packageArn} names no model data.`)
    return url
  }

  async describe(name: string): Promise<SageMakerEndpointState> {
    const d = await this.send(this.sm.send(new DescribeEndpointCommand({ EndpointName: safe(name).slice(0, 63) })))
    return {
      name: d.EndpointName!,
      status: d.EndpointStatus!,
      config: d.EndpointConfigName!,
      variants: (d.ProductionVariants ?? []).map((v) => ({ name: v.VariantName!, weight: v.CurrentWeight ?? 0, instances: v.CurrentInstanceCount ?? 0 })),
      failureReason: d.FailureReason ?? null,
      createdAt: d.CreationTime ? d.CreationTime.getTime() : null
    }
  }

  private async waitInService(name: string, config: string, timeoutMs: number, onStatus?: (s: SageMakerEndpointState) => void): Promise<SageMakerEndpointState> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const s = await this.describe(name)
      onStatus?.(s)
      if (s.status === 'Failed') throw new AppError('CLOUD_ERROR', `SageMaker endpoint ${name} failed: ${s.failureReason ?? 'no reason given'}`, { failureReason: s.failureReason })
      if (s.status === 'InService' && s.config === config) return s
      if (s.status === 'InService' && s.failureReason) {
        throw new AppError('CLOUD_ERROR', `SageMaker could not update endpoint ${name} and rolled it back: ${s.failureReason}`, { failureReason: s.failureReason })
      }
      if (Date.now() > until) throw new AppError('CLOUD_ERROR', `SageMaker endpoint ${name} is still ${s.status}.`)
      await new Promise((r) => setTimeout(r, this.cfg.pollMs ?? 15_000))
    }
  }

  /** One request through SageMaker Runtime: the answer's body and the variant that served it. */
  async invoke(name: string, body: Buffer | string, contentType = 'text/csv', targetVariant?: string): Promise<ManagedAnswer> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body)
    const out = await this.send(
      this.runtime.send(new InvokeEndpointCommand({ EndpointName: safe(name).slice(0, 63), Body: bytes, ContentType: contentType, ...(targetVariant ? { TargetVariant: targetVariant } : {}) }))
    )
    return { status: 200, body: Buffer.from(out.Body ?? new Uint8Array()), variant: out.InvokedProductionVariant ?? null, contentType: out.ContentType ?? 'application/json' }
  }

  /** Deletes the endpoint, then its configuration and models. */
  async delete(name: string): Promise<void> {
    const s = await this.describe(name)
    await this.send(this.sm.send(new DeleteEndpointCommand({ EndpointName: safe(name).slice(0, 63) })))
    await this.deleteConfig(s.config)
  }
}

/** The endpoint backend of a saved SageMaker job target (its region, role, keys and endpoint overrides). */
export function sagemakerEndpointTargets(jobs: Pick<JobService, 'store' | 'backends'>, pollMs?: number): (targetId: string) => Promise<ManagedTarget> {
  return async (targetId) => {
    const t = jobs.store.target(targetId)
    if (!t || t.kind !== 'sagemaker') throw new AppError('NOT_FOUND', `No SageMaker target '${targetId}'.`)
    const b = await jobs.backends.get('sagemaker', t)
    if (!(b instanceof SageMakerBackend)) throw new AppError('NOT_FOUND', `No SageMaker target '${targetId}'.`)
    return { backend: new SageMakerEndpointBackend({ ...b.cfg, ...(pollMs ? { pollMs } : {}) }), targetName: t.name, region: b.cfg.region }
  }
}
