-- Metrics from jobs that cannot reach the tracking server. A target says whether its jobs log to the
-- tracking server ('direct') or to MLflow's file store in the job folder, which the app ingests ('file').
ALTER TABLE job_targets ADD COLUMN tracking TEXT NOT NULL DEFAULT 'direct' CHECK (tracking IN ('direct', 'file'));
-- How far the job's file store has been ingested (JSON: bytes read of each metrics file, sizes of params/tags files).
ALTER TABLE jobs ADD COLUMN tracking_files TEXT NOT NULL DEFAULT '{}';
