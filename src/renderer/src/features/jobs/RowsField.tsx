import { useId } from 'react'
import type { FieldError } from '../../../../shared/jobs'

interface Column<R> {
  key: keyof R & string
  /** Accessible name of the input: `${label} ${row number}`. */
  label: string
  placeholder?: string
  className?: string
}

interface Props<R> {
  legend: string
  /** Button text, e.g. "Add hyperparameter". */
  addLabel: string
  /** Singular noun for the remove buttons: "Remove hyperparameter 2". */
  noun: string
  rows: R[]
  columns: Column<R>[]
  blank: () => R
  onChange(rows: R[]): void
  errors: FieldError[]
  /** Which columns of which row an error marks invalid. */
  invalid?(row: R, index: number, col: keyof R & string): boolean
  onLeave?(): void
}

/** Editable key/value-like rows (env vars, hyperparameters, metric definitions) as a labelled group. */
export function RowsField<R extends object>({ legend, addLabel, noun, rows, columns, blank, onChange, errors, invalid, onLeave }: Props<R>) {
  const errId = useId()
  const set = (i: number, k: keyof R, v: string) => onChange(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)))
  return (
    <fieldset className="job-rows" aria-describedby={errors.length ? errId : undefined} onBlur={onLeave}>
      <legend>{legend}</legend>
      {rows.map((row, i) => (
        <div className="job-row" key={i}>
          {columns.map((c) => {
            const bad = invalid?.(row, i, c.key) ?? false
            return (
              <input
                key={c.key}
                type="text"
                className={`mono ${c.className ?? ''}`}
                aria-label={`${c.label} ${i + 1}`}
                placeholder={c.placeholder}
                value={String(row[c.key] ?? '')}
                aria-invalid={bad || undefined}
                aria-describedby={bad ? errId : undefined}
                onChange={(e) => set(i, c.key, e.target.value)}
              />
            )
          })}
          <button type="button" className="icon-btn small" aria-label={`Remove ${noun} ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="btn small ghost job-add" onClick={() => onChange([...rows, blank()])}>
        <span aria-hidden="true">+</span> {addLabel}
      </button>
      {errors.length > 0 && (
        <span id={errId} className="field-error">
          {errors.map((e) => e.message).join('; ')}
        </span>
      )}
    </fieldset>
  )
}
