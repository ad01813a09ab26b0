-- People in several orgs (issue 8): a person is one account (email, password,
-- verification); a human entity is that account's membership in one org. Invitations
-- and password resets are new. See worker/STORAGE.md.
--
-- Existing data: every human entity with an email becomes an account (its id is the
-- entity's hex with `acc_`) with that entity as its one membership; its password, its
-- verification tokens and its sessions move to the account. Services and devices have
-- no account: a password they held under the previous schema is dropped with their
-- sessions (SPEC §2: only people sign in with a password).

CREATE TABLE accounts (
  id                TEXT PRIMARY KEY,       -- acc_ + 32 hex
  email             TEXT NOT NULL UNIQUE,   -- normalised: the login identifier
  email_verified_at INTEGER,
  status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  last_org_id       TEXT REFERENCES orgs(id), -- where a login without org_id opens
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  version           INTEGER NOT NULL DEFAULT 1
);

INSERT INTO accounts (id, email, email_verified_at, status, last_org_id, created_at, updated_at)
  SELECT 'acc_' || substr(id, 5), email, email_verified_at, 'active', org_id, created_at, updated_at
  FROM entities WHERE kind = 'human' AND email IS NOT NULL;

ALTER TABLE entities ADD COLUMN account_id TEXT REFERENCES accounts(id);
UPDATE entities SET account_id = 'acc_' || substr(id, 5) WHERE kind = 'human' AND email IS NOT NULL;
-- One live membership per account and org; a removed (deleted) one does not block a
-- later return.
CREATE UNIQUE INDEX entities_membership ON entities(account_id, org_id)
  WHERE account_id IS NOT NULL AND status != 'deleted';
CREATE INDEX entities_owners ON entities(org_id, role, status);

-- The email and its verification now live on the account alone.
DROP INDEX entities_email;
ALTER TABLE entities DROP COLUMN email;
ALTER TABLE entities DROP COLUMN email_verified_at;

-- Passwords belong to the account: one live password each.
CREATE TABLE passwords (
  id         TEXT PRIMARY KEY,              -- 32 hex; sessions and the audit log name it
  account_id TEXT NOT NULL REFERENCES accounts(id),
  secret_phc TEXT NOT NULL,                 -- argon2id PHC string of the NFKC form
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX passwords_live ON passwords(account_id) WHERE revoked_at IS NULL;
CREATE INDEX passwords_account ON passwords(account_id, created_at);

INSERT INTO passwords (id, account_id, secret_phc, created_at, revoked_at)
  SELECT c.id, e.account_id, c.secret_phc, c.created_at, c.revoked_at
  FROM credentials c JOIN entities e ON e.id = c.entity_id
  WHERE c.kind = 'password' AND e.account_id IS NOT NULL AND c.secret_phc IS NOT NULL;

-- Sessions name their account (for "end every other session") and no longer point
-- into `credentials`: the table is rebuilt (nothing references it).
CREATE TABLE sessions_v3 (
  id          TEXT PRIMARY KEY,             -- 32 hex; the JWT's `sid`
  org_id      TEXT NOT NULL REFERENCES orgs(id),
  entity_id   TEXT NOT NULL REFERENCES entities(id),
  account_id  TEXT NOT NULL REFERENCES accounts(id),
  password_id TEXT NOT NULL REFERENCES passwords(id),
  kid         TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);
INSERT INTO sessions_v3 (id, org_id, entity_id, account_id, password_id, kid, created_at, expires_at, revoked_at)
  SELECT s.id, s.org_id, s.entity_id, e.account_id, s.credential_id, s.kid, s.created_at, s.expires_at, s.revoked_at
  FROM sessions s JOIN entities e ON e.id = s.entity_id
  WHERE e.account_id IS NOT NULL AND s.credential_id IN (SELECT id FROM passwords);
DROP TABLE sessions;
ALTER TABLE sessions_v3 RENAME TO sessions;
CREATE INDEX sessions_entity ON sessions(entity_id, created_at);
CREATE INDEX sessions_account ON sessions(account_id, revoked_at);

DELETE FROM credentials WHERE kind = 'password';
DROP INDEX credentials_password_live;

-- Verification tokens belong to the account (rebuilt: nothing references the table).
CREATE TABLE email_verifications_v3 (
  token_hash TEXT PRIMARY KEY,              -- keyed hash of the {p}v_ token
  account_id TEXT NOT NULL REFERENCES accounts(id),
  email      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
INSERT INTO email_verifications_v3 (token_hash, account_id, email, created_at, expires_at, used_at)
  SELECT v.token_hash, e.account_id, v.email, v.created_at, v.expires_at, v.used_at
  FROM email_verifications v JOIN entities e ON e.id = v.entity_id
  WHERE e.account_id IS NOT NULL;
DROP TABLE email_verifications;
ALTER TABLE email_verifications_v3 RENAME TO email_verifications;
CREATE INDEX email_verifications_account ON email_verifications(account_id, used_at);

-- Password reset links ({p}r_, 1 hour, single use; a newer link retires older ones).
CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,              -- keyed hash of the {p}r_ token
  account_id TEXT NOT NULL REFERENCES accounts(id),
  email      TEXT NOT NULL,                 -- the address the link was sent to
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER                        -- set on use, and on every older link
);
CREATE INDEX password_resets_account ON password_resets(account_id, used_at);

-- Invitations to join an org ({p}i_, 7 days, single use). A second invitation for
-- the same org and email withdraws the first.
CREATE TABLE invitations (
  id           TEXT PRIMARY KEY,            -- inv_ + 32 hex
  org_id       TEXT NOT NULL REFERENCES orgs(id),
  email        TEXT NOT NULL,               -- normalised
  name         TEXT NOT NULL,               -- the membership's name once accepted
  role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  token_hash   TEXT NOT NULL UNIQUE,        -- keyed hash of the {p}i_ token
  invited_by   TEXT NOT NULL,               -- entity id of the owner or admin
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  accepted_at  INTEGER,
  withdrawn_at INTEGER,                     -- withdrawn, or replaced by a newer one
  entity_id    TEXT                         -- the membership it created
);
CREATE UNIQUE INDEX invitations_pending ON invitations(org_id, email)
  WHERE accepted_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX invitations_org ON invitations(org_id, created_at, id);
