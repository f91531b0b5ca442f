import { Suspense, useEffect, useState } from 'react'
import { CommandPalette } from './features/commands/CommandPalette'
import { useCommandStore } from './features/commands/useCommandStore'
import { Nav } from './features/shell/Nav'
import { rooms } from './features/shell/rooms'
import { TopBar } from './features/shell/TopBar'
import { OpenWorkspaceDialog } from './features/workspace/OpenWorkspaceDialog'
import { useWorkspaceStore } from './features/workspace/useWorkspaceStore'
import { Spinner } from './components/ProgressBar'

export function App() {
  const [roomId, setRoomId] = useState(rooms[0].id)
  const dialogOpen = useWorkspaceStore((s) => s.dialogOpen)
  const error = useWorkspaceStore((s) => s.error)
  const init = useWorkspaceStore((s) => s.init)
  const showDialog = useWorkspaceStore((s) => s.showDialog)
  const register = useCommandStore((s) => s.register)

  useEffect(() => {
    void init()
  }, [init])

  useEffect(
    () =>
      register([
        { id: 'workspace.open', title: 'Open workspace', group: 'Workspace', run: () => showDialog(true) },
        ...rooms.map((r) => ({ id: `room.${r.id}`, title: `Go to ${r.title}`, group: 'View', run: () => setRoomId(r.id) }))
      ]),
    [register, showDialog]
  )

  const Room = rooms.find((r) => r.id === roomId)!.component
  return (
    <div className="app">
      <Nav active={roomId} onSelect={setRoomId} />
      <div className="app-main">
        <TopBar />
        {error && (
          <div role="alert" className="error-banner">
            {error}
          </div>
        )}
        <main className="room" aria-label={rooms.find((r) => r.id === roomId)!.title}>
          <Suspense fallback={<Spinner label="Loading…" />}>
            <Room />
          </Suspense>
        </main>
      </div>
      <CommandPalette />
      {dialogOpen && <OpenWorkspaceDialog />}
    </div>
  )
}
