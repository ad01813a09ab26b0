//! The audit log (SPEC §7): an append-only D1 table of ids, key prefixes and reasons,
//! never secrets. Writes go through `ctx.wait_until` so a slow log never slows an answer.

use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use crate::ids::now_secs;

/// One entry. `key_prefix` is at most 12 characters by construction (`key_prefix()`).
#[derive(Debug, Default, Serialize)]
pub struct AuditEvent {
    pub org_id: Option<String>,
    pub event: &'static str,
    pub reason: Option<String>,
    pub actor_id: Option<String>,
    pub credential_id: Option<String>,
    pub key_prefix: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// Appends `event`; failures are logged, never surfaced to the caller.
pub async fn record(db: D1Database, request_id: String, event: AuditEvent) {
    let text = |v: Option<String>| v.map_or(JsValue::NULL, |s| JsValue::from_str(&s));
    let statement = db
        .prepare(
            "INSERT INTO audit_events (at, org_id, event, reason, actor_id, credential_id, key_prefix, request_id, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(&[
            JsValue::from_f64(now_secs() as f64),
            text(event.org_id),
            JsValue::from_str(event.event),
            text(event.reason),
            text(event.actor_id),
            text(event.credential_id),
            text(event.key_prefix),
            JsValue::from_str(&request_id),
            text(event.detail.map(|d| d.to_string())),
        ]);
    let outcome = match statement {
        Ok(statement) => statement.run().await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(error) = outcome {
        worker::console_error!("audit write failed: {error}");
    }
}
