/**
 * The main actions of every room, in the command palette from anywhere, each with a shortcut that
 * works app-wide: the command first goes to its room, then acts. Room stores load lazily; the
 * notebook store is fetched at start so that "enabled" can be answered at once.
 */
import { call } from '../../api/client'
import { readLocation } from '../shell/location'
import { useCommandStore, type Command } from './useCommandStore'

const goTo = (room: string) => useCommandStore.getState().run(`room.${room}`)
const inRoom = (room: string) => (readLocation().room ?? 'data') === room

type NotebookStore = (typeof import('../notebooks/useNotebookStore'))['useNotebookStore']
let notebooks: NotebookStore | null = null
const loadNotebooks = async (): Promise<NotebookStore> => (notebooks ??= (await import('../notebooks/useNotebookStore')).useNotebookStore)
void loadNotebooks()
const nb = () => notebooks?.getState()

async function newQuery() {
  if (inRoom('data')) {
    ;(await import('../data/actions')).newQueryTab()
    return
  }
  // the Data room makes the tab once it has loaded its saved tabs
  ;(await import('../data/openInData')).useOpenInData.getState().request('', { run: false })
  goTo('data')
}

async function addSource() {
  const { useCatalogStore } = await import('../data/catalog/useCatalogStore')
  goTo('data')
  useCatalogStore.getState().showAdd(true)
}

async function newJob() {
  const { useJobsStore } = await import('../jobs/useJobsStore')
  goTo('jobs')
  useJobsStore.getState().openSubmit({})
}

/** Recent runs of every experiment, newest first, as palette choices that open the run's details. */
async function runChoices(): Promise<Command[]> {
  const experiments = await call('tracking.experiments.list', {})
  if (experiments.length === 0) return []
  const names = new Map(experiments.map((e) => [e.experimentId, e.name]))
  const page = await call('tracking.runs.search', {
    experimentIds: experiments.slice(0, 100).map((e) => e.experimentId),
    maxResults: 500
  })
  return page.runs.map((r) => ({
    id: `run.${r.runId}`,
    title: `${r.runName || r.runId} · ${names.get(r.experimentId) ?? r.experimentId}`,
    run: () => void openRun(r.experimentId, r.runId)
  }))
}

async function openRun(experimentId: string, runId: string) {
  const { useExperimentsStore } = await import('../experiments/useExperimentsStore')
  goTo('experiments')
  useExperimentsStore.getState().selectExperiment(experimentId)
  useExperimentsStore.getState().showDetails(runId)
}

export const globalCommands: Command[] = [
  { id: 'app.newQuery', title: 'New query', group: 'Data', shortcut: 'Alt+Shift+Q', bindShortcut: true, run: () => void newQuery() },
  { id: 'app.addSource', title: 'Add source…', group: 'Data', shortcut: 'Alt+Shift+S', bindShortcut: true, run: () => void addSource() },
  {
    id: 'app.newNotebook',
    title: 'New notebook…',
    group: 'Notebooks',
    shortcut: 'Alt+Shift+N',
    bindShortcut: true,
    run: () => undefined,
    next: {
      placeholder: 'Name of the new notebook, e.g. analysis.ipynb',
      accept: (name) =>
        void loadNotebooks().then((store) => {
          goTo('notebooks')
          return store.getState().createNotebook(name)
        })
    }
  },
  {
    id: 'app.startKernel',
    title: 'Start kernel',
    group: 'Notebooks',
    shortcut: 'Alt+Shift+K',
    bindShortcut: true,
    enabled: () => !!nb()?.doc && (nb()?.kernelStatus === 'none' || nb()?.kernelStatus === 'dead'),
    run: () => {
      goTo('notebooks')
      void nb()?.startKernel()
    }
  },
  {
    id: 'app.restartKernel',
    title: 'Restart kernel',
    group: 'Notebooks',
    shortcut: 'Alt+Shift+R',
    bindShortcut: true,
    enabled: () => !!nb()?.kernelId,
    run: () => {
      goTo('notebooks')
      void nb()?.restart()
    }
  },
  {
    id: 'app.runAll',
    title: 'Run all cells',
    group: 'Notebooks',
    shortcut: 'Alt+Shift+Enter',
    bindShortcut: true,
    enabled: () => !!nb()?.doc && !!nb()?.kernelId,
    run: () => {
      goTo('notebooks')
      void nb()?.runAll()
    }
  },
  { id: 'app.newJob', title: 'New job…', group: 'Jobs', shortcut: 'Alt+Shift+J', bindShortcut: true, run: () => void newJob() },
  {
    id: 'app.openRun',
    title: 'Open run…',
    group: 'Experiments',
    shortcut: 'Alt+Shift+O',
    bindShortcut: true,
    run: () => undefined,
    next: { placeholder: 'Run name or experiment', choices: runChoices }
  }
]

useCommandStore.getState().register(globalCommands)
