/** A titled section with a two-column table of names and values ("None" when empty). */
export function KeyValueTable({ title, entries, className }: { title: string; entries: [string, string][]; className: string }) {
  return (
    <section className={`kv-section ${className}`} aria-label={title}>
      <h3>{title}</h3>
      {entries.length === 0 ? (
        <p className="muted">None</p>
      ) : (
        <table className="stats-table">
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td className="mono">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
