import { useCallback, useEffect, useState } from 'react'
import type { FsEntry } from '../../../shared/api'
import { call } from '../api/client'
import { toUiError } from '../lib/errors'
import { formatBytes } from '../lib/format'

interface Props {
  /** Directory to show first; the workspace when absent. */
  start?: string
  /** Called when the user picks an entry (click selects; double-click opens a directory). */
  onPick: (entry: { path: string; kind: 'file' | 'dir' }) => void
  /** Show only directories. */
  dirsOnly?: boolean
  label?: string
}

/** A small file browser over `fs.list`. */
export function FileBrowser({ start, onPick, dirsOnly, label = 'File browser' }: Props) {
  const [dir, setDir] = useState<string | undefined>(start)
  const [listing, setListing] = useState<{ path: string; parent: string | null; entries: FsEntry[] } | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [selected, setSelected] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)

  const load = useCallback(async (path: string | undefined) => {
    setLoading(true)
    setError(null)
    try {
      const res = await call('fs.list', path ? { path } : {})
      setListing(res)
      setDir(res.path)
    } catch (err) {
      setError(toUiError(err).message)
    } finally {
      setLoading(false)
    }
  }, [])

  useEffect(() => {
    void load(start)
  }, [load, start])

  const entries = (listing?.entries ?? []).filter((e) => !dirsOnly || e.kind === 'dir')
  const open = (e: FsEntry) => {
    if (e.kind === 'dir') void load(e.path)
  }

  return (
    <div className="file-browser">
      <div className="fb-bar">
        <button
          type="button"
          className="btn small"
          disabled={!listing?.parent}
          onClick={() => listing?.parent && void load(listing.parent)}
          aria-label="Parent folder"
        >
          ↑ Up
        </button>
        <span className="fb-path" title={dir}>
          <bdi>{dir ?? '…'}</bdi>
        </span>
        {dirsOnly && listing && (
          <button type="button" className="btn small" onClick={() => onPick({ path: listing.path, kind: 'dir' })}>
            Use this folder
          </button>
        )}
      </div>
      {error && (
        <div role="alert" className="error-box">
          {error}
        </div>
      )}
      <ul className="fb-list" role="listbox" aria-label={label} aria-busy={loading}>
        {entries.length === 0 && !loading && <li role="option" aria-selected={false} aria-disabled="true" className="muted fb-empty">
            {dirsOnly ? 'No subfolders' : 'Empty folder'}
          </li>}
        {entries.map((e) => (
          <li
            key={e.path}
            role="option"
            aria-selected={selected === e.path}
            tabIndex={selected === e.path || (selected === null && e === entries[0]) ? 0 : -1}
            className={`fb-item ${e.kind}`}
            onClick={() => {
              setSelected(e.path)
              onPick({ path: e.path, kind: e.kind })
            }}
            onDoubleClick={() => open(e)}
            onKeyDown={(ev) => {
              const i = entries.indexOf(e)
              if (ev.key === 'Enter') {
                setSelected(e.path)
                onPick({ path: e.path, kind: e.kind })
              } else if (ev.key === 'ArrowRight' && e.kind === 'dir') open(e)
              else if (ev.key === 'ArrowLeft' || ev.key === 'Backspace') listing?.parent && void load(listing.parent)
              else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
                ev.preventDefault()
                const next = entries[i + (ev.key === 'ArrowDown' ? 1 : -1)]
                if (next) {
                  setSelected(next.path)
                  ;(ev.currentTarget.parentElement?.children[
                    entries.indexOf(next)
                  ] as HTMLElement | undefined)?.focus()
                }
              }
            }}
          >
            <span className="fb-icon" aria-hidden="true">
              {e.kind === 'dir' ? '▸' : '·'}
            </span>
            <span className="fb-name">{e.name}</span>
            {e.kind === 'file' && <span className="fb-size">{formatBytes(e.size)}</span>}
            {e.kind === 'dir' && (
              <button
                type="button"
                className="link-btn"
                tabIndex={-1}
                aria-label={`Open folder ${e.name}`}
                onClick={(ev) => {
                  ev.stopPropagation()
                  open(e)
                }}
              >
                open
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  )
}
