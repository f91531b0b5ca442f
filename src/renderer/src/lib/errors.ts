import { RemoteError, type ErrorCode } from '../../../shared/errors'

export interface UiError {
  code: ErrorCode | 'CLIENT'
  message: string
  details?: Record<string, unknown>
}

/** A user-readable error: the remote message, never a stack. */
export function toUiError(err: unknown): UiError {
  if (err instanceof RemoteError) return { code: err.code, message: err.message, details: err.details }
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    const e = err as { code?: unknown; message: string; details?: Record<string, unknown> }
    return {
      code: typeof e.code === 'string' ? (e.code as ErrorCode) : 'CLIENT',
      message: e.message,
      details: e.details
    }
  }
  return { code: 'CLIENT', message: 'Something went wrong.' }
}

export function isCancelled(err: unknown): boolean {
  return err instanceof RemoteError ? err.code === 'CANCELLED' : toUiError(err).code === 'CANCELLED'
}

/** An error's message for display. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
