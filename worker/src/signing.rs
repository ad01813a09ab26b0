//! Session-JWT signing keys (SPEC §3, §5).
//!
//! D1's `signing_keys` holds public halves only. The private key of a `kid` is derived
//! from the `SIGNING_SECRET` Worker secret (`keyward_core::jwt::SigningKey::derive`), so
//! a copy of the database cannot mint sessions. The newest active key signs; rotation
//! (`POST /admin/signing-keys/rotate`) adds a key and retires the others, which stay
//! published at `/.well-known/jwks.json` until every token they signed has expired.

use std::cell::RefCell;
use std::collections::HashMap;

use keyward_core::jwt::{SigningKey, VerifyingKey};
use serde_json::Value;

use crate::context::Cx;
use crate::http::ApiError;
use crate::ids::{self, now_secs};
use crate::store::sessions::{self, SigningKeyRow};

/// How long an isolate keeps signing with the key it last read before reading again.
const CURRENT_KEY_REFRESH_SECS: u64 = 60;
/// Allowance for clocks and in-flight requests.
const LEEWAY_SECS: u64 = 60;
/// Verifying keys remembered per isolate.
const MAX_KNOWN: usize = 64;

thread_local! {
    static CURRENT: RefCell<Option<(String, u64)>> = const { RefCell::new(None) };
    static KNOWN: RefCell<HashMap<String, (VerifyingKey, Option<u64>)>> = RefCell::new(HashMap::new());
}

/// How long a retired key stays published: a token it signed lives `ttl`, and an
/// isolate may sign with it for up to [`CURRENT_KEY_REFRESH_SECS`] after the rotation.
pub fn publish_secs(ttl: u64) -> u64 {
    ttl + CURRENT_KEY_REFRESH_SECS + LEEWAY_SECS
}

/// A kid is 16 lowercase hex digits; anything else is refused before any lookup.
pub fn is_kid(kid: &str) -> bool {
    kid.len() == 16
        && kid
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The key that signs now, creating the first one if there is none.
pub async fn current(cx: &Cx<'_>) -> Result<(String, SigningKey), ApiError> {
    let now = now_secs();
    let cached = CURRENT.with_borrow(|c| {
        c.as_ref()
            .filter(|(_, at)| now < at + CURRENT_KEY_REFRESH_SECS)
            .map(|(kid, _)| kid.clone())
    });
    let kid = match cached {
        Some(kid) => kid,
        None => {
            let db = cx.env.d1("DB")?;
            let published = sessions::published_keys(&db, now).await?;
            let kid = match published.into_iter().find(|k| k.retired_at.is_none()) {
                Some(row) => row.kid,
                None => add(cx, false).await?,
            };
            CURRENT.set(Some((kid.clone(), now)));
            kid
        }
    };
    let key = SigningKey::derive(cx.config.signing_secret.expose(), &kid);
    Ok((kid, key))
}

/// Adds a signing key (retiring the others when `rotate`) and returns its kid.
pub async fn add(cx: &Cx<'_>, rotate: bool) -> Result<String, ApiError> {
    let kid = ids::kid();
    let key = SigningKey::derive(cx.config.signing_secret.expose(), &kid);
    let row = SigningKeyRow {
        kid: kid.clone(),
        x: key.verifying_key().x(),
        created_at: now_secs(),
        retired_at: None,
    };
    sessions::add_signing_key(&cx.env.d1("DB")?, &row, rotate).await?;
    CURRENT.set(Some((kid.clone(), row.created_at)));
    KNOWN.with_borrow_mut(HashMap::clear);
    Ok(kid)
}

/// The verifying key of `kid` if it is published: unknown, malformed or long-retired
/// kids give `None`.
pub async fn verifying_key(cx: &Cx<'_>, kid: &str) -> Result<Option<VerifyingKey>, ApiError> {
    if !is_kid(kid) {
        return Ok(None);
    }
    let known = KNOWN.with_borrow(|k| k.get(kid).copied());
    let (key, retired_at) = match known {
        Some(entry) => entry,
        None => {
            let Some(row) = sessions::signing_key(&cx.env.d1("DB")?, kid).await? else {
                return Ok(None);
            };
            let key = VerifyingKey::from_x(&row.x).map_err(|_| ApiError::internal())?;
            KNOWN.with_borrow_mut(|k| {
                if k.len() >= MAX_KNOWN {
                    k.clear();
                }
                k.insert(kid.to_owned(), (key, row.retired_at));
            });
            (key, row.retired_at)
        }
    };
    let expired =
        retired_at.is_some_and(|at| at + publish_secs(cx.config.session_ttl_secs) <= now_secs());
    Ok((!expired).then_some(key))
}

/// The JWKS document: every published key (creating the first one, so that a client
/// that fetches the set before any login has the key the first token will name).
pub async fn jwks(cx: &Cx<'_>) -> Result<Value, ApiError> {
    current(cx).await?;
    let since = now_secs().saturating_sub(publish_secs(cx.config.session_ttl_secs));
    let rows = sessions::published_keys(&cx.env.d1("DB")?, since).await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let key = VerifyingKey::from_x(&row.x).map_err(|_| ApiError::internal())?;
        let jwk: Value = serde_json::from_str(&keyward_core::jwt::jwk_json(&row.kid, &key))
            .map_err(|_| ApiError::internal())?;
        keys.push(jwk);
    }
    Ok(serde_json::json!({ "keys": keys }))
}
