//! `GET /v1/audit`: the org's audit log for owners and admins, newest first,
//! filterable by `event` and `key` (a key id or a key prefix), cursor-paginated.

use serde::Deserialize;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use worker::Request;

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::principal::Principal;
use crate::routes::{Cx, page_limit, query};

#[derive(Deserialize)]
struct Row {
    id: u64,
    at: u64,
    event: String,
    reason: Option<String>,
    actor_id: Option<String>,
    credential_id: Option<String>,
    key_prefix: Option<String>,
    request_id: String,
    detail: Option<String>,
}

pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    if !p.is_admin() {
        return Err(ApiError::forbidden(
            "permission denied: the audit log is for org owners and admins",
        ));
    }
    let limit = page_limit(req)?;
    let before = match query(req, "cursor") {
        Some(c) => c
            .parse::<u64>()
            .map_err(|_| ApiError::invalid("invalid cursor"))?,
        None => u64::MAX >> 11, // above any row id, exactly representable as a JS number
    };
    let event = query(req, "event").unwrap_or_default();
    let key = query(req, "key").unwrap_or_default();
    if event.len() > 64 || key.len() > 64 {
        return Err(ApiError::invalid(
            "event and key filters are at most 64 characters",
        ));
    }
    let rows = cx
        .env
        .d1("DB")?
        .prepare(
            "SELECT id, at, event, reason, actor_id, credential_id, key_prefix, request_id, detail FROM audit_events \
             WHERE org_id = ?1 AND id < ?2 AND (?3 = '' OR event = ?3) AND (?4 = '' OR credential_id = ?4 OR key_prefix = ?4) \
             ORDER BY id DESC LIMIT ?5",
        )
        .bind(&[
            p.org_id.as_str().into(),
            JsValue::from_f64(before as f64),
            event.as_str().into(),
            key.as_str().into(),
            JsValue::from_f64(f64::from(limit + 1)),
        ])?
        .all()
        .await?
        .results::<Row>()?;
    let more = rows.len() > limit as usize;
    let rows = &rows[..rows.len().min(limit as usize)];
    let next = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": keyward_core::time::UnixTime(r.at).to_rfc3339(),
                "event": r.event,
                "reason": r.reason,
                "actor_id": r.actor_id,
                "credential_id": r.credential_id,
                "key_prefix": r.key_prefix,
                "request_id": r.request_id,
                "detail": r.detail.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
            })
        })
        .collect();
    Ok(http::v1_ok(200, Value::Array(items), Some(next)))
}
