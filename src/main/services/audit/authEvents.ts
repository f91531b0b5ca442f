/** Users and API tokens in the audit trail: AuthService reports each change, this records it. */
import type { AuthChange } from '../auth/AuthService'
import type { AuditLog } from './AuditLog'

export function auditAuthChanges(audit: AuditLog): (c: AuthChange) => void {
  return (c) => {
    const actor = { id: c.actor.id, name: c.actor.name }
    switch (c.kind) {
      case 'user.created':
        return void audit.append({ actor, action: 'user.create', entityType: 'user', entity: c.user.name, after: { id: c.user.id, role: c.user.role } })
      case 'user.role':
        return void audit.append({ actor, action: 'user.role', entityType: 'user', entity: c.user.name, before: { role: c.before }, after: { role: c.user.role } })
      case 'user.disabled':
        return void audit.append({
          actor,
          action: c.user.disabled ? 'user.disable' : 'user.enable',
          entityType: 'user',
          entity: c.user.name,
          before: { disabled: c.before },
          after: { disabled: c.user.disabled }
        })
      case 'user.password':
        return void audit.append({ actor, action: 'user.password', entityType: 'user', entity: c.user.name })
      case 'token.created':
      case 'token.revoked':
        return void audit.append({
          actor,
          action: c.kind === 'token.created' ? 'token.create' : 'token.revoke',
          entityType: 'user',
          entity: c.token.userName ?? 'app',
          after: { token: c.token.id, name: c.token.name, scope: c.token.scope }
        })
    }
  }
}
