//! D1 queries of the orgs' webhook signing secrets (issue 10): one sealed row per org
//! (`keyward_core::sealed`). Both writes are single guarded statements, so concurrent
//! first reads create one secret and concurrent rotations make one rotation.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

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
/// none happened); false when another rotation came first.
pub async fn rotate(
    db: &D1Database,
    org_id: &str,
    sealed: &str,
    now: u64,
    min_interval: u64,
) -> worker::Result<bool> {
    let result = db
        .prepare(
            "INSERT INTO webhook_secrets (org_id, sealed, created_at, rotated_at) VALUES (?1, ?2, ?3, ?3) \
             ON CONFLICT (org_id) DO UPDATE SET sealed = excluded.sealed, rotated_at = excluded.rotated_at \
             WHERE webhook_secrets.rotated_at IS NULL OR webhook_secrets.rotated_at <= ?3 - ?4",
        )
        .bind(&[
            org_id.into(),
            sealed.into(),
            JsValue::from_f64(now as f64),
            JsValue::from_f64(min_interval as f64),
        ])?
        .run()
        .await?;
    Ok(crate::store::d1::changed(&result) == 1)
}
