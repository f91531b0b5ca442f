/**
 * MLflow's error model: `{error_code, message}` with the HTTP status MLflow's server uses for the
 * code (mlflow/protos/databricks.proto and mlflow/server/handlers.py).
 */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'ENDPOINT_NOT_FOUND'
  | 'BAD_REQUEST'
  | 'INVALID_STATE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL_ERROR'

const STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  ENDPOINT_NOT_FOUND: 404,
  BAD_REQUEST: 400,
  INVALID_STATE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_IMPLEMENTED: 501,
  INTERNAL_ERROR: 500
}

export class MlflowError extends Error {
  readonly errorCode: MlflowErrorCode
  constructor(errorCode: MlflowErrorCode, message: string) {
    super(message)
    this.name = 'MlflowError'
    this.errorCode = errorCode
  }
  get status(): number {
    return STATUS[this.errorCode]
  }
  toJSON(): { error_code: MlflowErrorCode; message: string } {
    return { error_code: this.errorCode, message: this.message }
  }
}

export const invalid = (message: string) => new MlflowError('INVALID_PARAMETER_VALUE', message)
export const notFound = (message: string) => new MlflowError('RESOURCE_DOES_NOT_EXIST', message)
export const exists = (message: string) => new MlflowError('RESOURCE_ALREADY_EXISTS', message)
