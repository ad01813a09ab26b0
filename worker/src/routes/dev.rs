//! `GET /dev/outbox`: the messages the `outbox` mail transport stored, newest first.
//! Development only: 404 unless `DEV_OUTBOX=true`, which the configuration refuses
//! outside `ENVIRONMENT=development` (`config.rs`).

use serde::Deserialize;
use serde_json::json;
use worker::Request;

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::routes::{Cx, page_limit, query};

#[derive(Deserialize)]
struct Row {
    id: u64,
    created_at: u64,
    to_addr: String,
    subject: String,
    body: String,
}

pub async fn outbox(req: &Request, cx: &Cx<'_>) -> Outcome {
    if !cx.config.dev_outbox {
        return Err(ApiError::not_found());
    }
    let limit = page_limit(req)?;
    let to = query(req, "to").unwrap_or_default();
    let rows = cx
        .env
        .d1("DB")?
        .prepare("SELECT id, created_at, to_addr, subject, body FROM outbox WHERE (?1 = '' OR to_addr = ?1) ORDER BY id DESC LIMIT ?2")
        .bind(&[to.as_str().into(), wasm_bindgen::JsValue::from_f64(f64::from(limit))])?
        .all()
        .await?
        .results::<Row>()?;
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": keyward_core::time::UnixTime(r.created_at).to_rfc3339(),
                "to": r.to_addr,
                "subject": r.subject,
                "text": r.body,
            })
        })
        .collect();
    Ok(http::bare_ok(200, &json!({ "items": items })))
}
