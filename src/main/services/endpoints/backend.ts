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
