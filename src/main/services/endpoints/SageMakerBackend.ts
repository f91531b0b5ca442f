/**
 * Endpoints on SageMaker: each deploy creates one SageMaker model per variant (the region's sklearn
 * inference image with the variant's model.tar.gz), an endpoint configuration with the variants'
 * weights, then creates the endpoint or rolls the existing one onto the new configuration, and waits
 * for InService. Requests go through SageMaker Runtime's InvokeEndpoint.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  type ProductionVariantInstanceType
} from '@aws-sdk/client-sagemaker'
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime'
import { AppError } from '../../../shared/errors'
import { awsError, type SageMakerTargetConfig } from '../jobs/SageMakerBackend'
import { inferenceImage } from '../registry/sagemaker'

export interface SageMakerVariant {
  name: string
  /** s3:// URL of the version's model.tar.gz (as pushed to the Model Registry). */
  modelDataUrl: string
  weight: number
  instanceType?: string
  instanceCount?: number
}

export interface SageMakerEndpointState {
  name: string
  status: string
  config: string
  variants: { name: string; weight: number; instances: number }[]
  failureReason: string | null
}

const safe = (s: string) => s.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '')

export class SageMakerEndpointBackend {
  readonly kind = 'sagemaker' as const
  readonly sm: SageMakerClient
  readonly runtime: SageMakerRuntimeClient
  private seq = 0

  constructor(readonly cfg: SageMakerTargetConfig & { runtimeEndpoint?: string; pollMs?: number }) {
    if (!cfg.credentials) throw new AppError('INVALID_SPEC', 'SageMaker endpoints need credentials.')
    const common = { region: cfg.region, credentials: cfg.credentials, maxAttempts: cfg.maxAttempts ?? 5 }
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
  async deploy(name: string, variants: SageMakerVariant[], o: { timeoutMs?: number } = {}): Promise<SageMakerEndpointState> {
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
    const exists = await this.describe(endpoint).then(
      () => true,
      (e: AppError) => (/Could not find endpoint/.test(e.message) ? false : Promise.reject(e))
    )
    if (exists) await this.send(this.sm.send(new UpdateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config })))
    else await this.send(this.sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config })))
    return this.waitInService(endpoint, config, o.timeoutMs ?? 30 * 60_000)
  }

  async describe(name: string): Promise<SageMakerEndpointState> {
    const d = await this.send(this.sm.send(new DescribeEndpointCommand({ EndpointName: safe(name).slice(0, 63) })))
    return {
      name: d.EndpointName!,
      status: d.EndpointStatus!,
      config: d.EndpointConfigName!,
      variants: (d.ProductionVariants ?? []).map((v) => ({ name: v.VariantName!, weight: v.CurrentWeight ?? 0, instances: v.CurrentInstanceCount ?? 0 })),
      failureReason: d.FailureReason ?? null
    }
  }

  private async waitInService(name: string, config: string, timeoutMs: number): Promise<SageMakerEndpointState> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const s = await this.describe(name)
      if (s.status === 'Failed') throw new AppError('CLOUD_ERROR', `SageMaker endpoint ${name} failed: ${s.failureReason ?? 'no reason given'}`)
      if (s.status === 'InService' && s.config === config) return s
      if (Date.now() > until) throw new AppError('CLOUD_ERROR', `SageMaker endpoint ${name} is still ${s.status}.`)
      await new Promise((r) => setTimeout(r, this.cfg.pollMs ?? 15_000))
    }
  }

  /** One request through SageMaker Runtime; the answer's body and the variant that served it. */
  async invoke(name: string, body: string, contentType = 'text/csv', targetVariant?: string): Promise<{ body: string; variant: string | null; contentType: string | null }> {
    const out = await this.send(
      this.runtime.send(new InvokeEndpointCommand({ EndpointName: safe(name).slice(0, 63), Body: new TextEncoder().encode(body), ContentType: contentType, ...(targetVariant ? { TargetVariant: targetVariant } : {}) }))
    )
    return { body: new TextDecoder().decode(out.Body), variant: out.InvokedProductionVariant ?? null, contentType: out.ContentType ?? null }
  }

  async delete(name: string): Promise<void> {
    await this.send(this.sm.send(new DeleteEndpointCommand({ EndpointName: safe(name).slice(0, 63) })))
  }
}
