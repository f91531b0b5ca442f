import { cloneElement, useId, type ReactElement } from 'react'

/**
 * A label and its control, tied with htmlFor/id (not by nesting), so the control's accessible
 * name is exactly the label text and not "label + current value".
 */
export function Field({ label, className = 'field', children }: { label: string; className?: string; children: ReactElement<{ id?: string }> }) {
  const id = useId()
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id })}
    </div>
  )
}
