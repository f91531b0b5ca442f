import type { Principal } from '../../../shared/auth'
import type { SecretStore } from '../secrets/SecretStore'
import type { AuthService } from './AuthService'

const SECRET_KEY = 'auth.trackingToken'
const APP: Principal = Object.freeze({ id: 'app', name: 'atelier', role: 'admin', via: 'local' })

/**
 * The tracking-only token kernels and jobs get as MLFLOW_TRACKING_TOKEN (never the `serve` token). Kept
 * in the secret store so jobs that outlive the app keep logging; once revoked (`auth.tokens.revoke`), the
 * next ask issues a new one.
 */
export function trackingTokenSource(auth: AuthService, secrets: Pick<SecretStore, 'get' | 'set'>): () => string {
  let cached: string | null = null
  return () => {
    const kept = cached ?? secrets.get(SECRET_KEY) ?? null
    if (kept && auth.resolveToken(kept)?.scope === 'tracking') return (cached = kept)
    const { token } = auth.createTrackingToken('kernels and jobs (MLflow REST only)', APP)
    secrets.set(SECRET_KEY, token)
    return (cached = token)
  }
}
