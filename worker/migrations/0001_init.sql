-- Keyward's record of truth. See worker/STORAGE.md for what each column holds and why.
-- Times are Unix seconds (INTEGER); ids are random hex (see STORAGE.md).

CREATE TABLE orgs (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE entities (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES orgs(id),
  kind       TEXT NOT NULL CHECK (kind IN ('human', 'service', 'device')),
  name       TEXT NOT NULL,
  email      TEXT,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  status     TEXT NOT NULL DEFAULT 'active'
             CHECK (status IN ('active', 'inactive', 'suspended', 'deleted')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX entities_email ON entities(email) WHERE email IS NOT NULL;
CREATE INDEX entities_org ON entities(org_id, created_at, id);

CREATE TABLE credentials (
  id             TEXT PRIMARY KEY,          -- 32 hex; embedded in id_secret keys
  org_id         TEXT NOT NULL REFERENCES orgs(id),
  entity_id      TEXT NOT NULL REFERENCES entities(id),
  kind           TEXT NOT NULL CHECK (kind IN ('password', 'api_key', 'certificate')),
  name           TEXT NOT NULL DEFAULT '',
  scheme         TEXT CHECK (scheme IN ('lookup', 'id_secret')),
  key_prefix     TEXT,                      -- first 12 characters: the only part shown
  lookup_hash    TEXT UNIQUE,               -- hex PBKDF2 of a lookup key
  secret_phc     TEXT,                      -- argon2id PHC string (id_secret keys, passwords)
  rate_limit_rpm INTEGER,
  namespaces     TEXT NOT NULL DEFAULT '[]',
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER,
  revoked_at     INTEGER,
  last_used_at   INTEGER,
  version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX credentials_entity ON credentials(entity_id, kind, created_at, id);

CREATE TABLE audit_events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  at            INTEGER NOT NULL,
  org_id        TEXT,                       -- NULL when no org could be attributed
  event         TEXT NOT NULL,              -- auth.failed, key.minted, key.revoked, ...
  reason        TEXT,                       -- the precise failure reason, for forensics
  actor_id      TEXT,
  credential_id TEXT,
  key_prefix    TEXT,
  request_id    TEXT NOT NULL,
  detail        TEXT
);
CREATE INDEX audit_org ON audit_events(org_id, id);
CREATE INDEX audit_event ON audit_events(event, id);
