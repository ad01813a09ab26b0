-- OAuth clients (issue 9): public clients registered dynamically (RFC 7591). See
-- worker/STORAGE.md.

CREATE TABLE oauth_clients (
  id             TEXT PRIMARY KEY,          -- client_id: cli_ + 32 hex
  name           TEXT,                      -- client_name, shown escaped on the consent page
  redirect_uris  TEXT NOT NULL,             -- JSON array, checked by keyward_core::oauth::redirect
  scope          TEXT NOT NULL,             -- space-separated, within OAUTH_SCOPE
  refresh_tokens INTEGER NOT NULL,          -- 1: the client asked for the refresh_token grant
  created_at     INTEGER NOT NULL
);
