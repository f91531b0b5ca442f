-- Cloud job targets (SageMaker, Kubernetes). They live in their own table: widening the CHECK on
-- job_targets.kind would mean rebuilding that table, and inside the migration's transaction
-- foreign keys stay on, so dropping the old table would null every jobs.target_id (ON DELETE SET NULL).
-- A cloud target's settings are JSON without secrets (AWS keys, if entered, are in the secret store).
CREATE TABLE job_cloud_targets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('sagemaker', 'kubernetes')),
  -- sagemaker: {region, roleArn, bucket, prefix?, profile?, endpoint?, s3Endpoint?}
  -- kubernetes: {kubeconfigPath?, context?, namespace?}
  config TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- A job on a cloud target names it here (jobs.target_id references job_targets only).
ALTER TABLE jobs ADD COLUMN cloud_target_id TEXT REFERENCES job_cloud_targets(id) ON DELETE SET NULL;
-- A sweep that runs as one provider-side search (a SageMaker hyperparameter tuning job): its name there.
ALTER TABLE job_sweeps ADD COLUMN remote_id TEXT;
