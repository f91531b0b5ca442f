import { useState, type FormEvent } from 'react'
import { Dialog } from '../../components/Dialog'
import { useServerStore, type ConnectParams } from './useServerStore'

/** Connect to a remote Jupyter server: URL + token, directly or through an SSH tunnel (key or agent). */
export function ConnectDialog({ onClose }: { onClose: () => void }) {
  const [viaSsh, setViaSsh] = useState(false)
  const [f, setF] = useState({ name: '', url: '', token: '', host: '', port: '22', user: '', key: '', passphrase: '', agent: false })
  const [error, setError] = useState<string | null>(null)
  const [hostKey, setHostKey] = useState<{ fingerprint: string; keyType?: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const up = (k: keyof typeof f) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setF((x) => ({ ...x, [k]: e.target.type === 'checkbox' ? !!e.target.checked : e.target.value }))

  const submit = async (e: FormEvent, acceptHostKey?: string) => {
    e.preventDefault()
    setError(null)
    const url = f.url.trim()
    if (!/^https?:\/\/\S+/i.test(url)) return setError('Enter the server URL, e.g. http://127.0.0.1:8888/')
    if (viaSsh && (!f.host.trim() || !f.user.trim())) return setError('Enter the SSH host and user.')
    const port = Number(f.port || 22)
    if (viaSsh && (!Number.isInteger(port) || port < 1 || port > 65535)) return setError('The SSH port must be a number from 1 to 65535.')
    const p: ConnectParams = { baseUrl: url, ...(f.name.trim() ? { name: f.name.trim() } : {}), ...(f.token ? { token: f.token } : {}) }
    if (viaSsh)
      p.ssh = {
        host: f.host.trim(),
        port,
        username: f.user.trim(),
        ...(f.key.trim() ? { privateKeyPath: f.key.trim() } : {}),
        ...(f.passphrase ? { passphrase: f.passphrase } : {}),
        ...(f.agent ? { useAgent: true } : {}),
        ...(acceptHostKey ? { acceptHostKey } : {})
      }
    setBusy(true)
    try {
      await useServerStore.getState().connect(p)
      onClose()
    } catch (err) {
      const x = err as { code?: string; message?: string; details?: { fingerprint?: string; keyType?: string; reason?: string } }
      // an unknown host key is explained (with its fingerprint) by the trust prompt; anything else by the alert
      if (x.code === 'SSH_HOST_KEY' && x.details?.reason === 'unknown' && x.details.fingerprint) setHostKey({ fingerprint: x.details.fingerprint, keyType: x.details.keyType })
      else setHostKey(null)
      setError(x.message ?? String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog title="Connect to a Jupyter server" onClose={onClose}>
      <form className="dialog-body nb-connect" onSubmit={(e) => void submit(e)}>
        <label>
          Name (optional)
          <input value={f.name} onChange={up('name')} placeholder="gpu-box" />
        </label>
        <label>
          Server URL
          <input value={f.url} onChange={up('url')} placeholder="http://127.0.0.1:8888/" required />
        </label>
        <label>
          Token
          <input type="password" value={f.token} onChange={up('token')} autoComplete="off" />
        </label>
        <label className="nb-check">
          <input type="checkbox" checked={viaSsh} onChange={(e) => setViaSsh(e.target.checked)} />
          Through an SSH tunnel (the URL as seen from the SSH host)
        </label>
        {viaSsh && (
          <fieldset className="nb-ssh">
            <legend>SSH</legend>
            <label>
              SSH host
              <input value={f.host} onChange={up('host')} placeholder="gpu.example.org" />
            </label>
            <label>
              SSH port
              <input value={f.port} onChange={up('port')} inputMode="numeric" />
            </label>
            <label>
              SSH user
              <input value={f.user} onChange={up('user')} />
            </label>
            <label>
              Private key path
              <input value={f.key} onChange={up('key')} placeholder="~/.ssh/id_ed25519" />
            </label>
            <label>
              Key passphrase
              <input type="password" value={f.passphrase} onChange={up('passphrase')} autoComplete="off" />
            </label>
            <label className="nb-check">
              <input type="checkbox" checked={f.agent} onChange={up('agent')} />
              Use the SSH agent
            </label>
          </fieldset>
        )}
        {error && !hostKey && (
          <div role="alert" className="error-box small">
            {error}
          </div>
        )}
        {hostKey && (
          <div className="nb-hostkey small">
            First connection to this host. Its {hostKey.keyType ?? ''} key fingerprint is <code>{hostKey.fingerprint}</code>.
            <button type="button" className="btn small" disabled={busy} onClick={(e) => void submit(e as unknown as FormEvent, hostKey.fingerprint)}>
              Trust this host and connect
            </button>
          </div>
        )}
        <footer className="dialog-foot">
          <button type="button" className="btn ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy}>
            {busy ? 'Connecting…' : 'Connect'}
          </button>
        </footer>
      </form>
    </Dialog>
  )
}
