-- Model registry, reviews and the audit trail. Names are case-sensitive as in MLflow. A version's
-- `revision` is bumped by every change to it, its card, tags, aliases or review state, so a writer
-- that read revision r can insist nothing changed since (optimistic concurrency).

CREATE TABLE registered_models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  created_by_id TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  -- version numbers are never reused, even after a version is deleted
  next_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX registered_models_by_updated ON registered_models (updated_at DESC, name);
CREATE INDEX registered_models_by_created ON registered_models (created_at DESC, name);

CREATE TABLE registered_model_tags (
  model_id INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
-- tag filters (`tags.team = 'risk'`) start from the tag and reach the model by its key
CREATE INDEX registered_model_tags_by_value ON registered_model_tags (key, value, model_id);

CREATE TABLE model_versions (
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  created_by_id TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  -- the tracking run's 32-hex id (NULL: registered over REST from a bare source)
  run_id TEXT,
  artifact_path TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'READY' CHECK (status IN ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')),
  approval_status TEXT NOT NULL DEFAULT 'None'
    CHECK (approval_status IN ('None', 'PendingManualApproval', 'Approved', 'Rejected')),
  revision INTEGER NOT NULL DEFAULT 0,
  risk_tier TEXT CHECK (risk_tier IN ('low', 'medium', 'high')),
  -- each review request opens a new round; approvals count within the current one
  review_round INTEGER NOT NULL DEFAULT 0,
  review_requested_at INTEGER,
  review_requested_by_id TEXT,
  review_requested_by_name TEXT,
  -- the last policy evaluation: worst state and the full result (JSON)
  policy_state TEXT CHECK (policy_state IN ('pass', 'warn', 'block', 'error')),
  policy_result TEXT,
  -- an alias a reviewer asked to move here once the approval completes (high risk: after the second)
  pending_alias TEXT,
  UNIQUE (model_id, version)
);
-- the review queue: pending versions, oldest request first
CREATE INDEX model_versions_by_approval ON model_versions (approval_status, review_requested_at);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE INDEX model_versions_by_updated ON model_versions (updated_at DESC);

CREATE TABLE model_version_tags (
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (version_id, key)
) WITHOUT ROWID;
CREATE INDEX model_version_tags_by_value ON model_version_tags (key, value, version_id);

-- An alias names one version of its model; deleting the version deletes its aliases (as in MLflow).
CREATE TABLE model_aliases (
  model_id INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  PRIMARY KEY (model_id, alias)
) WITHOUT ROWID;
CREATE INDEX model_aliases_by_version ON model_aliases (version_id);

-- The editable card (Markdown fields as JSON); the risk tier lives on model_versions (it routes reviews).
CREATE TABLE model_cards (
  version_id INTEGER PRIMARY KEY REFERENCES model_versions(id) ON DELETE CASCADE,
  fields TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by_id TEXT NOT NULL,
  updated_by_name TEXT NOT NULL
);

-- Frozen at each approval: the canonical JSON of the card and its sha256.
CREATE TABLE model_card_snapshots (
  id INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  published_at INTEGER NOT NULL,
  content TEXT NOT NULL,
  content_hash TEXT NOT NULL
);
CREATE INDEX model_card_snapshots_by_version ON model_card_snapshots (version_id, id DESC);

CREATE TABLE model_reviews (
  id INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  round INTEGER NOT NULL,
  reviewer_id TEXT NOT NULL,
  reviewer_name TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('requested', 'approved', 'rejected', 'approved-by-policy')),
  comment TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX model_reviews_by_version ON model_reviews (version_id, round, id);

-- The items every review shows (configurable), and who ticked which for a version.
CREATE TABLE review_checklist_items (
  id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  position INTEGER NOT NULL
);
INSERT INTO review_checklist_items (id, label, position) VALUES
  ('intended-use', 'Intended use and out-of-scope uses are documented', 0),
  ('evaluation-data', 'Evaluation data is representative of production data', 1),
  ('bias', 'Bias and fairness were assessed', 2),
  ('limitations', 'Limitations and failure modes are documented', 3);

CREATE TABLE review_checklist_ticks (
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  item_id TEXT NOT NULL,
  checked_by_id TEXT NOT NULL,
  checked_by_name TEXT NOT NULL,
  checked_at INTEGER NOT NULL,
  PRIMARY KEY (version_id, item_id)
) WITHOUT ROWID;

-- Append-only and hash-chained: hash = sha256(prev_hash || canonical JSON of the row's fields).
-- `before`/`after` hold canonical JSON (or NULL). The triggers refuse edits through the app's own
-- connection; an edit made around them is what verification finds.
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity TEXT NOT NULL,
  before TEXT,
  after TEXT,
  comment TEXT NOT NULL DEFAULT '',
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_by_entity ON audit_events (entity_type, entity, seq);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
