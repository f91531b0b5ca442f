/**
 * Where the user is, kept in the URL hash (`#room=notebooks&notebook=churn.ipynb&experiment=1&job=…`)
 * so that a reload (browser or Electron window) returns to the same room, notebook, experiment and job.
 * The hash never carries the token (that stays in sessionStorage).
 */
export interface AppLocation {
  room?: string
  notebook?: string
  experiment?: string
  job?: string
}

const KEYS: (keyof AppLocation)[] = ['room', 'notebook', 'experiment', 'job']

export function parseLocation(hash: string): AppLocation {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const out: AppLocation = {}
  for (const k of KEYS) {
    const v = params.get(k)
    if (v) out[k] = v
  }
  return out
}

export function formatLocation(l: AppLocation): string {
  const params = new URLSearchParams()
  for (const k of KEYS) if (l[k]) params.set(k, l[k]!)
  const s = params.toString()
  return s ? `#${s}` : ''
}

export function readLocation(): AppLocation {
  return parseLocation(location.hash)
}

/** Merges `patch` into the hash (null removes a key) without adding a history entry. */
export function writeLocation(patch: { [K in keyof AppLocation]?: string | null }): void {
  const next: AppLocation = { ...readLocation() }
  for (const k of KEYS) {
    if (!(k in patch)) continue
    const v = patch[k]
    if (v) next[k] = v
    else delete next[k]
  }
  const hash = formatLocation(next)
  if (hash !== location.hash) history.replaceState(history.state, '', location.pathname + location.search + hash)
}

/**
 * Restores the notebook, experiment and job named in the URL once their lists are there, and from
 * then on writes each new selection back. The stores load lazily, with their rooms.
 */
export function followSelections(whenWorkspace: (run: () => void) => void): void {
  const saved = readLocation()
  void import('../notebooks/useNotebookStore').then(({ useNotebookStore }) => {
    if (saved.notebook) {
      whenWorkspace(() => {
        const st = useNotebookStore.getState()
        if (!st.doc) void st.openNotebook(saved.notebook!)
      })
    }
    useNotebookStore.subscribe((s, prev) => {
      if (s.doc?.path !== prev.doc?.path && s.doc) writeLocation({ notebook: s.doc.path })
    })
  })
  void import('../experiments/useExperimentsStore').then(({ useExperimentsStore }) => {
    let pending = saved.experiment
    useExperimentsStore.subscribe((s, prev) => {
      // the saved experiment wins over the room's default pick, once the list has it
      if (pending && s.experiments !== prev.experiments && s.experiments.some((e) => e.experimentId === pending)) {
        const id = pending
        pending = undefined
        if (s.experimentId !== id) s.selectExperiment(id)
        return
      }
      if (s.experimentId !== prev.experimentId && s.experimentId && !pending) writeLocation({ experiment: s.experimentId })
    })
  })
  void import('../jobs/useJobsStore').then(({ useJobsStore }) => {
    if (saved.job) whenWorkspace(() => useJobsStore.getState().selectJob(saved.job!))
    useJobsStore.subscribe((s, prev) => {
      if (s.selectedJobId !== prev.selectedJobId && s.selectedJobId) writeLocation({ job: s.selectedJobId })
    })
  })
}
