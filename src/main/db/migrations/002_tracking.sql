-- Experiment tracking (MLflow-compatible). Runs have an integer key for compact child rows and
-- the 32-hex run_uuid that clients see. Deletion is soft (lifecycle_stage), so rows are restorable.

CREATE TABLE tracking_experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);

INSERT INTO tracking_experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active',
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

CREATE TABLE tracking_experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES tracking_experiments(experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE tracking_runs (
  id INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL REFERENCES tracking_experiments(experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
  start_time INTEGER,
  end_time INTEGER,
  source_type TEXT NOT NULL DEFAULT 'UNKNOWN',
  source_name TEXT NOT NULL DEFAULT '',
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  deleted_time INTEGER
);
CREATE INDEX tracking_runs_by_experiment ON tracking_runs (experiment_id, lifecycle_stage, start_time DESC);

CREATE TABLE tracking_run_tags (
  run_id INTEGER NOT NULL REFERENCES tracking_runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX tracking_run_tags_by_key ON tracking_run_tags (key, value);

CREATE TABLE tracking_params (
  run_id INTEGER NOT NULL REFERENCES tracking_runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX tracking_params_by_key ON tracking_params (key, value);

-- The time series. The primary key is the row (WITHOUT ROWID): a series is one contiguous range
-- (run, key) ordered by step, so history reads and step ranges are index range scans.
-- As in MLflow, a NaN is stored as value 0 with is_nan 1, and identical points are stored once.
CREATE TABLE tracking_metrics (
  run_id INTEGER NOT NULL REFERENCES tracking_runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;

-- A min/max summary of each series by step, kept on write, at four bucket widths (32, 256, 2048 and
-- 16384 steps: level 0–3). Charts of long series read these instead of every point (MinMax
-- preselection, then LTTB), so a 1M-point series is downsampled from a few thousand rows.
-- min_*/max_* are the extreme finite points of the bucket (NULL when it holds none); n counts all.
CREATE TABLE tracking_metric_buckets (
  run_id INTEGER NOT NULL REFERENCES tracking_runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  n INTEGER NOT NULL,
  min_step INTEGER,
  min_timestamp INTEGER,
  min_value REAL,
  max_step INTEGER,
  max_timestamp INTEGER,
  max_value REAL,
  PRIMARY KEY (run_id, key, level, bucket)
) WITHOUT ROWID;

-- The latest point of each series (max step, then timestamp, then value), kept on write, so that
-- listing and searching runs never touches the time series.
CREATE TABLE tracking_latest_metrics (
  run_id INTEGER NOT NULL REFERENCES tracking_runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX tracking_latest_metrics_by_key ON tracking_latest_metrics (key, value);

CREATE TABLE tracking_datasets (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES tracking_experiments(experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);

CREATE TABLE tracking_inputs (
  run_id INTEGER NOT NULL REFERENCES tracking_runs(id) ON DELETE CASCADE,
  dataset_id INTEGER NOT NULL REFERENCES tracking_datasets(id) ON DELETE CASCADE,
  tags TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, dataset_id)
) WITHOUT ROWID;
