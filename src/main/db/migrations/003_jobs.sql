-- Training jobs (issue 5). A job row is written (state queued) before anything is submitted, and
-- its remote id (Slurm job id, pid@host) is stored before the submit call returns, so an app that
-- restarts re-attaches to every unfinished job. Secrets (SSH passphrases) are never stored here.

CREATE TABLE job_targets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('ssh', 'slurm')),
  -- SSH connection without secrets: {host, port, username, privateKeyPath?, useAgent?}
  ssh TEXT,
  work_root TEXT,
  partition TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE job_sweeps (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  strategy TEXT NOT NULL CHECK (strategy IN ('grid', 'random')),
  state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'finished', 'stopped')),
  spec TEXT NOT NULL,
  config TEXT NOT NULL,
  -- the hyperparameters of every trial, in order (JSON array)
  trials TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  backend TEXT NOT NULL,
  target_id TEXT REFERENCES job_targets(id) ON DELETE SET NULL,
  target_name TEXT NOT NULL,
  spec TEXT NOT NULL,
  hyperparameters TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled', 'lost')),
  remote_id TEXT,
  exit_code INTEGER,
  reason TEXT,
  submitted_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  run_id TEXT,
  experiment_id TEXT,
  sweep_id TEXT REFERENCES job_sweeps(id) ON DELETE CASCADE,
  trial_index INTEGER,
  -- where the job's files are on the target, the generated script, and the log file there
  work_dir TEXT,
  script TEXT,
  log_path TEXT,
  -- backend-specific facts needed to re-attach (assigned GPUs, …), JSON
  extra TEXT NOT NULL DEFAULT '{}',
  -- how far the log has been read: bytes and complete lines; occurrences of each regex metric
  log_bytes INTEGER NOT NULL DEFAULT 0,
  log_lines INTEGER NOT NULL DEFAULT 0,
  metric_steps TEXT NOT NULL DEFAULT '{}',
  -- set once the log has been read to its end after the job ended
  log_complete INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state);
CREATE INDEX jobs_by_sweep ON jobs (sweep_id, trial_index);
CREATE INDEX jobs_by_submitted ON jobs (submitted_at DESC);
