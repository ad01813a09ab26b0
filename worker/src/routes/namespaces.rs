//! Namespaces (issue 11; SPEC §4): `POST/GET /v1/namespaces`, `DELETE
//! /v1/namespaces/{ns}`, `PUT/GET/DELETE /v1/namespaces/{ns}/keys/{key}` and `GET
//! /v1/namespaces/{ns}/keys?prefix=&cursor=&limit=`.
//!
//! Who reaches what: an API key the namespaces in its `namespaces` list (`["*"]`: all),
//! a session or an OAuth grant every namespace of its org. A namespace the credential
//! may not use is 403 "permission" whether or not it exists (so a key learns nothing
//! of namespaces it was not given); one it may use that does not exist is 404. Owners
//! and admins create and delete namespaces. Names, keys and the storage layout are the
//! core's (`keyward_core::namespace`); values are raw bytes in KV, at most 1 MiB.
//!
//! KV is eventually consistent and accepts one write per second per key: a write is
//! visible at once where it was made and within about a minute everywhere, and KV's
//! own limits are answered 429 with `Retry-After`, never 5xx (`docs/namespaces.md`).

use keyward_core::ErrorCode;
use keyward_core::namespace::{self, MAX_VALUE_BYTES};
use keyward_core::oauth::form;
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::kv::{KvError, KvStore};
use worker::{Headers, Request, Response};

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::principal::Principal;
use crate::routes::{page_limit, strict_query};
use crate::store::audit;
use crate::store::namespaces::{self, MAX_PER_ORG, NamespaceRow};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
}

/// `POST /v1/namespaces {name}`: owners and admins; 201, or 409 if the name is taken.
pub async fn create(req: &mut Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    let body: CreateBody = http::json_body(req).await?;
    namespace::check_name(&body.name).map_err(invalid)?;
    may_use(p, &body.name)?;
    require_admin(p)?;
    let db = cx.env.d1("DB")?;
    let row = NamespaceRow {
        id: ids::namespace_id(),
        org_id: p.org_id.clone(),
        name: body.name,
        created_at: now_secs(),
        created_by: p.entity_id.clone(),
    };
    if !namespaces::insert(&db, &row).await? {
        return Err(
            if namespaces::by_name(&db, &p.org_id, &row.name)
                .await?
                .is_some()
            {
                ApiError::conflict("a namespace with this name exists")
            } else {
                ApiError::conflict(format!(
                    "an organization has at most {MAX_PER_ORG} namespaces"
                ))
            },
        );
    }
    let mut entry = p.audit("namespace.created");
    entry.detail = Some(json!({ "name": row.name }));
    audit::append(cx, entry);
    Ok(http::v1_ok(201, render(&row), None))
}

/// `GET /v1/namespaces`: the org's namespaces this credential may use, by name.
pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    let params = strict_query(req)?;
    let limit = page_limit(req)?;
    let after = form::value(&params, "cursor")
        .map(decode_name_cursor)
        .transpose()?;
    // A key that lists its namespaces sees those of them that exist.
    let only = (!namespace::reaches_all(&p.namespaces))
        .then(|| serde_json::to_string(&p.namespaces))
        .transpose()
        .map_err(|_| ApiError::internal())?;
    let db = cx.env.d1("DB")?;
    let mut rows =
        namespaces::page_of(&db, &p.org_id, only.as_deref(), after.as_deref(), limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        keyward_core::encoding::b64url_encode(rows[rows.len() - 1].name.as_bytes())
    });
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(render).collect()),
        Some(next),
    ))
}

/// `DELETE /v1/namespaces/{ns}`: owners and admins. The namespace is gone at once (its
/// values unreachable); its values are deleted from KV after the answer.
pub async fn delete(cx: &Cx<'_>, p: &Principal, name: &str) -> Outcome {
    let row = reachable(cx, p, name).await?;
    require_admin(p)?;
    let db = cx.env.d1("DB")?;
    if namespaces::delete(&db, &row.id).await? {
        namespaces::settle_after_delete(&row.org_id, &row.name).await;
        let prefix = namespace::storage_prefix(&row.org_id, &row.id);
        let kv = kv(cx)?;
        cx.ctx
            .wait_until(async move { remove_values(kv, prefix).await });
        let mut entry = p.audit("namespace.deleted");
        entry.detail = Some(json!({ "name": row.name }));
        audit::append(cx, entry);
    }
    Ok(http::v1_ok(
        200,
        json!({ "name": row.name, "deleted": true }),
        None,
    ))
}

/// `PUT /v1/namespaces/{ns}/keys/{key}`: stores the body's bytes (at most 1 MiB).
pub async fn put_value(
    req: &mut Request,
    cx: &Cx<'_>,
    p: &Principal,
    name: &str,
    key: &str,
) -> Outcome {
    let key = namespace::decode_key(key).map_err(invalid)?;
    let row = reachable(cx, p, name).await?;
    let value = http::read_limited(req, MAX_VALUE_BYTES).await?;
    let stored = namespace::storage_key(&namespace::storage_prefix(&row.org_id, &row.id), &key);
    kv(cx)?
        .put_bytes(&stored, &value)
        .map_err(kv_refusal)?
        .execute()
        .await
        .map_err(kv_refusal)?;
    Ok(http::v1_ok(
        200,
        json!({ "namespace": row.name, "key": key, "size": value.len() }),
        None,
    ))
}

/// `GET /v1/namespaces/{ns}/keys/{key}`: the value's bytes, `application/octet-stream`.
pub async fn get_value(cx: &Cx<'_>, p: &Principal, name: &str, key: &str) -> Outcome {
    let key = namespace::decode_key(key).map_err(invalid)?;
    let row = reachable(cx, p, name).await?;
    let stored = namespace::storage_key(&namespace::storage_prefix(&row.org_id, &row.id), &key);
    let value = kv(cx)?
        .get(&stored)
        .bytes()
        .await
        .map_err(kv_refusal)?
        .ok_or_else(|| ApiError::not_found_because("no such key in this namespace"))?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/octet-stream")?;
    Ok(Response::from_bytes(value)?.with_headers(headers))
}

/// `DELETE /v1/namespaces/{ns}/keys/{key}`: idempotent.
pub async fn delete_value(cx: &Cx<'_>, p: &Principal, name: &str, key: &str) -> Outcome {
    let key = namespace::decode_key(key).map_err(invalid)?;
    let row = reachable(cx, p, name).await?;
    let stored = namespace::storage_key(&namespace::storage_prefix(&row.org_id, &row.id), &key);
    kv(cx)?.delete(&stored).await.map_err(kv_refusal)?;
    Ok(http::v1_ok(
        200,
        json!({ "namespace": row.name, "key": key, "deleted": true }),
        None,
    ))
}

/// `GET /v1/namespaces/{ns}/keys?prefix=&cursor=&limit=`: key names, in KV's order
/// (bytewise), `limit` 1-1000 (default 100).
pub async fn list_keys(req: &Request, cx: &Cx<'_>, p: &Principal, name: &str) -> Outcome {
    let params = strict_query(req)?;
    let prefix = form::value(&params, "prefix").unwrap_or_default();
    namespace::check_prefix(prefix).map_err(invalid)?;
    let limit = match form::value(&params, "limit") {
        None => 100,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::invalid("limit must be 1-1000"))?,
    };
    let row = reachable(cx, p, name).await?;
    let secret = cx.config.hash_secret.expose();
    let cursor = form::value(&params, "cursor")
        .map(|c| {
            (c.len() <= 4096)
                .then(|| namespace::open_cursor(secret, &row.id, c))
                .flatten()
                .ok_or_else(|| ApiError::invalid("invalid cursor"))
        })
        .transpose()?;
    let base = namespace::storage_prefix(&row.org_id, &row.id);
    let mut list = kv(cx)?
        .list()
        .prefix(namespace::storage_key(&base, prefix))
        .limit(limit);
    if let Some(cursor) = cursor {
        list = list.cursor(cursor);
    }
    let page = list.execute().await.map_err(kv_refusal)?;
    let keys: Vec<Value> = page
        .keys
        .iter()
        .filter_map(|k| namespace::key_of(&base, &k.name))
        .map(|key| json!({ "key": key }))
        .collect();
    let next = (!page.list_complete)
        .then(|| {
            page.cursor
                .map(|c| namespace::seal_cursor(secret, &row.id, &c))
        })
        .flatten();
    Ok(http::v1_ok(200, Value::Array(keys), Some(next)))
}

/// The namespace `name` of the caller's org, if the caller may use it (403 otherwise,
/// existing or not) and it exists (404 otherwise).
async fn reachable(cx: &Cx<'_>, p: &Principal, name: &str) -> Result<NamespaceRow, ApiError> {
    namespace::check_name(name).map_err(invalid)?;
    may_use(p, name)?;
    namespaces::by_name(&cx.env.d1("DB")?, &p.org_id, name)
        .await?
        .ok_or_else(|| ApiError::not_found_because("no such namespace"))
}

fn may_use(p: &Principal, name: &str) -> Result<(), ApiError> {
    if namespace::may_use(&p.namespaces, name) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "permission denied: this credential may not use the namespace \"{name}\""
        )))
    }
}

fn require_admin(p: &Principal) -> Result<(), ApiError> {
    if p.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "permission denied: only owners and admins create and delete namespaces",
        ))
    }
}

fn invalid(error: namespace::NamespaceError) -> ApiError {
    ApiError::invalid_because(error.code(), error.to_string())
}

fn kv(cx: &Cx<'_>) -> Result<KvStore, ApiError> {
    cx.env.kv("KV").map_err(|error| {
        worker::console_error!("KV binding unavailable: {error}");
        ApiError::unavailable()
    })
}

/// KV's own limits (one write per second per key, request rates) are the caller's to
/// retry: 429 with `Retry-After: 1`. Anything else is an outage (503), never a crash.
fn kv_refusal(error: KvError) -> ApiError {
    let text = error.to_string();
    if text.contains("429") || text.contains("Too Many Requests") {
        ApiError::rate_limited(1, "the storage accepts one write per second per key; retry")
    } else {
        worker::console_error!("KV error: {text}");
        ApiError::unavailable()
    }
}

/// Deletes every value under `prefix`, page by page, after the answer (best effort: the
/// values are already unreachable).
async fn remove_values(kv: KvStore, prefix: String) {
    let mut cursor: Option<String> = None;
    loop {
        let mut list = kv.list().prefix(prefix.clone()).limit(1000);
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let Ok(page) = list.execute().await else {
            worker::console_error!("namespace cleanup: listing failed");
            return;
        };
        for key in &page.keys {
            if let Err(error) = kv.delete(&key.name).await {
                worker::console_error!("namespace cleanup: {error}");
            }
        }
        match page.cursor {
            Some(next) if !page.list_complete => cursor = Some(next),
            _ => return,
        }
    }
}

fn decode_name_cursor(cursor: &str) -> Result<String, ApiError> {
    keyward_core::encoding::b64url_decode(cursor)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|name| namespace::check_name(name).is_ok())
        .ok_or_else(|| ApiError::invalid("invalid cursor"))
}

fn render(row: &NamespaceRow) -> Value {
    json!({
        "name": row.name,
        "created_at": UnixTime(row.created_at).to_rfc3339(),
        "created_by": row.created_by,
    })
}
