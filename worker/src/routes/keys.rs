//! `/v1/keys`: mint, list, inspect, update and revoke the caller's API keys.
//!
//! Plain keys are returned once, by `mint`, and never stored. A PATCH may change only
//! `name`, `rate_limit_rpm`, `expires_at` and `namespaces` (unknown fields are refused,
//! so `revoked_at`, `org_id` or the hash cannot be assigned). Revocation is a soft,
//! idempotent, permanent `revoked_at`.

use keyward_core::api_key::{CredentialId, IdSecretKey, KeyScheme, LookupKey};
use keyward_core::encoding::hex_encode;
use keyward_core::password::{self, Argon2Profile};
use keyward_core::rules;
use keyward_core::secret::SecretString;
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::ids::{now_secs, rng};
use crate::objects::{key_gate, webhook_outbox};
use crate::principal::Principal;
use crate::routes::{Cx, next_page, page};
use crate::store::audit::{self, AuditEvent};
use crate::store::d1::{self, KeyRow, NewKey};
use crate::store::webhook_events::{self, Event};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintBody {
    name: String,
    rate_limit_rpm: Option<u32>,
    expires_at: Option<String>,
    namespaces: Option<Vec<String>>,
    scheme: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    rate_limit_rpm: Option<u32>,
    /// Absent: unchanged; `null`: no expiry; a timestamp: the new expiry.
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Option<String>>,
    namespaces: Option<Vec<String>>,
}

/// Distinguishes `"expires_at": null` (Some(None)) from an absent field (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The namespaces a key may be given by `p`: valid names (`rules::namespaces`), and
/// never more than `p` can use itself, so a key cannot mint a wider key.
fn granted_namespaces(p: &Principal, asked: Vec<String>) -> Result<Vec<String>, ApiError> {
    let names = rules::namespaces(asked, &p.role)?;
    if keyward_core::namespace::covers(&p.namespaces, &names) {
        Ok(names)
    } else {
        Err(ApiError::forbidden(
            "permission denied: a key cannot be given namespaces its creator cannot use",
        ))
    }
}

pub async fn mint(req: &mut Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    let body: MintBody = http::json_body(req).await?;
    let name = rules::name(&body.name)?;
    let rpm = rules::rate_limit(
        body.rate_limit_rpm.unwrap_or(rules::MEMBER_MAX_RPM),
        &p.role,
    )?;
    let expires_at = body.expires_at.as_deref().map(valid_expiry).transpose()?;
    let namespaces = granted_namespaces(p, body.namespaces.unwrap_or_default())?;
    let scheme = match body.scheme.as_deref() {
        None => cx.config.default_scheme,
        Some(s) => KeyScheme::parse(s)
            .ok_or_else(|| ApiError::invalid("scheme must be lookup or id_secret"))?,
    };
    let spec = KeySpec {
        name,
        rate_limit_rpm: rpm,
        expires_at,
        namespaces,
        scheme,
    };
    let (row, plain) = create_key(cx, p, &p.entity_id, spec).await?;
    let mut data = render(&row);
    data["plain_key"] = Value::String(plain.expose().to_owned());
    Ok(http::v1_ok(201, data, None))
}

/// A validated request for a new key.
pub struct KeySpec {
    pub name: String,
    pub rate_limit_rpm: u32,
    pub expires_at: Option<u64>,
    pub namespaces: Vec<String>,
    pub scheme: KeyScheme,
}

/// Mints a key of `spec` for `entity_id` (in the creator's org), records it and returns
/// its row and the plain key, which exists only in this answer.
pub async fn create_key(
    cx: &Cx<'_>,
    creator: &Principal,
    entity_id: &str,
    spec: KeySpec,
) -> Result<(KeyRow, SecretString), ApiError> {
    let mut rng = rng();
    let (id, plain, lookup_hash, secret_phc) = match spec.scheme {
        KeyScheme::Lookup => {
            let key = LookupKey::generate(&cx.config.prefix, &mut rng);
            let hash = hex_encode(
                &key.lookup_hash(cx.config.hash_secret.expose(), cx.config.lookup_iterations),
            );
            (
                CredentialId::generate(&mut rng).to_hex(),
                SecretString::new(key.expose().to_owned()),
                Some(hash),
                None,
            )
        }
        KeyScheme::IdSecret => {
            let key = IdSecretKey::generate(&cx.config.prefix, &mut rng);
            let phc = password::hash(key.secret().as_bytes(), Argon2Profile::LIGHT, &mut rng)
                .map_err(|_| ApiError::internal())?;
            (
                key.credential_id().to_hex(),
                SecretString::new(key.expose().to_owned()),
                None,
                Some(phc),
            )
        }
    };
    let key_prefix = keyward_core::api_key::key_prefix(plain.expose()).to_owned();
    let namespaces_json =
        serde_json::to_string(&spec.namespaces).map_err(|_| ApiError::internal())?;
    let db = cx.env.d1("DB")?;
    let new = NewKey {
        id: &id,
        org_id: &creator.org_id,
        entity_id,
        name: &spec.name,
        scheme: spec.scheme.as_str(),
        key_prefix: &key_prefix,
        lookup_hash: lookup_hash.as_deref(),
        secret_phc: secret_phc.as_deref(),
        rate_limit_rpm: spec.rate_limit_rpm,
        namespaces: &namespaces_json,
        created_at: now_secs(),
        expires_at: spec.expires_at,
    };
    let event = key_event(
        &creator.org_id,
        "key.minted",
        &id,
        &key_prefix,
        entity_id,
        creator,
    );
    webhook_events::run_with(&db, d1::insert_key(&db, &new)?, &event).await?;
    webhook_outbox::announce(cx, &creator.org_id);
    record(
        cx,
        creator,
        "key.minted",
        &id,
        &key_prefix,
        Some(
            json!({ "scheme": spec.scheme.as_str(), "rate_limit_rpm": spec.rate_limit_rpm, "entity_id": entity_id }),
        ),
    );
    let row = d1::key_row(&db, &creator.org_id, &id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((row, plain))
}

pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    let (limit, after) = page(req)?;
    let rows = d1::key_page(&cx.env.d1("DB")?, &p.entity_id, after, limit + 1).await?;
    let (rows, next) = next_page(rows, limit, |r| (r.created_at, &r.id));
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(render).collect()),
        Some(next),
    ))
}

pub async fn get(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    let row = owned_row(cx, p, id).await?;
    Ok(http::v1_ok(200, render(&row), None))
}

pub async fn patch(req: &mut Request, cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    let row = owned_row(cx, p, id).await?;
    let body: PatchBody = http::json_body(req).await?;
    if row.revoked_at.is_some() {
        return Err(ApiError::conflict(
            "key is revoked; revoked keys cannot be changed",
        ));
    }
    let name = body
        .name
        .as_deref()
        .map(rules::name)
        .transpose()?
        .unwrap_or_else(|| row.name.clone());
    let rpm = body
        .rate_limit_rpm
        .map(|r| rules::rate_limit(r, &p.role))
        .transpose()?
        .unwrap_or(row.rate_limit_rpm);
    let expires_at = match &body.expires_at {
        None => row.expires_at,
        Some(None) => None,
        Some(Some(t)) => Some(valid_expiry(t)?),
    };
    let namespaces = match body.namespaces {
        Some(ns) => {
            serde_json::to_string(&granted_namespaces(p, ns)?).map_err(|_| ApiError::internal())?
        }
        None => row.namespaces.clone(),
    };
    let db = cx.env.d1("DB")?;
    let change = d1::update_key(&db, &row, &name, rpm, expires_at, &namespaces)?;
    let event = key_event(
        &p.org_id,
        "key.updated",
        &row.id,
        &row.key_prefix,
        &row.entity_id,
        p,
    );
    if webhook_events::run_with(&db, change, &event).await? != 1 {
        return Err(ApiError::conflict(
            "key changed concurrently; read it again and retry",
        ));
    }
    webhook_outbox::announce(cx, &p.org_id);
    key_gate::invalidate(cx, &row.locator()).await?;
    record(cx, p, "key.updated", &row.id, &row.key_prefix, None);
    let row = d1::key_row(&db, &p.org_id, &row.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::v1_ok(200, render(&row), None))
}

pub async fn revoke(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    let row = owned_row(cx, p, id).await?;
    let db = cx.env.d1("DB")?;
    // D1 first, then the gate: once this answers, no reload can bring the key back.
    let change = d1::revoke_key(&db, &p.org_id, &row.id, now_secs())?;
    let event = key_event(
        &p.org_id,
        "key.revoked",
        &row.id,
        &row.key_prefix,
        &row.entity_id,
        p,
    );
    let revoked_now = webhook_events::run_with(&db, change, &event).await? == 1;
    key_gate::invalidate(cx, &row.locator()).await?;
    if revoked_now {
        webhook_outbox::announce(cx, &p.org_id);
        record(cx, p, "key.revoked", &row.id, &row.key_prefix, None);
    }
    let row = d1::key_row(&db, &p.org_id, &row.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::v1_ok(200, render(&row), None))
}

/// The key if it belongs to the caller (or the caller administers its org); else 404.
async fn owned_row(cx: &Cx<'_>, p: &Principal, id: &str) -> Result<KeyRow, ApiError> {
    if CredentialId::parse(id).is_none() {
        return Err(ApiError::not_found());
    }
    let row = d1::key_row(&cx.env.d1("DB")?, &p.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if row.entity_id == p.entity_id || p.is_admin() {
        Ok(row)
    } else {
        Err(ApiError::not_found())
    }
}

fn record(
    cx: &Cx<'_>,
    p: &Principal,
    event: &'static str,
    id: &str,
    key_prefix: &str,
    detail: Option<Value>,
) {
    let entry = AuditEvent {
        credential_id: Some(id.to_owned()),
        key_prefix: Some(key_prefix.to_owned()),
        detail,
        ..p.audit(event)
    };
    audit::append(cx, entry);
}

/// The webhook event of a change to a key: ids and the key's prefix.
pub fn key_event(
    org_id: &str,
    kind: &'static str,
    key_id: &str,
    key_prefix: &str,
    entity_id: &str,
    actor: &Principal,
) -> Event {
    Event::new(
        org_id,
        kind,
        json!({ "key_id": key_id, "key_prefix": key_prefix, "entity_id": entity_id, "actor_id": actor.entity_id }),
    )
}

/// A key's public metadata: never its hash, never the plain key.
fn render(row: &KeyRow) -> Value {
    let time = |t: Option<u64>| t.map_or(Value::Null, |t| Value::String(UnixTime(t).to_rfc3339()));
    json!({
        "id": row.id,
        "name": row.name,
        "key_prefix": row.key_prefix,
        "scheme": row.scheme,
        "rate_limit_rpm": row.rate_limit_rpm,
        "namespaces": serde_json::from_str::<Value>(&row.namespaces).unwrap_or(Value::Array(vec![])),
        "created_at": UnixTime(row.created_at).to_rfc3339(),
        "expires_at": time(row.expires_at),
        "revoked_at": time(row.revoked_at),
        "last_used_at": time(row.last_used_at),
    })
}

/// An `expires_at` in the future.
pub fn valid_expiry(text: &str) -> Result<u64, ApiError> {
    let at = UnixTime::parse_rfc3339(text)
        .map_err(|_| ApiError::invalid("expires_at must be an RFC 3339 timestamp"))?;
    if at.secs() <= now_secs() {
        return Err(ApiError::invalid("expires_at must be in the future"));
    }
    Ok(at.secs())
}
