//! D1 queries of mailed tokens that act on an account: email verifications (`{p}v_`)
//! and password resets (`{p}r_`). Both tables have the same shape and rules: the keyed
//! hash is the key, a newer token retires every unused older one of the account, and a
//! token is used once (a guard in the `UPDATE`'s `WHERE`).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// Which table a token lives in.
#[derive(Clone, Copy, Debug)]
pub enum TokenTable {
    Verification,
    PasswordReset,
}

impl TokenTable {
    const fn name(self) -> &'static str {
        match self {
            Self::Verification => "email_verifications",
            Self::PasswordReset => "password_resets",
        }
    }
}

/// A stored token.
#[derive(Clone, Debug, Deserialize)]
pub struct PendingToken {
    pub account_id: String,
    pub email: String,
    pub expires_at: u64,
    pub used_at: Option<u64>,
}

/// The statements that retire every unused token of the account and store a new one.
pub fn replace(
    db: &D1Database,
    table: TokenTable,
    token_hash: &str,
    account_id: &str,
    email: &str,
    now: u64,
    expires_at: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    let name = table.name();
    Ok(vec![
        db.prepare(format!(
            "UPDATE {name} SET used_at = ?1 WHERE account_id = ?2 AND used_at IS NULL"
        ))
        .bind(&[JsValue::from_f64(now as f64), account_id.into()])?,
        db.prepare(format!(
            "INSERT INTO {name} (token_hash, account_id, email, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)"
        ))
        .bind(&[
            token_hash.into(),
            account_id.into(),
            email.into(),
            JsValue::from_f64(now as f64),
            JsValue::from_f64(expires_at as f64),
        ])?,
    ])
}

pub async fn find(
    db: &D1Database,
    table: TokenTable,
    token_hash: &str,
) -> worker::Result<Option<PendingToken>> {
    db.prepare(format!(
        "SELECT account_id, email, expires_at, used_at FROM {} WHERE token_hash = ?1",
        table.name()
    ))
    .bind(&[token_hash.into()])?
    .first::<PendingToken>(None)
    .await
}

/// Uses a token once: the guard in `WHERE` makes two concurrent uses count once. Put it
/// first in a batch and check its changed-row count.
pub fn use_once(
    db: &D1Database,
    table: TokenTable,
    token_hash: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(format!(
        "UPDATE {} SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
        table.name()
    ))
    .bind(&[JsValue::from_f64(now as f64), token_hash.into()])
}
