//! Webhook events (issue 10): what happened, recorded in the same D1 batch as the change
//! that caused it, so that no acknowledged change can lose its event.
//!
//! A change made by one guarded statement (a compare-and-swap, a `WHERE revoked_at IS
//! NULL`) goes through [`run_with`]: the event's insert follows the change in one batch
//! (one transaction) and is guarded by `changes()`, SQLite's count of the rows the
//! previous statement changed, so a change that did nothing records nothing. A change
//! made by a batch of its own adds [`insert`] to that batch.
//!
//! After the answer, `objects::webhook_outbox::announce` wakes the outboxes of the org's
//! endpoints, which read the new events from here.

use keyward_core::time::UnixTime;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::ids::{self, now_secs};

/// One event, before it is stored.
pub struct Event {
    pub org_id: String,
    /// One of `keyward_core::webhook_events::EVENT_TYPES`.
    pub kind: &'static str,
    /// Ids and key prefixes only, never a secret.
    pub data: Value,
}

impl Event {
    pub fn new(org_id: &str, kind: &'static str, data: Value) -> Self {
        debug_assert!(keyward_core::webhook_events::EVENT_TYPES.contains(&kind));
        Self {
            org_id: org_id.to_owned(),
            kind,
            data,
        }
    }

    /// The body every delivery of the event carries: `{type, timestamp, data}`, in
    /// that order.
    fn payload(&self, at: u64) -> String {
        #[derive(Serialize)]
        struct Envelope<'a> {
            r#type: &'a str,
            timestamp: String,
            data: &'a Value,
        }
        let envelope = Envelope {
            r#type: self.kind,
            timestamp: UnixTime(at).to_rfc3339(),
            data: &self.data,
        };
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

const INSERT: &str =
    "INSERT INTO webhook_events (id, org_id, type, payload, created_at) SELECT ?1, ?2, ?3, ?4, ?5";

fn bind(statement: D1PreparedStatement, event: &Event) -> worker::Result<D1PreparedStatement> {
    let at = now_secs();
    statement.bind(&[
        ids::webhook_message_id().into(),
        event.org_id.as_str().into(),
        event.kind.into(),
        event.payload(at).into(),
        JsValue::from_f64(at as f64),
    ])
}

/// The insert of `event`, for a batch whose statements all take effect together.
pub fn insert(db: &D1Database, event: &Event) -> worker::Result<D1PreparedStatement> {
    bind(db.prepare(INSERT), event)
}

/// The insert of `event` if the statement just before it in its batch changed a row.
pub fn insert_if_changed(db: &D1Database, event: &Event) -> worker::Result<D1PreparedStatement> {
    bind(db.prepare(format!("{INSERT} WHERE changes() > 0")), event)
}

/// Runs `change` and, in the same transaction, records `event` if `change` changed at
/// least one row. Returns the number of rows `change` changed.
pub async fn run_with(
    db: &D1Database,
    change: D1PreparedStatement,
    event: &Event,
) -> worker::Result<u64> {
    let results = db
        .batch(vec![change, insert_if_changed(db, event)?])
        .await?;
    Ok(results.first().map_or(0, crate::store::d1::changed))
}
