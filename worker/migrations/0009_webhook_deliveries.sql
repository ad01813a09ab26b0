-- Webhook events and their deliveries (issue 10). See worker/STORAGE.md.

-- One row per event, written in the same D1 batch as the change that caused it, so an
-- acknowledged change always has its event. `seq` orders events in commit order; each
-- endpoint reads the events after its `event_cursor`.
CREATE TABLE webhook_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT NOT NULL UNIQUE,   -- msg_ + 32 hex: the webhook-id of every delivery
  org_id     TEXT NOT NULL,
  type       TEXT NOT NULL,          -- keyward_core::webhook_events::EVENT_TYPES
  payload    TEXT NOT NULL,          -- {"type","timestamp","data"}: ids and key prefixes only
  created_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_org ON webhook_events (org_id, seq);
CREATE INDEX webhook_events_created ON webhook_events (created_at); -- the 30-day retention

-- The last event an endpoint has taken into its deliveries; a new endpoint starts at the
-- newest event, so it receives what happens after it was created.
ALTER TABLE webhook_endpoints ADD COLUMN event_cursor INTEGER NOT NULL DEFAULT 0;
-- When the current run of failures began (NULL after a success); a day of failures
-- disables the endpoint (disabled_reason 'failing').
ALTER TABLE webhook_endpoints ADD COLUMN failing_since INTEGER;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at INTEGER;

-- One event to one endpoint.
CREATE TABLE webhook_deliveries (
  endpoint_id     TEXT NOT NULL,
  msg_id          TEXT NOT NULL,
  event_seq       INTEGER NOT NULL,
  status          TEXT NOT NULL,       -- pending | delivered | failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  schedule_step   INTEGER NOT NULL DEFAULT 0, -- failures since the delivery was (re)queued
  next_attempt_at INTEGER,             -- pending only
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (endpoint_id, msg_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, status, next_attempt_at);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, event_seq);
CREATE INDEX webhook_deliveries_msg ON webhook_deliveries (msg_id); -- the 30-day retention

-- The log of every attempt.
CREATE TABLE webhook_attempts (
  endpoint_id     TEXT NOT NULL,
  msg_id          TEXT NOT NULL,
  attempt         INTEGER NOT NULL,    -- 1, 2, … per delivery
  at              INTEGER NOT NULL,
  status_code     INTEGER,             -- the receiver's answer, when there was one
  duration_ms     INTEGER NOT NULL,
  error           TEXT,                -- NULL on success, else an error class (see docs/webhooks.md)
  next_attempt_at INTEGER,             -- when the delivery is tried again, if it is
  PRIMARY KEY (endpoint_id, msg_id, attempt)
);
