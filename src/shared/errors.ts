/**
 * Errors cross every door (IPC, WebSocket, direct call) as plain `{code, message, details}`.
 * Codes are ones a user can act on; stack traces stay in the log.
 */
export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNKNOWN_METHOD'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TOO_LARGE'
  | 'NOT_FOUND'
  | 'FILE_ERROR'
  | 'SQL_ERROR'
  | 'CANCELLED'
  | 'EXTENSION_UNAVAILABLE'
  | 'UNSUPPORTED'
  | 'INTERNAL'
  // confinement: paths outside the workspace, SQL a read-only caller may not run, no silent overwrite
  | 'PATH_FORBIDDEN'
  | 'SQL_FORBIDDEN'
  | 'FILE_EXISTS'
  // kernels & notebooks
  | 'JUPYTER_UNAVAILABLE'
  | 'JUPYTER_AUTH'
  | 'KERNEL_DEAD'
  | 'KERNEL_BUSY'
  | 'NOTEBOOK_INVALID'
  | 'FILE_CHANGED'
  | 'NOTEBOOK_CONFLICT'
  | 'SSH_HOST_KEY'
  | 'SSH_ERROR'
  // training jobs
  | 'INVALID_SPEC'
  | 'SLURM_REJECTED'
  | 'SLURM_ERROR'
  | 'JOB_ERROR'
  // model registry and reviews
  | 'ALREADY_EXISTS'
  | 'REGISTRY_CONFLICT'
  | 'POLICY_BLOCKED'
  | 'COMMENT_REQUIRED'
  | 'SELF_APPROVAL'
  | 'ALREADY_REVIEWED'
  | 'INVALID_STATE'
  | 'TARGET_UNAVAILABLE'
  // endpoints
  | 'ENDPOINT_ERROR'
  | 'IN_USE'
  // model builder
  | 'BUILDER_BAD_INPUT'
  | 'BUILDER_PYTHON_MISSING'
  | 'BUILDER_FAILED'
  // cloud targets: the provider's own error, verbatim (details.provider, details.code)
  | 'CLOUD_ERROR'

export interface ErrorPayload {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.details = details
  }
  toPayload(): ErrorPayload {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

export function isErrorPayload(value: unknown): value is ErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorPayload).code === 'string' &&
    typeof (value as ErrorPayload).message === 'string'
  )
}

/** Turns anything thrown into a payload; unknown errors become INTERNAL with a generic message. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof AppError) return err.toPayload()
  if (isErrorPayload(err)) return { code: err.code, message: err.message, details: err.details }
  return { code: 'INTERNAL', message: 'Internal error; see the application log for details.' }
}

/** The error a caller sees on the renderer side of a door. */
export class RemoteError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>
  constructor(payload: ErrorPayload) {
    super(payload.message)
    this.name = 'RemoteError'
    this.code = payload.code
    this.details = payload.details
  }
}
