/** The chart toolbars' "Metric" picker: one of the experiment's metric keys, or none yet. */
export function MetricSelect({ keys, value, onChange }: { keys: string[]; value: string | null; onChange: (key: string | null) => void }) {
  return (
    <label className="inline-field">
      <span>Metric</span>
      <select aria-label="Metric" value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        {keys.length === 0 && <option value="">No metrics</option>}
        {keys.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
    </label>
  )
}
