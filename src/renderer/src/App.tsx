import { Suspense, useEffect, useState } from 'react'
import { CommandPalette } from './features/commands/CommandPalette'
import { useCommandStore } from './features/commands/useCommandStore'
import { Nav } from './features/shell/Nav'
import { followSelections, readLocation, writeLocation } from './features/shell/location'
import { rooms } from './features/shell/rooms'
import { TopBar } from './features/shell/TopBar'
import { OpenWorkspaceDialog } from './features/workspace/OpenWorkspaceDialog'
import { useWorkspaceStore } from './features/workspace/useWorkspaceStore'
import { Spinner } from './components/ProgressBar'

export function App() {
  // the room (and the selections in it) come back from the URL after a reload
  const [roomId, selectRoom] = useState(() => rooms.find((r) => r.id === readLocation().room)?.id ?? rooms[0].id)
  const setRoomId = (id: string) => {
    selectRoom(id)
    writeLocation({ room: id })
  }
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
      followSelections((run) => {
        if (useWorkspaceStore.getState().path) return run()
        const off = useWorkspaceStore.subscribe((s) => {
          if (!s.path) return
          off()
          run()
        })
      }),
    []
  )

  useEffect(
    () =>
      register([
        { id: 'workspace.open', title: 'Open workspace', group: 'Workspace', shortcut: 'Alt+Shift+W', bindShortcut: true, run: () => showDialog(true) },
        ...rooms.map((r, i) => ({ id: `room.${r.id}`, title: `Go to ${r.title}`, group: 'View', shortcut: `Alt+Shift+${i + 1}`, bindShortcut: true, run: () => setRoomId(r.id) }))
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
