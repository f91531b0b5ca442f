import { useEffect, useId, useRef, type ReactNode } from 'react'

interface Props {
  title: string
  onClose: () => void
  children: ReactNode
  className?: string
  /** Render without the title bar (the command palette draws its own). */
  bare?: boolean
}

/** A modal dialog on the native <dialog>: focus is trapped, Escape closes, the name comes from the title. */
export function Dialog({ title, onClose, children, className, bare }: Props) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  const onCloseRef = useRef(onClose)
  onCloseRef.current = onClose

  useEffect(() => {
    const d = ref.current
    if (!d) return
    const opener = document.activeElement as HTMLElement | null
    if (!d.open) d.showModal()
    const onCancel = (e: Event) => {
      e.preventDefault()
      onCloseRef.current()
    }
    d.addEventListener('cancel', onCancel)
    return () => {
      d.removeEventListener('cancel', onCancel)
      if (d.open) d.close()
      opener?.focus?.()
    }
  }, [])

  return (
    <dialog
      ref={ref}
      className={`dialog ${className ?? ''}`}
      aria-labelledby={bare ? undefined : titleId}
      aria-label={bare ? title : undefined}
      onMouseDown={(e) => {
        if (e.target === ref.current) onClose()
      }}
    >
      {!bare && (
        <header className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-btn" aria-label="Close dialog" onClick={onClose}>
            ×
          </button>
        </header>
      )}
      {children}
    </dialog>
  )
}
