import { useEffect } from 'react'
import { call } from '../../api/client'
import { signOut, useSessionStore } from './session'

/** The signed-in user and role in the top bar, with "Sign out" for login sessions (serve only). */
export function UserBadge() {
  const principal = useSessionStore((s) => s.principal)
  const setPrincipal = useSessionStore((s) => s.setPrincipal)
  useEffect(() => {
    call('auth.whoami', {}).then(
      (r) => setPrincipal(r.principal),
      () => setPrincipal(null)
    )
  }, [setPrincipal])
  if (!principal || principal.via === 'local') return null
  return (
    <span className="user-badge" role="group" aria-label="Signed in user">
      <span className="user-name">{principal.name}</span>
      <span className="badge" aria-label="Role">
        {principal.role}
      </span>
      {principal.via === 'session' && (
        <button type="button" className="btn small ghost" onClick={() => void signOut()}>
          Sign out
        </button>
      )}
    </span>
  )
}
