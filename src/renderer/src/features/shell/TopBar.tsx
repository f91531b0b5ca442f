import { roleCan } from '../../../../shared/permissions'
import { UserBadge } from '../auth/UserBadge'
import { useSessionStore } from '../auth/session'
import { useCommandStore, modKey } from '../commands/useCommandStore'
import { useWorkspaceStore } from '../workspace/useWorkspaceStore'
import { RunningIndicator } from '../running/RunningPanel'

export function TopBar() {
  const path = useWorkspaceStore((s) => s.path)
  const info = useWorkspaceStore((s) => s.info)
  const showDialog = useWorkspaceStore((s) => s.showDialog)
  const openPalette = useCommandStore((s) => s.openPalette)
  const principal = useSessionStore((s) => s.principal)
  return (
    <header className="topbar">
      <span className="brand">Atelier</span>
      <span className="ws-label">Workspace</span>
      <span className="ws-path" title={path ?? undefined} aria-label="Current workspace">
        <bdi>{path ?? 'No workspace open'}</bdi>
      </span>
      {(!principal || roleCan(principal.role, 'write')) && (
        <button type="button" className="btn small" onClick={() => showDialog(true)}>
          Open workspace
        </button>
      )}
      <span className="spacer" />
      <RunningIndicator />
      <button type="button" className="btn small ghost" onClick={() => openPalette()} aria-keyshortcuts="Control+Shift+P Control+K">
        Commands <kbd>{modKey}+K</kbd>
      </button>
      <UserBadge />
      {info && (
        <span className="muted version" title={`DuckDB ${info.duckdbVersion}`}>
          v{info.version}
        </span>
      )}
    </header>
  )
}
