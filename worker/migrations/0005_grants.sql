-- OAuth grants (issue 9): the record of one person's authorization of one client in
-- one org. The grant's live state (its code, token hashes, rotations, rate window) is
-- held by its Durable Object (`GrantGate`); this row is the record for listing, audit
-- and the object's reload. See worker/STORAGE.md.

CREATE TABLE grants (
  id          TEXT PRIMARY KEY,             -- 32 hex: the grant id every code and token carries
  client_id   TEXT NOT NULL REFERENCES oauth_clients(id),
  org_id      TEXT NOT NULL REFERENCES orgs(id),
  entity_id   TEXT NOT NULL REFERENCES entities(id),  -- the person's membership in org_id
  account_id  TEXT NOT NULL REFERENCES accounts(id),
  scope       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  last_used_at INTEGER,
  ended_at    INTEGER,                      -- revoked, or ended by code replay or refresh reuse
  ending      TEXT CHECK (ending IN ('revoked', 'code_replay', 'refresh_reuse'))
);
CREATE INDEX grants_entity ON grants(entity_id, created_at, id);
CREATE INDEX grants_account ON grants(account_id, created_at, id);
