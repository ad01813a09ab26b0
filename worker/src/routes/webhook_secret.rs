//! The org's webhook signing secret (issue 10; SPEC §4; the Primitive seed's "Webhook
//! signing secrets"): `GET /v1/account/webhook-secret` and `POST
//! /v1/account/webhook-secret/rotate`, for owners and admins.
//!
//! The secret is a Standard Webhooks secret (`whsec_` + base64 of 32 random bytes), so
//! the `standardwebhooks` libraries and the SDK's `verifyWebhook` take it as it is. It is
//! created on the first read (concurrent first reads get the same one: the first insert
//! wins and everyone reads back what was stored), kept sealed in D1
//! (`keyward_core::sealed`, bound to the org), and replaced at most once per 60 minutes
//! (429 `rate_limit_exceeded` with `Retry-After` otherwise). Reads and rotations are
//! audited; the secret itself never reaches the audit log or a log line.

use keyward_core::time::UnixTime;
use serde_json::json;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::now_secs;
use crate::objects::webhook_outbox;
use crate::principal::Principal;
use crate::store::audit;
use crate::store::webhook_events::{self, Event};
use crate::store::webhook_secrets::{self, SealedSecret};

/// At most one rotation per this many seconds, per org.
pub const ROTATION_INTERVAL_SECS: u64 = 3600;

/// `GET /v1/account/webhook-secret`.
pub async fn get(cx: &Cx<'_>, p: &Principal) -> Outcome {
    require_admin(p)?;
    let db = cx.env.d1("DB")?;
    let stored =
        webhook_secrets::of_org_or_create(&db, cx.config.signing_secret.expose(), &p.org_id)
            .await?;
    audit::append(cx, p.audit("webhook_secret.read"));
    answer(cx, p, &stored)
}

/// `POST /v1/account/webhook-secret/rotate`: a new secret; the old one stops signing at
/// once (every delivery is signed when it is attempted, with the secret of that moment).
pub async fn rotate(cx: &Cx<'_>, p: &Principal) -> Outcome {
    require_admin(p)?;
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    let change = webhook_secrets::rotate(
        &db,
        &p.org_id,
        &webhook_secrets::seal_new(cx.config.signing_secret.expose(), &p.org_id),
        now,
        ROTATION_INTERVAL_SECS,
    )?;
    let event = Event::new(
        &p.org_id,
        "webhook_secret.rotated",
        json!({ "org_id": p.org_id, "actor_id": p.entity_id }),
    );
    if webhook_events::run_with(&db, change, &event).await? == 0 {
        let last = webhook_secrets::of_org(&db, &p.org_id)
            .await?
            .and_then(|s| s.rotated_at)
            .unwrap_or(now);
        let retry_after = (last + ROTATION_INTERVAL_SECS).saturating_sub(now).max(1);
        return Err(ApiError::rate_limited(
            retry_after,
            "the webhook secret may be rotated once per 60 minutes",
        ));
    }
    webhook_outbox::announce(cx, &p.org_id);
    audit::append(cx, p.audit("webhook_secret.rotated"));
    let stored = webhook_secrets::of_org(&db, &p.org_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    answer(cx, p, &stored)
}

fn require_admin(p: &Principal) -> Result<(), ApiError> {
    if p.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "permission denied: only owners and admins see or rotate the webhook secret",
        ))
    }
}

fn answer(cx: &Cx<'_>, p: &Principal, stored: &SealedSecret) -> Outcome {
    let opened =
        webhook_secrets::open(cx.config.signing_secret.expose(), &p.org_id, &stored.sealed)
            .ok_or_else(ApiError::internal)?;
    let secret = core::str::from_utf8(&opened).map_err(|_| ApiError::internal())?;
    let time = |t: u64| UnixTime(t).to_rfc3339();
    Ok(http::v1_ok(
        200,
        json!({
            "secret": secret,
            "created_at": time(stored.created_at),
            "rotated_at": stored.rotated_at.map(time),
            "next_rotation_at": stored.rotated_at.map(|t| time(t + ROTATION_INTERVAL_SECS)),
        }),
        None,
    ))
}
