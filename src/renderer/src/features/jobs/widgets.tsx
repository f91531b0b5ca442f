/** Small pieces the Jobs room's views share: the state badge, a live clock, a labelled field with errors. */
import { cloneElement, useEffect, useId, useState, type ReactElement, type ReactNode } from 'react'
import type { FieldError, JobState } from '../../../../shared/jobs'
import { STATE_GLYPH } from './format'

/** State as a word and a glyph, coloured; never colour alone. */
export function StateBadge({ state, className }: { state: JobState | 'pending' | 'finished' | 'stopped'; className?: string }) {
  const glyph = state in STATE_GLYPH ? STATE_GLYPH[state as JobState] : state === 'finished' ? '✓' : '⊘'
  return (
    <span className={`job-state st-${state} ${className ?? ''}`}>
      <span aria-hidden="true">{glyph}</span> {state}
    </span>
  )
}

/** The current time, re-rendering every second while `live`. */
export function useNow(live: boolean): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!live) return
    setNow(Date.now())
    const t = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(t)
  }, [live])
  return now
}

interface FieldProps {
  label: string
  /** Errors to show under the control (already filtered to this field). */
  errors: FieldError[]
  hint?: ReactNode
  className?: string
  children: ReactElement<{ id?: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string }>
  onLeave?(): void
}

/** A label, its control and its errors: aria-invalid and aria-describedby point at the messages. */
export function FormField({ label, errors, hint, className, children, onLeave }: FieldProps) {
  const id = useId()
  const errId = `${id}-err`
  const hintId = `${id}-hint`
  const described = [errors.length ? errId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className={`field ${className ?? ''}`} onBlur={onLeave}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, 'aria-invalid': errors.length > 0 || undefined, 'aria-describedby': described })}
      {hint && (
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      )}
      {errors.length > 0 && (
        <span id={errId} className="field-error">
          {errors.map((e) => e.message).join('; ')}
        </span>
      )}
    </div>
  )
}
