-- Webhook endpoints (issue 10): where an org's events are delivered. See worker/STORAGE.md.

CREATE TABLE webhook_endpoints (
  id              TEXT PRIMARY KEY,          -- whk_ + 32 hex
  org_id          TEXT NOT NULL,
  url             TEXT NOT NULL,             -- checked by keyward_core::webhook_url
  description     TEXT NOT NULL DEFAULT '',
  event_types     TEXT NOT NULL,             -- JSON array: ["*"] or event names
  enabled         INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,                      -- why it was disabled, when it was not by hand
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  version         INTEGER NOT NULL DEFAULT 1 -- compare-and-swap for PATCH
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id);
