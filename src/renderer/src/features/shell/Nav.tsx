import { roomIcons } from './icons'
import { rooms } from './rooms'

export function Nav({ active, onSelect }: { active: string; onSelect: (id: string) => void }) {
  return (
    <nav className="nav" aria-label="Workspaces">
      <div className="nav-logo" aria-hidden="true">
        A
      </div>
      <ul>
        {rooms.map((r) => (
          <li key={r.id}>
            <button
              type="button"
              className={`nav-item ${active === r.id ? 'active' : ''}`}
              aria-current={active === r.id ? 'page' : undefined}
              onClick={() => onSelect(r.id)}
            >
              {roomIcons[r.id] ?? (
                <span className="nav-glyph" aria-hidden="true">
                  {r.glyph}
                </span>
              )}
              <span className="nav-title">{r.title}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  )
}
