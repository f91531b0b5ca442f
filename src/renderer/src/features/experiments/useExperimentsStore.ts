import { create } from 'zustand'
import type { TrackingExperiment, TrackingRun, TrackingViewType } from '../../../../shared/api'
import { call } from '../../api/client'
import type { GroupSummary } from '../../../../shared/trackingGroups'
import type { ColumnId, SortDir, XAxis } from './logic'
import { plural } from '../../lib/format'
import { errorText as message } from '../../lib/errors'

/** The chart: curves over steps/time, a bar per run, or whichever fits the metric (bars when logged once per run). */
export type ChartKind = 'auto' | 'lines' | 'bars'

export { cellValue, columnLabel, compareValues, formatValue, sortRuns, type ColumnId, type SortDir, type XAxis } from './logic'

interface State {
  experiments: TrackingExperiment[]
  experimentsError: string | null
  experimentId: string | null
  /** Deleted experiments are listed too (greyed, restorable). */
  showDeletedExperiments: boolean
  runs: TrackingRun[]
  /** Which runs the table lists: active (default), deleted (to restore), or both. */
  runsView: TrackingViewType
  /** Why the last delete/restore failed (cleared by the next one). */
  actionError: string | null
  loading: boolean
  /** The filter box of the selected experiment (each experiment keeps its own, in `filters`). */
  filter: string
  filters: Record<string, string>
  /** The last filter each experiment's runs were listed with successfully. */
  validFilters: Record<string, string>
  filterError: string | null
  /** What the table shows instead when the filter is invalid (or was cleared to show a run). */
  filterNotice: string | null
  sort: { col: ColumnId; dir: SortDir }
  columns: ColumnId[]
  selected: string[]
  detailRunId: string | null
  chartKey: string | null
  logY: boolean
  smoothing: number
  xAxis: XAxis
  chartKind: ChartKind
  view: 'chart' | 'compare'
  /** Params whose values group the runs (e.g. all but `seed`); empty: no grouping. */
  groupBy: string[]
  /** The groups of the current runs (computed by the service), when grouping. */
  groups: GroupSummary | null
  groupsError: string | null
  /** Labels of the groups drawn in the chart. */
  selectedGroups: string[]
  /** Draw each group's runs behind its mean curve. */
  showGroupRuns: boolean
  /** Bumped on every live refresh so that the chart and details refetch. */
  revision: number
  loadExperiments(): Promise<void>
  selectExperiment(id: string): void
  setShowDeletedExperiments(v: boolean): Promise<void>
  setExperimentDeleted(id: string, deleted: boolean): Promise<void>
  setRunsView(v: TrackingViewType): void
  setRunsDeleted(ids: string[], deleted: boolean): Promise<void>
  loadRuns(): Promise<void>
  /** Shows one run: its experiment, the run selected and its details open (clearing a filter that hides it). */
  openRun(experimentId: string, runId: string): Promise<void>
  setFilter(f: string): void
  applyFilter(): Promise<void>
  setSort(col: ColumnId): void
  toggleColumn(col: ColumnId): void
  toggleSelected(runId: string): void
  setSelected(ids: string[]): void
  showDetails(runId: string | null): void
  setChartKey(k: string | null): void
  setLogY(v: boolean): void
  setSmoothing(v: number): void
  setXAxis(v: XAxis): void
  setChartKind(v: ChartKind): void
  setView(v: 'chart' | 'compare'): void
  refresh(): Promise<void>
  setGroupBy(keys: string[]): void
  loadGroups(): Promise<void>
  toggleGroup(label: string): void
  setShowGroupRuns(v: boolean): void
}

/**
 * What the grouped Compare view compares: the ticked groups in table order, then each selected run as
 * a group of one (labelled by its name).
 */
export function groupCompareItems(s: Pick<State, 'groups' | 'selectedGroups' | 'selected' | 'runs'>): { label: string; runIds: string[] }[] {
  const groups = (s.groups?.groups ?? []).filter((g) => s.selectedGroups.includes(g.label)).map((g) => ({ label: g.label, runIds: g.runIds }))
  const names = new Map(s.runs.map((r) => [r.runId, r.runName || r.runId]))
  const runs = s.selected.filter((id) => names.has(id)).map((id) => ({ label: names.get(id)!, runIds: [id] }))
  return [...groups, ...runs]
}

/** How many columns Compare would show: groups and single runs when grouping, else the selected runs. */
export function compareSize(s: Pick<State, 'groupBy' | 'groups' | 'selectedGroups' | 'selected' | 'runs'>): number {
  return s.groupBy.length > 0 ? groupCompareItems(s).length : s.selected.length
}

let runsSeq = 0

export const useExperimentsStore = create<State>()((set, get) => ({
  experiments: [],
  experimentsError: null,
  experimentId: null,
  showDeletedExperiments: false,
  runs: [],
  runsView: 'ACTIVE_ONLY',
  actionError: null,
  loading: false,
  filter: '',
  filters: {},
  validFilters: {},
  filterError: null,
  filterNotice: null,
  sort: { col: 'run.start', dir: 'desc' },
  columns: [],
  selected: [],
  detailRunId: null,
  chartKey: null,
  logY: false,
  smoothing: 0,
  xAxis: 'step',
  chartKind: 'auto',
  view: 'chart',
  groupBy: [],
  groups: null,
  groupsError: null,
  selectedGroups: [],
  showGroupRuns: false,
  revision: 0,

  async loadExperiments() {
    try {
      const experiments = await call('tracking.experiments.list', { viewType: get().showDeletedExperiments ? 'ALL' : 'ACTIVE_ONLY' })
      set({ experiments, experimentsError: null })
      const cur = get().experimentId
      if (!cur || !experiments.some((e) => e.experimentId === cur)) {
        const first = experiments.find((e) => e.runCount > 0) ?? experiments[0]
        if (first) get().selectExperiment(first.experimentId)
      }
    } catch (e) {
      set({ experimentsError: message(e) })
    }
  },

  selectExperiment(id) {
    if (id === get().experimentId) return
    set({ experimentId: id, filter: get().filters[id] ?? '', runs: [], selected: [], detailRunId: null, columns: [], chartKey: null, filterError: null, filterNotice: null, actionError: null, view: 'chart', groupBy: [], groups: null, groupsError: null, selectedGroups: [] })
    void get().loadRuns()
  },

  async setShowDeletedExperiments(showDeletedExperiments) {
    set({ showDeletedExperiments })
    await get().loadExperiments()
  },

  async setExperimentDeleted(id, deleted) {
    try {
      await call(deleted ? 'tracking.experiment.delete' : 'tracking.experiment.restore', { experimentId: id })
      set({ actionError: null })
    } catch (e) {
      set({ actionError: message(e) })
    }
    await get().loadExperiments()
    if (get().experimentId === id) await get().loadRuns()
  },

  setRunsView(runsView) {
    set({ runsView, selected: [], detailRunId: null, view: 'chart' })
    void get().loadRuns()
  },

  async setRunsDeleted(ids, deleted) {
    const failed: string[] = []
    for (const runId of ids) {
      try {
        await call(deleted ? 'tracking.run.delete' : 'tracking.run.restore', { runId })
      } catch (e) {
        failed.push(message(e))
      }
    }
    set({ actionError: failed.length ? `${failed.length} of ${plural(ids.length, 'run')} could not be ${deleted ? 'deleted' : 'restored'}: ${failed[0]}` : null })
    await Promise.all([get().loadRuns(), get().loadExperiments()])
  },

  async loadRuns() {
    const { experimentId, filter, runsView } = get()
    if (!experimentId) return
    const seq = ++runsSeq
    set({ loading: true })
    const fetchAll = async (f: string) => {
      const runs: TrackingRun[] = []
      let pageToken: string | undefined
      do {
        const page = await call('tracking.runs.search', {
          experimentIds: [experimentId],
          filter: f.trim() || undefined,
          maxResults: 5000,
          pageToken,
          viewType: runsView
        })
        runs.push(...page.runs)
        pageToken = page.nextPageToken ?? undefined
      } while (pageToken && runs.length < 50_000 && seq === runsSeq)
      return runs
    }
    let runs: TrackingRun[]
    let filterError: string | null = null
    let filterNotice: string | null = null
    try {
      runs = await fetchAll(filter)
      if (seq !== runsSeq) return
      if (filter.trim()) set({ validFilters: { ...get().validFilters, [experimentId]: filter } })
      else {
        const { [experimentId]: _, ...rest } = get().validFilters
        set({ validFilters: rest })
      }
    } catch (e) {
      if (seq !== runsSeq) return
      // an invalid filter never hides everything: say why, and list what the last valid filter (or none) gives
      filterError = message(e)
      const fallback = get().validFilters[experimentId] ?? ''
      if (!filter.trim() || fallback === filter) {
        set({ loading: false, filterError, filterNotice: null })
        return
      }
      try {
        runs = await fetchAll(fallback)
      } catch (e2) {
        if (seq !== runsSeq) return
        set({ loading: false, filterError: message(e2), filterNotice: null })
        return
      }
      if (seq !== runsSeq) return
      filterNotice = fallback.trim() ? `The filter is not applied; showing the runs of the last valid filter: ${fallback}` : 'The filter is not applied; showing all runs.'
    }
    const s = get()
    const ids = new Set(runs.map((r) => r.runId))
    let { columns, chartKey } = s
    if (columns.length === 0 && runs.length > 0) {
      // default columns: every param and metric (up to a handful)
      const p = new Set<string>()
      const m = new Set<string>()
      for (const r of runs.slice(0, 200)) {
        Object.keys(r.params).forEach((k) => p.add(k))
        r.metrics.forEach((x) => m.add(x.key))
      }
      columns = [...[...p].sort().slice(0, 6).map((k) => `params.${k}`), ...[...m].sort().slice(0, 6).map((k) => `metrics.${k}`)]
    }
    if (!chartKey) chartKey = runs.find((r) => r.metrics.length > 0)?.metrics.map((m) => m.key).sort()[0] ?? null
    set({
      runs,
      loading: false,
      filterError,
      filterNotice,
      columns,
      chartKey,
      selected: s.selected.filter((id) => ids.has(id)),
      detailRunId: s.detailRunId && ids.has(s.detailRunId) ? s.detailRunId : null
    })
    if (get().groupBy.length > 0) await get().loadGroups()
  },

  async openRun(experimentId, runId) {
    if (get().experimentId !== experimentId) {
      set({ experimentId, filter: get().filters[experimentId] ?? '', runs: [], selected: [], detailRunId: null, columns: [], chartKey: null, filterError: null, filterNotice: null, actionError: null, view: 'chart', groupBy: [], groups: null, groupsError: null, selectedGroups: [] })
    }
    if (get().runsView === 'DELETED_ONLY') set({ runsView: 'ACTIVE_ONLY' })
    await get().loadRuns()
    if (get().experimentId !== experimentId) return
    if (!get().runs.some((r) => r.runId === runId) && get().filter.trim()) {
      const { [experimentId]: _, ...filters } = get().filters
      set({ filters, filter: '' })
      await get().loadRuns()
      set({ filterNotice: 'The filter was cleared to show the run you opened.' })
    }
    if (get().experimentId !== experimentId) return
    set({ detailRunId: runId, selected: [runId], view: 'chart' })
  },

  setFilter(filter) {
    const id = get().experimentId
    set({ filter, ...(id ? { filters: { ...get().filters, [id]: filter } } : {}) })
  },
  applyFilter: () => get().loadRuns(),

  setSort(col) {
    const { sort } = get()
    set({ sort: sort.col === col ? { col, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { col, dir: col.startsWith('run.') ? 'asc' : 'desc' } })
  },

  toggleColumn(col) {
    const { columns } = get()
    set({ columns: columns.includes(col) ? columns.filter((c) => c !== col) : [...columns, col] })
  },

  toggleSelected(runId) {
    const { selected } = get()
    const next = selected.includes(runId) ? selected.filter((x) => x !== runId) : [...selected, runId]
    set({ selected: next, view: compareSize({ ...get(), selected: next }) < 2 ? 'chart' : get().view })
  },
  setSelected: (selected) => set({ selected, view: compareSize({ ...get(), selected }) < 2 ? 'chart' : get().view }),
  showDetails: (detailRunId) => set({ detailRunId }),
  setChartKey: (chartKey) => set({ chartKey }),
  setLogY: (logY) => set({ logY }),
  setSmoothing: (smoothing) => set({ smoothing }),
  setXAxis: (xAxis) => set({ xAxis }),
  setChartKind: (chartKind) => set({ chartKind }),
  setView: (view) => set({ view }),

  setGroupBy(groupBy) {
    set({ groupBy, groups: null, groupsError: null, selectedGroups: [], view: 'chart' })
    if (groupBy.length > 0) void get().loadGroups()
  },

  async loadGroups() {
    const { experimentId, groupBy, runsView, filter, validFilters, filterError } = get()
    if (!experimentId || groupBy.length === 0) return
    // the groups cover the runs the table lists: with an invalid filter, those of the last valid one
    const f = filterError ? (validFilters[experimentId] ?? '') : filter
    try {
      const groups = await call('tracking.groups.summary', { experimentIds: [experimentId], filter: f.trim() || undefined, viewType: runsView, groupBy })
      if (get().experimentId !== experimentId || get().groupBy !== groupBy) return
      const labels = new Set(groups.groups.map((g) => g.label))
      const kept = get().selectedGroups.filter((l) => labels.has(l))
      // at first, the largest few groups are drawn
      set({ groups, groupsError: null, selectedGroups: kept.length > 0 || get().groups ? kept : groups.groups.slice(0, 6).map((g) => g.label) })
    } catch (e) {
      set({ groupsError: message(e) })
    }
  },

  toggleGroup(label) {
    const { selectedGroups } = get()
    const next = selectedGroups.includes(label) ? selectedGroups.filter((l) => l !== label) : [...selectedGroups, label]
    set({ selectedGroups: next, view: compareSize({ ...get(), selectedGroups: next }) < 2 ? 'chart' : get().view })
  },
  setShowGroupRuns: (showGroupRuns) => set({ showGroupRuns }),

  async refresh() {
    await Promise.all([get().loadExperiments(), get().loadRuns()])
    set({ revision: get().revision + 1 })
  }
}))
