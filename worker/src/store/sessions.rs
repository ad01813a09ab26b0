//! D1 queries of sessions and session-JWT signing keys.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::store::d1::changed;

/// What authenticating a session JWT needs: the session joined with its membership and
/// account, read live on every request so that logout, suspension, removal and an
/// account-wide disable take effect at once. `entity_status` reports `disabled` for a
/// disabled account, whatever the membership's own status.
#[derive(Clone, Debug, Deserialize)]
pub struct LiveSession {
    pub id: String,
    pub org_id: String,
    pub entity_id: String,
    pub account_id: String,
    pub role: String,
    pub entity_status: String,
    pub expires_at: u64,
    pub revoked_at: Option<u64>,
}

pub async fn live_session(db: &D1Database, id: &str) -> worker::Result<Option<LiveSession>> {
    db.prepare(
        "SELECT s.id, s.org_id, s.entity_id, s.account_id, e.role, \
         CASE WHEN a.status = 'active' THEN e.status ELSE 'disabled' END AS entity_status, s.expires_at, s.revoked_at \
         FROM sessions s JOIN entities e ON e.id = s.entity_id JOIN accounts a ON a.id = s.account_id WHERE s.id = ?1",
    )
    .bind(&[id.into()])?
    .first::<LiveSession>(None)
    .await
}

/// A new session row.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub entity_id: &'a str,
    pub account_id: &'a str,
    pub password_id: &'a str,
    pub kid: &'a str,
    pub created_at: u64,
    pub expires_at: u64,
}

pub fn insert_session(db: &D1Database, s: &NewSession<'_>) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "INSERT INTO sessions (id, org_id, entity_id, account_id, password_id, kid, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(&[
        s.id.into(),
        s.org_id.into(),
        s.entity_id.into(),
        s.account_id.into(),
        s.password_id.into(),
        s.kid.into(),
        JsValue::from_f64(s.created_at as f64),
        JsValue::from_f64(s.expires_at as f64),
    ])
}

/// Revokes a session once: `Ok(true)` if this call revoked it.
pub async fn revoke_session(db: &D1Database, id: &str, now: u64) -> worker::Result<bool> {
    let result = db
        .prepare("UPDATE sessions SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
        .bind(&[JsValue::from_f64(now as f64), id.into()])?
        .run()
        .await?;
    Ok(changed(&result) == 1)
}

/// A signing key's public half.
#[derive(Clone, Debug, Deserialize)]
pub struct SigningKeyRow {
    pub kid: String,
    pub x: String,
    pub created_at: u64,
    pub retired_at: Option<u64>,
}

const SIGNING_SELECT: &str = "SELECT kid, x, created_at, retired_at FROM signing_keys ";

/// Keys still published: active ones, and retired ones retired after `retired_after`.
pub async fn published_keys(
    db: &D1Database,
    retired_after: u64,
) -> worker::Result<Vec<SigningKeyRow>> {
    db.prepare(format!(
        "{SIGNING_SELECT}WHERE retired_at IS NULL OR retired_at > ?1 ORDER BY created_at DESC, kid"
    ))
    .bind(&[JsValue::from_f64(retired_after as f64)])?
    .all()
    .await?
    .results::<SigningKeyRow>()
}

/// The key with `kid`, retired or not.
pub async fn signing_key(db: &D1Database, kid: &str) -> worker::Result<Option<SigningKeyRow>> {
    db.prepare(format!("{SIGNING_SELECT}WHERE kid = ?1"))
        .bind(&[kid.into()])?
        .first::<SigningKeyRow>(None)
        .await
}

/// Inserts a key; when `retire_others`, every active key is retired in the same batch
/// (rotation). Two isolates creating the first key at once both succeed; the newest is
/// the one that signs, and both verify.
pub async fn add_signing_key(
    db: &D1Database,
    row: &SigningKeyRow,
    retire_others: bool,
) -> worker::Result<()> {
    let now = JsValue::from_f64(row.created_at as f64);
    let mut batch = Vec::new();
    if retire_others {
        batch.push(
            db.prepare("UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL")
                .bind(std::slice::from_ref(&now))?,
        );
    }
    batch.push(
        db.prepare(
            "INSERT INTO signing_keys (kid, alg, x, created_at) VALUES (?1, 'EdDSA', ?2, ?3)",
        )
        .bind(&[row.kid.as_str().into(), row.x.as_str().into(), now])?,
    );
    db.batch(batch).await.map(|_| ())
}
