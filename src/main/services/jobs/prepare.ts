/** What the service hands a backend: the shipped files, the shared environment and one task (command + env) per job row; and the job run's tags. */
import type { JobSpec } from '../../../shared/jobs'
import { entryArgs, entryCommand, hpEnv, NOTEBOOK_SCRIPT, readNotebookScript, sourceFiles } from './spec'
import { torchrunCommand } from './SlurmBackend'
import type { JobRow } from './store'
import type { PreparedJob } from './types'

/** The job folder's id: the job's, or for a Slurm array the sweep's. */
export function folderIdOf(rows: JobRow[]): string {
  return rows.length > 1 && rows[0].sweep_id ? rows[0].sweep_id : rows[0].id
}

export async function prepareJob(
  rows: JobRow[],
  spec: JobSpec,
  o: { sourceDir: string | null; python: string; env: Record<string, string>; concurrency?: number }
): Promise<PreparedJob> {
  const src = o.sourceDir
  const generated: Record<string, string> = {}
  if (spec.entry.kind === 'notebook' && src) generated[NOTEBOOK_SCRIPT] = readNotebookScript(src, spec.entry.path)
  return {
    folderId: folderIdOf(rows),
    name: spec.name,
    spec,
    sourceDir: src,
    files: src ? await sourceFiles(src) : [],
    generated,
    env: o.env,
    concurrency: o.concurrency,
    tasks: rows.map((r) => {
      const hp = JSON.parse(r.hyperparameters) as Record<string, string | number | boolean>
      const command = spec.resources?.torchrun ? torchrunCommand(spec, entryArgs(spec, hp).args) : entryCommand(spec, hp, o.python)
      return {
        jobId: r.id,
        hyperparameters: hp,
        command,
        env: {
          ...hpEnv(hp),
          ATELIER_JOB_ID: r.id,
          // `mlflow.start_run()` in the script continues THIS run
          ...(r.run_id && o.env.MLFLOW_TRACKING_URI ? { MLFLOW_RUN_ID: r.run_id, MLFLOW_EXPERIMENT_ID: r.experiment_id ?? '0' } : {})
        }
      }
    })
  }
}

/** Tags of a job's tracking run: backend, job id, target, entry, resources, git commit, sweep trial. */
export function runTags(
  spec: JobSpec,
  o: { id: string; target: string; commit: string | null; sweep: { id: string; trial: number } | null }
): { key: string; value: string }[] {
  const e = spec.entry
  const tags = [
    { key: 'atelier.job.backend', value: spec.target.kind },
    { key: 'atelier.job.id', value: o.id },
    { key: 'atelier.job.target', value: o.target },
    { key: 'mlflow.source.type', value: 'JOB' },
    { key: 'mlflow.source.name', value: e.kind === 'command' ? e.command.slice(0, 200) : e.kind === 'module' ? e.module : e.path },
    ...Object.entries(spec.resources ?? {}).map(([k, v]) => ({ key: `atelier.job.resources.${k}`, value: typeof v === 'object' ? JSON.stringify(v) : String(v) }))
  ]
  if (o.commit) tags.push({ key: 'mlflow.source.git.commit', value: o.commit })
  if (o.sweep) tags.push({ key: 'atelier.sweep.id', value: o.sweep.id }, { key: 'atelier.sweep.trial', value: String(o.sweep.trial) })
  return tags
}
