interface Props {
  label: string
  /** 0–100, or null for an indeterminate bar. */
  percent: number | null
  className?: string
}

export function ProgressBar({ label, percent, className }: Props) {
  const p = percent === null ? null : Math.max(0, Math.min(100, percent))
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={p === null ? undefined : Math.round(p)}
      aria-valuetext={p === null ? 'working' : `${Math.round(p)}%`}
      className={`progress ${p === null ? 'indeterminate' : ''} ${className ?? ''}`}
    >
      <div className="progress-fill" style={p === null ? undefined : { width: `${p}%` }} />
    </div>
  )
}

export function Spinner({ label }: { label: string }) {
  return (
    <span className="spinner-wrap" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </span>
  )
}
