import type { ReactNode } from 'react'

/** Line icons for the nav rail (24×24, currentColor); decorative: the label beside them names the room. */
function Icon({ children }: { children: ReactNode }) {
  return (
    <svg
      className="nav-icon"
      aria-hidden="true"
      focusable="false"
      width="22"
      height="22"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.7"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {children}
    </svg>
  )
}

export const roomIcons: Record<string, ReactNode> = {
  // a database cylinder
  data: (
    <Icon>
      <ellipse cx="12" cy="5.5" rx="7" ry="2.5" />
      <path d="M5 5.5v13c0 1.4 3.1 2.5 7 2.5s7-1.1 7-2.5v-13" />
      <path d="M5 12c0 1.4 3.1 2.5 7 2.5s7-1.1 7-2.5" />
    </Icon>
  ),
  // a lab flask
  experiments: (
    <Icon>
      <path d="M9.5 3h5" />
      <path d="M10.5 3v6L5 19a1.5 1.5 0 0 0 1.3 2h11.4A1.5 1.5 0 0 0 19 19l-5.5-10V3" />
      <path d="M7.5 15h9" />
    </Icon>
  ),
  // a notebook with rings
  notebooks: (
    <Icon>
      <rect x="5.5" y="3" width="13" height="18" rx="1.5" />
      <path d="M3.5 7.5h4M3.5 12h4M3.5 16.5h4" />
      <path d="M11 8h4.5M11 11.5h4.5" />
    </Icon>
  ),
  // a terminal prompt
  jobs: (
    <Icon>
      <rect x="3" y="4.5" width="18" height="15" rx="2" />
      <path d="M7 10l3 2.5L7 15" />
      <path d="M12.5 15.5H17" />
    </Icon>
  ),
  // a cube (a packaged model)
  models: (
    <Icon>
      <path d="M12 3l8 4.5v9L12 21l-8-4.5v-9z" />
      <path d="M4 7.5l8 4.5 8-4.5" />
      <path d="M12 12v9" />
    </Icon>
  ),
  // a clipboard with a check mark
  reviews: (
    <Icon>
      <rect x="5" y="4.5" width="14" height="16.5" rx="1.5" />
      <path d="M9 3h6v3H9z" />
      <path d="M8.5 13l2.5 2.5 4.5-5" />
    </Icon>
  ),
  // a plug
  endpoints: (
    <Icon>
      <path d="M9 3v4M15 3v4" />
      <path d="M6.5 7h11v4a5.5 5.5 0 0 1-11 0z" />
      <path d="M12 16.5V21" />
    </Icon>
  ),
  // a wand with a spark
  builder: (
    <Icon>
      <path d="M4 20l11-11" />
      <path d="M13 7l2 2" />
      <path d="M18 3v3M16.5 4.5h3M19.5 10v2M18.5 11h2M9 3.5v2M8 4.5h2" />
    </Icon>
  )
}
