//! D1 queries of webhook endpoints (issue 10).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// An endpoint of an org.
#[derive(Clone, Debug, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub description: String,
    /// JSON array.
    pub event_types: String,
    pub enabled: u8,
    pub disabled_reason: Option<String>,
    /// When the current run of failed deliveries began.
    pub failing_since: Option<u64>,
    pub disabled_at: Option<u64>,
    pub created_at: u64,
    pub updated_at: u64,
    pub version: u64,
}

/// An org has at most this many endpoints.
pub const MAX_PER_ORG: u32 = 50;

const SELECT: &str = "SELECT id, org_id, url, description, event_types, enabled, disabled_reason, \
     failing_since, disabled_at, created_at, updated_at, version FROM webhook_endpoints ";

/// Creates the endpoint unless the org is at its limit; false when nothing was written.
/// Its cursor starts at the newest event: it receives what happens from now on.
pub async fn insert(db: &D1Database, e: &EndpointRow) -> worker::Result<bool> {
    let result = db
        .prepare(
            "INSERT INTO webhook_endpoints (id, org_id, url, description, event_types, enabled, created_at, updated_at, event_cursor) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, (SELECT COALESCE(MAX(seq), 0) FROM webhook_events) \
             WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = ?2) < ?8",
        )
        .bind(&[
            e.id.as_str().into(),
            e.org_id.as_str().into(),
            e.url.as_str().into(),
            e.description.as_str().into(),
            e.event_types.as_str().into(),
            JsValue::from_f64(f64::from(e.enabled)),
            JsValue::from_f64(e.created_at as f64),
            JsValue::from_f64(f64::from(MAX_PER_ORG)),
        ])?
        .run()
        .await?;
    Ok(crate::store::d1::changed(&result) == 1)
}

/// The endpoint `id` of `org_id`.
pub async fn get(db: &D1Database, org_id: &str, id: &str) -> worker::Result<Option<EndpointRow>> {
    db.prepare(format!("{SELECT}WHERE org_id = ?1 AND id = ?2"))
        .bind(&[org_id.into(), id.into()])?
        .first::<EndpointRow>(None)
        .await
}

/// A page of the org's endpoints, oldest first, after the keyset `after`.
pub async fn page_of(
    db: &D1Database,
    org_id: &str,
    after: Option<(u64, String)>,
    limit: u32,
) -> worker::Result<Vec<EndpointRow>> {
    let [created, id] = crate::store::d1::keyset(after);
    db.prepare(format!(
        "{SELECT}WHERE org_id = ?1 AND (created_at, id) > (?2, ?3) ORDER BY created_at, id LIMIT ?4"
    ))
    .bind(&[
        org_id.into(),
        created,
        id,
        JsValue::from_f64(f64::from(limit)),
    ])?
    .all()
    .await?
    .results::<EndpointRow>()
}

/// Writes `e`'s fields if the row is still at `e.version` (compare-and-swap). Enabling
/// a disabled endpoint clears its failures and moves its cursor to the newest event
/// (what happened while it was disabled is not sent; redeliver sends it); disabling
/// one by hand records when.
pub fn update(db: &D1Database, e: &EndpointRow, now: u64) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE webhook_endpoints SET url = ?1, description = ?2, event_types = ?3, enabled = ?4, \
         disabled_reason = CASE WHEN ?4 = 1 THEN NULL ELSE disabled_reason END, \
         disabled_at = CASE WHEN ?4 = 1 THEN NULL WHEN enabled = 1 THEN ?5 ELSE disabled_at END, \
         failing_since = CASE WHEN ?4 = 1 AND enabled = 0 THEN NULL ELSE failing_since END, \
         event_cursor = CASE WHEN ?4 = 1 AND enabled = 0 THEN (SELECT COALESCE(MAX(seq), 0) FROM webhook_events) ELSE event_cursor END, \
         updated_at = ?5, version = version + 1 \
         WHERE org_id = ?6 AND id = ?7 AND version = ?8",
    )
    .bind(&[
        e.url.as_str().into(),
        e.description.as_str().into(),
        e.event_types.as_str().into(),
        JsValue::from_f64(f64::from(e.enabled)),
        JsValue::from_f64(now as f64),
        e.org_id.as_str().into(),
        e.id.as_str().into(),
        JsValue::from_f64(e.version as f64),
    ])
}

/// Deletes the endpoint with its deliveries and their log (one transaction); false if
/// it was already gone. Its outbox finds no endpoint on its next run and clears itself.
pub async fn delete(db: &D1Database, org_id: &str, id: &str) -> worker::Result<bool> {
    let owned = "(SELECT id FROM webhook_endpoints WHERE org_id = ?1 AND id = ?2)";
    let results = db
        .batch(vec![
            db.prepare(format!(
                "DELETE FROM webhook_attempts WHERE endpoint_id IN {owned}"
            ))
            .bind(&[org_id.into(), id.into()])?,
            db.prepare(format!(
                "DELETE FROM webhook_deliveries WHERE endpoint_id IN {owned}"
            ))
            .bind(&[org_id.into(), id.into()])?,
            db.prepare("DELETE FROM webhook_endpoints WHERE org_id = ?1 AND id = ?2")
                .bind(&[org_id.into(), id.into()])?,
        ])
        .await?;
    Ok(results.last().map_or(0, crate::store::d1::changed) == 1)
}
