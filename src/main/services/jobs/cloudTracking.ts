/**
 * How a cloud job (SageMaker, Kubernetes) reaches tracking. The app's own tracking door and its
 * loopback relay are never reachable from a cloud container, so a cloud target names a tracking
 * server its jobs can reach (`trackingUri`, token in the secret store); without one, SageMaker jobs
 * write MLflow's file store under /opt/ml/output/data (which SageMaker uploads as output.tar.gz when
 * the job ends) and the app reads it into the job's run then, while Kubernetes jobs report only what
 * the metric regexes find in their logs.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SAGEMAKER_MLRUNS } from '../../../shared/jobs'

export { cloudTrackingPlan, SAGEMAKER_MLRUNS } from '../../../shared/jobs'

/** The secret-store key of a cloud target's tracking token. */
export const trackingTokenSecret = (targetId: string) => `jobs.target.${targetId}.trackingToken`

/** The tracking part of a cloud job's environment (MLFLOW_RUN_ID is added per task). */
export function cloudTrackingEnv(kind: 'sagemaker' | 'kubernetes', trackingUri: string | null | undefined, token: string | undefined): Record<string, string> {
  if (trackingUri) return { MLFLOW_TRACKING_URI: trackingUri, ...(token ? { MLFLOW_TRACKING_TOKEN: token } : {}) }
  return kind === 'sagemaker' ? { MLFLOW_TRACKING_URI: `file:${SAGEMAKER_MLRUNS}` } : {}
}

/** A cloud target's settings (the config JSON) without the tracking URI, and the URI. */
export function splitCloudConfig(config: string | null | undefined): { settings: Record<string, unknown>; trackingUri: string | null } {
  const { trackingUri, ...settings } = JSON.parse(config ?? '{}') as Record<string, unknown>
  return { settings, trackingUri: typeof trackingUri === 'string' && trackingUri ? trackingUri : null }
}

/** The folder SageMaker uploads as output.tar.gz. */
export const SAGEMAKER_OUTPUT_DATA = '/opt/ml/output/data'

/** Unpacks a .tar.gz into `dir` (made whole or not at all: unpacked beside it, then renamed). */
export async function unpackTarball(tarball: Buffer, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    writeFileSync(join(tmp, '.tarball'), tarball)
    // GNU tar drops leading '/' and refuses members with '..'
    await new Promise<void>((resolve, reject) =>
      execFile('tar', ['-xzf', '.tarball', '--no-same-owner', '--no-same-permissions'], { cwd: tmp }, (err, _o, stderr) => (err ? reject(new Error(`cannot unpack the job's output: ${stderr || err.message}`)) : resolve()))
    )
    rmSync(join(tmp, '.tarball'))
    renameSync(tmp, dir)
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    throw err
  }
}
