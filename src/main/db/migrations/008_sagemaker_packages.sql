-- Model packages a registered version was pushed as, in SageMaker Model Registry: where (target,
-- group, ARN) and the approval status last seen there (SageMaker holds the truth; the version page
-- refreshes it and a decision taken in the Reviews room writes it here).
CREATE TABLE sagemaker_model_packages (
  package_arn TEXT PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  target_id TEXT NOT NULL,
  group_name TEXT NOT NULL,
  model_data_url TEXT NOT NULL,
  approval_status TEXT NOT NULL,
  approval_description TEXT,
  pushed_by TEXT NOT NULL,
  pushed_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX sagemaker_model_packages_by_version ON sagemaker_model_packages (version_id, pushed_at);
