-- Namespaces (issue 11): named key-value spaces of an org. Their values live in KV under
-- `{org_id}/{id}/{key}` (keyward_core::namespace); this table says which exist. See
-- worker/STORAGE.md.

CREATE TABLE namespaces (
  id         TEXT PRIMARY KEY,   -- nsp_ + 32 hex, random per creation: the KV prefix
  org_id     TEXT NOT NULL,
  name       TEXT NOT NULL,      -- [a-z0-9][a-z0-9._-]{0,62}
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,      -- the entity that created it
  UNIQUE (org_id, name)
);
