/**
 * One endpoint that a cloud provider runs whole (SageMaker): it creates or moves the provider's
 * endpoint onto a set of variants, follows its status (DescribeEndpoint: often while it is Creating
 * or Updating, now and then once InService, so a failure or a deletion outside Atelier shows up),
 * hands requests to the provider and deletes it. The endpoint service keeps one per endpoint placed
 * on a cloud target; after a restart it re-attaches by describing the endpoint, not by deploying it.
 */
import { AppError } from '../../../shared/errors'
import type { ManagedAnswer, ManagedEndpointBackend, ManagedStatus, ManagedVariant } from './backend'

export interface ManagedOptions {
  /** Poll interval while the endpoint is Creating or Updating (ms). */
  busyPollMs: number
  /** Poll interval once it is InService or Failed (ms). */
  idlePollMs: number
  onChange: () => void
}

const SERVING = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack'])
const BUSY = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting'])

export class ManagedEndpoint {
  status: ManagedStatus | null = null
  /** The last deploy, update or status read that failed, in the provider's words. */
  error: string | null = null
  deploying = false
  private timer: NodeJS.Timeout | null = null
  private disposed = false

  constructor(
    readonly backend: ManagedEndpointBackend,
    readonly endpointName: string,
    private readonly o: ManagedOptions
  ) {}

  /** Creates the endpoint or moves it onto `variants`; resolves once it serves them. */
  async apply(variants: ManagedVariant[]): Promise<void> {
    this.stopPolling()
    this.deploying = true
    this.error = null
    this.o.onChange()
    try {
      this.status = await this.backend.deploy(this.endpointName, variants, {
        onStatus: (s) => {
          this.status = s
          this.o.onChange()
        }
      })
    } catch (err) {
      // what the provider says now (a failed creation is Failed; a failed update rolled back)
      await this.refresh(false)
      this.error = (err as Error).message
      throw err
    } finally {
      this.deploying = false
      this.o.onChange()
      this.schedule()
    }
  }

  /** Reads the endpoint's status (re-attach after a restart; the periodic check). */
  async refresh(clearError = true): Promise<void> {
    try {
      this.status = await this.backend.describe(this.endpointName)
      if (clearError && this.status.status === 'InService' && !this.status.failureReason) this.error = null
    } catch (err) {
      const msg = (err as Error).message
      if (/Could not find endpoint/.test(msg)) {
        this.status = null
        // a creation that failed keeps its own reason
        this.error ??= `The SageMaker endpoint ${this.endpointName} does not exist (deleted outside Atelier?): ${msg}`
      } else this.error = msg
    }
    this.o.onChange()
  }

  /** Follows the status from now on. */
  attach(): Promise<void> {
    return this.refresh().then(() => this.schedule())
  }

  private schedule() {
    this.stopPolling()
    if (this.disposed) return
    const busy = this.deploying || (this.status !== null && BUSY.has(this.status.status))
    this.timer = setTimeout(
      () => {
        this.timer = null
        if (this.deploying || this.disposed) return
        void this.refresh().then(() => this.schedule())
      },
      busy ? this.o.busyPollMs : this.o.idlePollMs
    )
    this.timer.unref?.()
  }

  private stopPolling() {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** Why requests cannot go through now, or null when the endpoint serves. */
  unavailable(): string | null {
    if (this.status && SERVING.has(this.status.status)) return null
    if (this.status) return `The SageMaker endpoint ${this.endpointName} is ${this.status.status}${this.status.failureReason ? `: ${this.status.failureReason}` : ''}`
    return this.deploying ? `The SageMaker endpoint ${this.endpointName} is being created` : `The SageMaker endpoint ${this.endpointName} is not running`
  }

  /** Serving, starting or failed, with the reason. */
  state(): { state: 'starting' | 'running' | 'failed'; error?: string } {
    const s = this.status
    if (s?.status === 'Failed') return { state: 'failed', error: s.failureReason ?? this.error ?? 'SageMaker gave no reason' }
    if (s && SERVING.has(s.status)) return { state: 'running', ...(this.error ? { error: this.error } : {}) }
    if (this.deploying || (s && BUSY.has(s.status))) return { state: 'starting' }
    return this.error ? { state: 'failed', error: this.error } : { state: 'starting' }
  }

  invoke(body: Buffer, contentType: string): Promise<ManagedAnswer> {
    return this.backend.invoke(this.endpointName, body, contentType)
  }

  /** Deletes the provider's endpoint (a missing one counts as deleted). */
  async remove(): Promise<void> {
    this.stopPolling()
    try {
      await this.backend.delete(this.endpointName)
    } catch (err) {
      if (!/Could not find endpoint/.test((err as Error).message)) throw err instanceof AppError ? err : new AppError('CLOUD_ERROR', (err as Error).message)
    }
    this.status = null
    this.error = null
    this.o.onChange()
  }

  dispose(): void {
    this.disposed = true
    this.stopPolling()
  }
}
