import { useState } from 'react'
import { Field } from '../../components/Field'
import { signIn } from './session'

/** Shown by `serve` instead of the app when the page has neither a token nor a session. */
export function LoginForm() {
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  return (
    <main className="login-page">
      <form
        className="login-card form"
        aria-labelledby="login-title"
        onSubmit={(e) => {
          e.preventDefault()
          if (!name.trim() || !password) return setError('Enter your user name and password.')
          setBusy(true)
          setError(null)
          signIn(name.trim(), password).catch((err: Error) => {
            setError(err.message)
            setBusy(false)
          })
        }}
      >
        <h1 id="login-title" className="login-title">
          Sign in to Atelier
        </h1>
        <Field label="User name">
          <input type="text" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} autoFocus spellCheck={false} />
        </Field>
        <Field label="Password">
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        {error && (
          <div role="alert" className="error-box">
            {error}
          </div>
        )}
        <button type="submit" className="btn primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  )
}
