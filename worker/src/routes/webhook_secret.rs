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

use keyward_core::sealed::{self, NONCE_LEN};
use keyward_core::time::UnixTime;
use keyward_core::webhook::WebhookSecret;
use serde_json::json;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::{now_secs, rng};
use crate::principal::Principal;
use crate::store::audit;
use crate::store::webhook_secrets::{self, SealedSecret};

/// The sealing purpose of these secrets (`keyward_core::sealed`).
const PURPOSE: &str = "webhook-secret";
/// At most one rotation per this many seconds, per org.
pub const ROTATION_INTERVAL_SECS: u64 = 3600;

/// `GET /v1/account/webhook-secret`.
pub async fn get(cx: &Cx<'_>, p: &Principal) -> Outcome {
    require_admin(p)?;
    let db = cx.env.d1("DB")?;
    let stored = match webhook_secrets::of_org(&db, &p.org_id).await? {
        Some(stored) => stored,
        None => {
            webhook_secrets::create(&db, &p.org_id, &new_sealed(cx, &p.org_id), now_secs()).await?;
            webhook_secrets::of_org(&db, &p.org_id)
                .await?
                .ok_or_else(ApiError::internal)?
        }
    };
    audit::append(cx, p.audit("webhook_secret.read"));
    answer(cx, p, &stored)
}

/// `POST /v1/account/webhook-secret/rotate`: a new secret; the old one stops signing at
/// once (every delivery is signed when it is attempted, with the secret of that moment).
pub async fn rotate(cx: &Cx<'_>, p: &Principal) -> Outcome {
    require_admin(p)?;
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    let rotated = webhook_secrets::rotate(
        &db,
        &p.org_id,
        &new_sealed(cx, &p.org_id),
        now,
        ROTATION_INTERVAL_SECS,
    )
    .await?;
    if !rotated {
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

/// A fresh secret, sealed for `org_id`.
fn new_sealed(cx: &Cx<'_>, org_id: &str) -> String {
    let mut rng = rng();
    let secret = WebhookSecret::generate(&mut rng);
    let mut nonce = [0u8; NONCE_LEN];
    rand_core::Rng::fill_bytes(&mut rng, &mut nonce);
    sealed::seal(
        cx.config.signing_secret.expose(),
        PURPOSE,
        org_id.as_bytes(),
        secret.to_text().expose().as_bytes(),
        nonce,
    )
}

fn answer(cx: &Cx<'_>, p: &Principal, stored: &SealedSecret) -> Outcome {
    let opened = sealed::open(
        cx.config.signing_secret.expose(),
        PURPOSE,
        p.org_id.as_bytes(),
        &stored.sealed,
    )
    .ok_or_else(|| {
        worker::console_error!("a webhook secret does not open: was SIGNING_SECRET changed?");
        ApiError::internal()
    })?;
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
