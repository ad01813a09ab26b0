//! D1 queries of sessions, session-JWT signing keys and email verifications.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::store::d1::changed;

/// What authenticating a session JWT needs: the session joined with its entity, read
/// live on every request so that logout and suspension take effect at once.
#[derive(Clone, Debug, Deserialize)]
pub struct LiveSession {
    pub id: String,
    pub org_id: String,
    pub entity_id: String,
    pub role: String,
    pub entity_status: String,
    pub expires_at: u64,
    pub revoked_at: Option<u64>,
}

pub async fn live_session(db: &D1Database, id: &str) -> worker::Result<Option<LiveSession>> {
    db.prepare(
        "SELECT s.id, s.org_id, s.entity_id, e.role, e.status AS entity_status, s.expires_at, s.revoked_at \
         FROM sessions s JOIN entities e ON e.id = s.entity_id WHERE s.id = ?1",
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
    pub credential_id: &'a str,
    pub kid: &'a str,
    pub created_at: u64,
    pub expires_at: u64,
}

pub async fn insert_session(db: &D1Database, s: &NewSession<'_>) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO sessions (id, org_id, entity_id, credential_id, kid, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&[
        s.id.into(),
        s.org_id.into(),
        s.entity_id.into(),
        s.credential_id.into(),
        s.kid.into(),
        JsValue::from_f64(s.created_at as f64),
        JsValue::from_f64(s.expires_at as f64),
    ])?
    .run()
    .await
    .map(|_| ())
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

/// A pending email verification.
#[derive(Clone, Debug, Deserialize)]
pub struct Verification {
    pub entity_id: String,
    pub email: String,
    pub expires_at: u64,
    pub used_at: Option<u64>,
}

/// Statements that retire every unused token of the entity and store a new one: a
/// resend invalidates the previous link.
pub fn replace_verification(
    db: &D1Database,
    token_hash: &str,
    entity_id: &str,
    email: &str,
    now: u64,
    expires_at: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        db.prepare("UPDATE email_verifications SET used_at = ?1 WHERE entity_id = ?2 AND used_at IS NULL")
            .bind(&[JsValue::from_f64(now as f64), entity_id.into()])?,
        db.prepare(
            "INSERT INTO email_verifications (token_hash, entity_id, email, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&[
            token_hash.into(),
            entity_id.into(),
            email.into(),
            JsValue::from_f64(now as f64),
            JsValue::from_f64(expires_at as f64),
        ])?,
    ])
}

pub async fn verification(
    db: &D1Database,
    token_hash: &str,
) -> worker::Result<Option<Verification>> {
    db.prepare("SELECT entity_id, email, expires_at, used_at FROM email_verifications WHERE token_hash = ?1")
        .bind(&[token_hash.into()])?
        .first::<Verification>(None)
        .await
}

/// Uses a token once: the guard in `WHERE` makes two concurrent uses count once.
pub fn use_verification(
    db: &D1Database,
    token_hash: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare("UPDATE email_verifications SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1")
        .bind(&[JsValue::from_f64(now as f64), token_hash.into()])
}
