//! D1 queries of the orgs' webhook signing secrets (issue 10): one sealed row per org
//! (`keyward_core::sealed`). Both writes are single guarded statements, so concurrent
//! first reads create one secret and concurrent rotations make one rotation.

use keyward_core::sealed::{self, NONCE_LEN};
use keyward_core::webhook::WebhookSecret;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};
use zeroize::Zeroizing;

use crate::ids::{now_secs, rng};

/// The sealing purpose of these secrets (`keyward_core::sealed`).
const PURPOSE: &str = "webhook-secret";

/// An org's sealed secret.
#[derive(Clone, Deserialize)]
pub struct SealedSecret {
    pub sealed: String,
    pub created_at: u64,
    pub rotated_at: Option<u64>,
}

pub async fn of_org(db: &D1Database, org_id: &str) -> worker::Result<Option<SealedSecret>> {
    db.prepare("SELECT sealed, created_at, rotated_at FROM webhook_secrets WHERE org_id = ?1")
        .bind(&[org_id.into()])?
        .first::<SealedSecret>(None)
        .await
}

/// A fresh secret, sealed for `org_id` under the `SIGNING_SECRET` bytes `master`.
pub fn seal_new(master: &[u8], org_id: &str) -> String {
    let mut rng = rng();
    let secret = WebhookSecret::generate(&mut rng);
    let mut nonce = [0u8; NONCE_LEN];
    rand_core::Rng::fill_bytes(&mut rng, &mut nonce);
    sealed::seal(
        master,
        PURPOSE,
        org_id.as_bytes(),
        secret.to_text().expose().as_bytes(),
        nonce,
    )
}

/// The `whsec_…` text of a stored secret; `None` if it does not open (another
/// `SIGNING_SECRET`, or a row that was tampered with or moved to another org).
pub fn open(master: &[u8], org_id: &str, sealed_text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let opened = sealed::open(master, PURPOSE, org_id.as_bytes(), sealed_text);
    if opened.is_none() {
        worker::console_error!("a webhook secret does not open: was SIGNING_SECRET changed?");
    }
    opened
}

/// The org's secret, created if it has none yet.
pub async fn of_org_or_create(
    db: &D1Database,
    master: &[u8],
    org_id: &str,
) -> worker::Result<SealedSecret> {
    if let Some(stored) = of_org(db, org_id).await? {
        return Ok(stored);
    }
    create(db, org_id, &seal_new(master, org_id), now_secs()).await?;
    of_org(db, org_id)
        .await?
        .ok_or_else(|| worker::Error::RustError("webhook secret vanished".into()))
}

/// The org's secret as a signing key: `sealed_text` if the caller read it already, else
/// read (and created if the org has none yet). `None` if it does not open.
pub async fn signing_key(
    db: &D1Database,
    master: &[u8],
    org_id: &str,
    sealed_text: Option<String>,
) -> worker::Result<Option<WebhookSecret>> {
    let sealed_text = match sealed_text {
        Some(text) => text,
        None => of_org_or_create(db, master, org_id).await?.sealed,
    };
    Ok(open(master, org_id, &sealed_text).and_then(|text| {
        core::str::from_utf8(&text)
            .ok()
            .and_then(|t| WebhookSecret::parse(t).ok())
    }))
}

/// Stores the org's first secret unless one exists (the first writer wins).
pub async fn create(db: &D1Database, org_id: &str, sealed: &str, now: u64) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO webhook_secrets (org_id, sealed, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(&[org_id.into(), sealed.into(), JsValue::from_f64(now as f64)])?
    .run()
    .await
    .map(|_| ())
}

/// Replaces the secret if the last rotation is at least `min_interval` seconds old (or
/// none happened); the statement changes no row when another rotation came first.
pub fn rotate(
    db: &D1Database,
    org_id: &str,
    sealed: &str,
    now: u64,
    min_interval: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
            "INSERT INTO webhook_secrets (org_id, sealed, created_at, rotated_at) VALUES (?1, ?2, ?3, ?3) \
             ON CONFLICT (org_id) DO UPDATE SET sealed = excluded.sealed, rotated_at = excluded.rotated_at \
             WHERE webhook_secrets.rotated_at IS NULL OR webhook_secrets.rotated_at <= ?3 - ?4",
        )
        .bind(&[
            org_id.into(),
            sealed.into(),
            JsValue::from_f64(now as f64),
            JsValue::from_f64(min_interval as f64),
        ])
}
