//! The delivery log of a webhook endpoint (issue 10), for owners and admins:
//! `GET /v1/webhooks/{id}/deliveries` (newest event first, cursor-paginated),
//! `GET /v1/webhooks/{id}/deliveries/{msg}` (with every attempt), and
//! `POST /v1/webhooks/{id}/deliveries/{msg}/redeliver`, which queues the event for the
//! endpoint again, due at once and at the start of the retry schedule. Any event of the
//! org may be redelivered, including one the endpoint never received (it was disabled,
//! or did not exist yet).

use keyward_core::time::UnixTime;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::{has_id_shape, now_secs};
use crate::objects::webhook_outbox;
use crate::principal::Principal;
use crate::routes::webhooks::owned;
use crate::routes::{next_page, page};
use crate::store::audit;
use crate::store::webhook_deliveries::{self, AttemptRow, DeliveryRow};

/// `GET /v1/webhooks/{id}/deliveries`.
pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    let endpoint = owned(cx, p, id).await?;
    let (limit, after) = page(req)?;
    let rows = webhook_deliveries::page(
        &cx.env.d1("DB")?,
        &endpoint.id,
        after.map(|(seq, _)| seq),
        limit + 1,
    )
    .await?;
    let (rows, next) = next_page(rows, limit, |d| (d.event_seq, &d.msg_id));
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(|d| render(d, None)).collect()),
        Some(next),
    ))
}

/// `GET /v1/webhooks/{id}/deliveries/{msg}`.
pub async fn get(cx: &Cx<'_>, p: &Principal, id: &str, msg_id: &str) -> Outcome {
    let endpoint = owned(cx, p, id).await?;
    let db = cx.env.d1("DB")?;
    let delivery = delivery(&db, &endpoint.id, msg_id).await?;
    let attempts = webhook_deliveries::attempts(&db, &endpoint.id, msg_id).await?;
    Ok(http::v1_ok(200, render(&delivery, Some(&attempts)), None))
}

/// `POST /v1/webhooks/{id}/deliveries/{msg}/redeliver`: 202, the delivery queued.
pub async fn redeliver(cx: &Cx<'_>, p: &Principal, id: &str, msg_id: &str) -> Outcome {
    let endpoint = owned(cx, p, id).await?;
    if endpoint.enabled != 1 {
        return Err(ApiError::conflict(
            "the endpoint is disabled; enable it (PATCH enabled: true) to redeliver",
        ));
    }
    let db = cx.env.d1("DB")?;
    if !has_id_shape(msg_id, "msg_")
        || !webhook_deliveries::requeue(&db, &p.org_id, &endpoint.id, msg_id, now_secs()).await?
    {
        return Err(ApiError::not_found_because(
            "no such event in this organization",
        ));
    }
    let env = cx.env.clone();
    let endpoint_id = endpoint.id.clone();
    cx.ctx.wait_until(async move {
        if let Err(error) = webhook_outbox::wake(&env, &endpoint_id).await {
            worker::console_error!("webhook wake-up failed (the sweep will catch up): {error}");
        }
    });
    let mut entry = p.audit("webhook.redelivered");
    entry.detail = Some(json!({ "webhook_id": endpoint.id, "msg_id": msg_id }));
    audit::append(cx, entry);
    let delivery = delivery(&db, &endpoint.id, msg_id).await?;
    Ok(http::v1_ok(202, render(&delivery, None), None))
}

async fn delivery(
    db: &worker::D1Database,
    endpoint_id: &str,
    msg_id: &str,
) -> Result<DeliveryRow, ApiError> {
    if !has_id_shape(msg_id, "msg_") {
        return Err(ApiError::not_found());
    }
    webhook_deliveries::delivery(db, endpoint_id, msg_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn render(d: &DeliveryRow, attempts: Option<&[AttemptRow]>) -> Value {
    let time = |t: u64| UnixTime(t).to_rfc3339();
    let mut out = json!({
        "msg_id": d.msg_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.map(time),
        "created_at": time(d.created_at),
        "updated_at": time(d.updated_at),
    });
    if let Some(attempts) = attempts {
        out["attempt_log"] = attempts
            .iter()
            .map(|a| {
                json!({
                    "attempt": a.attempt,
                    "at": time(a.at),
                    "status_code": a.status_code,
                    "duration_ms": a.duration_ms,
                    "error": a.error,
                    "next_attempt_at": a.next_attempt_at.map(time),
                })
            })
            .collect();
    }
    out
}
