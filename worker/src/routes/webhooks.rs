//! Webhook endpoints (issue 10; SPEC §4): `POST/GET /v1/webhooks`,
//! `GET/PATCH/DELETE /v1/webhooks/{id}`, for owners and admins.
//!
//! An endpoint is a URL (`keyward_core::webhook_url`: https, no private or local
//! address in production; checked again before every delivery), a description, the
//! event types it wants (`keyward_core::webhook_events`, every event by default), and
//! whether it is enabled. Another org's endpoint id is 404.

use keyward_core::ErrorCode;
use keyward_core::rules;
use keyward_core::time::UnixTime;
use keyward_core::webhook_events;
use keyward_core::webhook_url::WebhookUrl;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::objects::webhook_outbox;
use crate::principal::Principal;
use crate::routes::{next_page, page};
use crate::store::audit;
use crate::store::d1;
use crate::store::webhook_endpoints::{self, EndpointRow, MAX_PER_ORG};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    url: String,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    url: Option<String>,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
}

/// `POST /v1/webhooks`.
pub async fn create(req: &mut Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    require_admin(p)?;
    let body: CreateBody = http::json_body(req).await?;
    let now = now_secs();
    let row = EndpointRow {
        id: ids::webhook_endpoint_id(),
        org_id: p.org_id.clone(),
        url: checked_url(cx, &body.url)?,
        description: rules::description(&body.description.unwrap_or_default())?,
        event_types: checked_events(body.event_types)?,
        enabled: u8::from(body.enabled.unwrap_or(true)),
        disabled_reason: None,
        failing_since: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let db = cx.env.d1("DB")?;
    if !webhook_endpoints::insert(&db, &row).await? {
        return Err(ApiError::conflict(format!(
            "an organization has at most {MAX_PER_ORG} webhook endpoints"
        )));
    }
    record(cx, p, "webhook.created", &row.id);
    Ok(http::v1_ok(201, render(&row), None))
}

/// `GET /v1/webhooks`: the org's endpoints, oldest first, cursor-paginated.
pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    require_admin(p)?;
    let (limit, after) = page(req)?;
    let rows = webhook_endpoints::page_of(&cx.env.d1("DB")?, &p.org_id, after, limit + 1).await?;
    let (rows, next) = next_page(rows, limit, |e| (e.created_at, &e.id));
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(render).collect()),
        Some(next),
    ))
}

/// `GET /v1/webhooks/{id}`.
pub async fn get(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    require_admin(p)?;
    Ok(http::v1_ok(200, render(&owned(cx, p, id).await?), None))
}

/// `PATCH /v1/webhooks/{id}`: only the fields given change (compare-and-swap: a
/// concurrent change answers 409).
pub async fn patch(req: &mut Request, cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    require_admin(p)?;
    let body: PatchBody = http::json_body(req).await?;
    let before = owned(cx, p, id).await?;
    let after = EndpointRow {
        url: body
            .url
            .map(|u| checked_url(cx, &u))
            .transpose()?
            .unwrap_or_else(|| before.url.clone()),
        description: body
            .description
            .as_deref()
            .map(rules::description)
            .transpose()?
            .unwrap_or_else(|| before.description.clone()),
        event_types: match body.event_types {
            Some(types) => checked_events(Some(types))?,
            None => before.event_types.clone(),
        },
        enabled: body.enabled.map_or(before.enabled, u8::from),
        ..before.clone()
    };
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    let result = webhook_endpoints::update(&db, &after, now)?.run().await?;
    if d1::changed(&result) != 1 {
        return Err(ApiError::conflict(
            "the endpoint changed concurrently; read it again and retry",
        ));
    }
    record(cx, p, "webhook.updated", id);
    if before.enabled == 0 && after.enabled == 1 {
        // Deliveries queued before it was disabled resume.
        let env = cx.env.clone();
        let id = id.to_owned();
        cx.ctx.wait_until(async move {
            if let Err(error) = webhook_outbox::wake(&env, &id).await {
                worker::console_error!("webhook wake-up failed (the sweep will catch up): {error}");
            }
        });
    }
    Ok(http::v1_ok(200, render(&owned(cx, p, id).await?), None))
}

/// `DELETE /v1/webhooks/{id}`: the endpoint and its pending deliveries are gone.
pub async fn delete(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    require_admin(p)?;
    let row = owned(cx, p, id).await?;
    if webhook_endpoints::delete(&cx.env.d1("DB")?, &p.org_id, id).await? {
        record(cx, p, "webhook.deleted", id);
    }
    Ok(http::v1_ok(
        200,
        json!({ "id": row.id, "deleted": true }),
        None,
    ))
}

/// The endpoint `id` of the caller's org, for an owner or admin; else 403 or 404.
pub(super) async fn owned(cx: &Cx<'_>, p: &Principal, id: &str) -> Result<EndpointRow, ApiError> {
    require_admin(p)?;
    let well_formed = id.len() == 36 && id.starts_with("whk_");
    if !well_formed {
        return Err(ApiError::not_found());
    }
    webhook_endpoints::get(&cx.env.d1("DB")?, &p.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn require_admin(p: &Principal) -> Result<(), ApiError> {
    if p.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "permission denied: only owners and admins manage webhooks",
        ))
    }
}

fn checked_url(cx: &Cx<'_>, url: &str) -> Result<String, ApiError> {
    WebhookUrl::parse(url, cx.config.deployment)
        .map(|u| u.as_str().to_owned())
        .map_err(|e| ApiError::invalid_because(e.code(), e.to_string()))
}

fn checked_events(asked: Option<Vec<String>>) -> Result<String, ApiError> {
    let types = webhook_events::check(asked)
        .map_err(|e| ApiError::invalid_because(e.code(), e.to_string()))?;
    serde_json::to_string(&types).map_err(|_| ApiError::internal())
}

fn record(cx: &Cx<'_>, p: &Principal, event: &'static str, id: &str) {
    let mut entry = p.audit(event);
    entry.detail = Some(json!({ "webhook_id": id }));
    audit::append(cx, entry);
}

fn render(e: &EndpointRow) -> Value {
    json!({
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "event_types": serde_json::from_str::<Value>(&e.event_types).unwrap_or(Value::Null),
        "enabled": e.enabled == 1,
        "disabled_reason": e.disabled_reason,
        "disabled_at": e.disabled_at.map(|t| UnixTime(t).to_rfc3339()),
        "failing_since": e.failing_since.map(|t| UnixTime(t).to_rfc3339()),
        "created_at": UnixTime(e.created_at).to_rfc3339(),
        "updated_at": UnixTime(e.updated_at).to_rfc3339(),
    })
}
