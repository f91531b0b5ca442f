-- Identity for `serve`: user accounts with a role, login sessions and personal API tokens. Only
-- hashes are stored: scrypt (per-user salt and parameters) for passwords, SHA-256 for session ids and
-- tokens, so a copy of this file lets nobody sign in.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'scientist', 'reviewer', 'admin')),
  -- scrypt output (hex), its salt (hex) and parameters as JSON {N, r, p, keylen}
  password_hash TEXT NOT NULL,
  password_salt TEXT NOT NULL,
  password_params TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

CREATE TABLE sessions (
  -- SHA-256 (hex) of the session cookie's value
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- the page sends it back as X-CSRF-Token on every cookie-authenticated POST
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  -- milliseconds since the epoch
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  -- NULL: issued by the app itself (the tracking token kernels and jobs get)
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  -- SHA-256 (hex) of the secret, which is shown once
  token_hash TEXT NOT NULL UNIQUE,
  -- 'full': the owner's role at every door; 'tracking': the MLflow REST routes only
  scope TEXT NOT NULL CHECK (scope IN ('full', 'tracking')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
