import { useExperimentsStore } from './useExperimentsStore'

/** The group charts' switches: each group's runs drawn behind its mean curve, and a log y axis. */
export function GroupChartToggles() {
  const showRuns = useExperimentsStore((s) => s.showGroupRuns)
  const setShowRuns = useExperimentsStore((s) => s.setShowGroupRuns)
  const logY = useExperimentsStore((s) => s.logY)
  const setLogY = useExperimentsStore((s) => s.setLogY)
  return (
    <>
      <label className="check">
        <input type="checkbox" checked={showRuns} onChange={(e) => setShowRuns(e.target.checked)} /> Show runs
      </label>
      <label className="check">
        <input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> Log scale
      </label>
    </>
  )
}
