/**
 * Where scoring servers run. The local backend starts them on this machine under the supervisor;
 * a managed cloud backend (SageMaker) is another implementation of the same interface.
 */
export interface VariantTarget {
  host: string
  port: number
}

export interface VariantRuntimeInfo {
  state: 'starting' | 'running' | 'restarting' | 'failed' | 'stopped'
  error?: string
  port: number | null
  pid: number | null
  restarts: number
  server: 'mlflow' | 'atelier'
}

/** One running copy of a model version. */
export interface VariantRuntime {
  readonly key: string
  info(): VariantRuntimeInfo
  /** Where to send requests, or null while it is not serving. */
  target(): VariantTarget | null
  /** Resolves once it serves or has failed. */
  ready(): Promise<void>
  stop(): Promise<void>
  /** Stop watching; leave the process running for a later app to re-attach. */
  detach(): void
}

export interface StartRequest {
  /** Unique per endpoint, variant and version (names the pid and log files). */
  key: string
  modelDir: string
  interpreter: string
  onChange: () => void
}

export interface EndpointBackend {
  readonly kind: 'local'
  /** Re-attaches to a process a previous app started, else starts one. */
  start(req: StartRequest): Promise<VariantRuntime>
}

/** A variant of an endpoint that a cloud provider runs: its model data, traffic weight and instances. */
export interface ManagedVariant {
  name: string
  /** s3:// URL of the version's model.tar.gz. */
  modelDataUrl: string
  weight: number
  instanceType: string
  instanceCount: number
}

/** What the provider says about the endpoint (SageMaker's DescribeEndpoint). */
export interface ManagedStatus {
  name: string
  /** The provider's own status word (Creating, Updating, InService, Failed…). */
  status: string
  config: string
  variants: { name: string; weight: number; instances: number }[]
  failureReason: string | null
  /** When the provider created the endpoint (ms). */
  createdAt: number | null
}

export interface ManagedAnswer {
  status: number
  contentType: string
  body: Buffer
  /** The variant the provider routed the request to. */
  variant: string | null
}

/**
 * Where the provider runs the whole endpoint (SageMaker): it splits traffic between the variants by
 * weight itself, so the proxy hands each request to `invoke` instead of forwarding to a host:port.
 */
export interface ManagedEndpointBackend {
  readonly kind: 'sagemaker'
  /** Creates the endpoint, or moves it onto these variants; resolves once it serves them. */
  deploy(name: string, variants: ManagedVariant[], o?: { onStatus?: (s: ManagedStatus) => void }): Promise<ManagedStatus>
  describe(name: string): Promise<ManagedStatus>
  invoke(name: string, body: Buffer, contentType: string): Promise<ManagedAnswer>
  /** Deletes the endpoint with its configurations and models. */
  delete(name: string): Promise<void>
  /** The model data of an approved model package; refuses one not approved. */
  approvedModelData(packageArn: string): Promise<string>
}
