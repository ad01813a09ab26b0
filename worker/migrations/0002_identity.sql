-- Identity (issue 4): sessions, signing keys, email verification, the outbox, and the
-- columns passwords and certificates need. See worker/STORAGE.md.

-- Personal orgs are made by self-registration; they do not count as "the first org"
-- that POST /admin/bootstrap creates once.
ALTER TABLE orgs ADD COLUMN personal INTEGER NOT NULL DEFAULT 0;

ALTER TABLE entities ADD COLUMN email_verified_at INTEGER;
ALTER TABLE entities ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Certificates: SHA-256 of the DER (hex), found by the fingerprint mTLS reports.
ALTER TABLE credentials ADD COLUMN cert_fingerprint TEXT;
ALTER TABLE credentials ADD COLUMN cert_subject TEXT;
ALTER TABLE credentials ADD COLUMN cert_not_before INTEGER;
ALTER TABLE credentials ADD COLUMN cert_not_after INTEGER;
-- One live certificate credential per fingerprint, one live password per entity.
CREATE UNIQUE INDEX credentials_cert_live ON credentials(cert_fingerprint)
  WHERE kind = 'certificate' AND revoked_at IS NULL;
CREATE UNIQUE INDEX credentials_password_live ON credentials(entity_id)
  WHERE kind = 'password' AND revoked_at IS NULL;

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,           -- 32 hex; the JWT's `sid`
  org_id        TEXT NOT NULL REFERENCES orgs(id),
  entity_id     TEXT NOT NULL REFERENCES entities(id),
  credential_id TEXT NOT NULL REFERENCES credentials(id),
  kid           TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE INDEX sessions_entity ON sessions(entity_id, created_at);

-- Session-JWT signing keys. Only public halves are stored: the private key of `kid` is
-- derived from the SIGNING_SECRET Worker secret (keyward_core::jwt::SigningKey::derive).
CREATE TABLE signing_keys (
  kid        TEXT PRIMARY KEY,
  alg        TEXT NOT NULL CHECK (alg = 'EdDSA'),
  x          TEXT NOT NULL,                 -- base64url public key (JWK "x")
  created_at INTEGER NOT NULL,
  retired_at INTEGER                        -- no longer signs; published until its tokens expire
);

CREATE TABLE email_verifications (
  token_hash TEXT PRIMARY KEY,              -- keyed hash of the {p}v_ token
  entity_id  TEXT NOT NULL REFERENCES entities(id),
  email      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER                        -- set on use, and on every older token by a resend
);
CREATE INDEX email_verifications_entity ON email_verifications(entity_id, used_at);

-- The `outbox` mail transport (local default): messages kept for GET /dev/outbox.
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  to_addr    TEXT NOT NULL,
  subject    TEXT NOT NULL,
  body       TEXT NOT NULL
);
