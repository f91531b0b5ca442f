/** MLflow's wire entities (protos/service.proto), as its REST server writes them in JSON. */

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED'
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']
export type LifecycleStage = 'active' | 'deleted'
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'

export interface MlflowKeyValue {
  key: string
  value: string
}

export interface MlflowMetric {
  key: string
  /** A number, or "NaN" / "Infinity" / "-Infinity". */
  value: number | string
  /** int64: a BigInt beyond ±(2^53−1) (written to JSON with every digit). */
  timestamp: number | bigint
  step: number | bigint
}

export interface MlflowExperiment {
  experiment_id: string
  name: string
  artifact_location: string
  lifecycle_stage: LifecycleStage
  last_update_time: number
  creation_time: number
  tags: MlflowKeyValue[]
}

export interface MlflowRunInfo {
  run_id: string
  run_uuid: string
  run_name: string
  experiment_id: string
  user_id: string
  status: RunStatus
  start_time?: number
  end_time?: number
  artifact_uri: string
  lifecycle_stage: LifecycleStage
}

export interface MlflowDataset {
  name: string
  digest: string
  source_type: string
  source: string
  schema?: string
  profile?: string
}

export interface MlflowDatasetInput {
  tags: MlflowKeyValue[]
  dataset: MlflowDataset
}

export interface MlflowRun {
  info: MlflowRunInfo
  data: { metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] }
  inputs: { dataset_inputs: MlflowDatasetInput[] }
}

/** A row of tracking_runs. */
export interface RunRow {
  id: number
  run_uuid: string
  experiment_id: number
  name: string
  user_id: string
  status: RunStatus
  start_time: number | null
  end_time: number | null
  source_type: string
  source_name: string
  artifact_uri: string
  lifecycle_stage: LifecycleStage
  deleted_time: number | null
}

export interface ExperimentRow {
  experiment_id: number
  name: string
  artifact_location: string
  lifecycle_stage: LifecycleStage
  creation_time: number
  last_update_time: number
}

export const RUN_NAME_TAG = 'mlflow.runName'
export const DEFAULT_EXPERIMENT_ID = '0'
