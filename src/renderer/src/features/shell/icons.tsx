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
  )
}
