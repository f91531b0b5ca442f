import { AppError } from '../../../shared/errors'
import type * as R from '../../../shared/registry'

/** The append-only, hash-chained audit trail (filled in step by step). */
export class AuditLog {
  list(_req: unknown): R.AuditPage {
    throw new AppError('UNSUPPORTED', 'The audit trail is not available yet.')
  }
  verify(): R.AuditVerification {
    throw new AppError('UNSUPPORTED', 'The audit trail is not available yet.')
  }
  export(_format: 'jsonl' | 'csv'): R.AuditExport {
    throw new AppError('UNSUPPORTED', 'The audit trail is not available yet.')
  }
}
