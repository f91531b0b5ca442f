import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { LoginForm } from './features/auth/LoginForm'
import { bootstrap } from './features/auth/session'
import './styles/base.css'
import './styles/layout.css'
import './styles/data.css'
import './styles/panels.css'
import './styles/grid.css'

const root = createRoot(document.getElementById('root')!)
// The app (and its connection) starts only once the page has a token or a session; else the sign-in form.
void bootstrap().then(async (state) => {
  if (state === 'login') {
    root.render(
      <StrictMode>
        <LoginForm />
      </StrictMode>
    )
    return
  }
  const { App } = await import('./App')
  root.render(
    <StrictMode>
      <App />
    </StrictMode>
  )
})
