//! `GET /v1/grants` and `DELETE /v1/grants/{id}`: the caller's connected apps in the
//! caller's org (the OAuth grants their membership made), and revoking one. Another
//! person's grant, or one of another org, is 404.

use keyward_core::time::UnixTime;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::principal::Principal;
use crate::routes::oauth::end_grant;
use crate::routes::{next_page, page};
use crate::store::grants::{self, GrantListed};

pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    let (limit, after) = page(req)?;
    let rows = grants::page_of(&cx.env.d1("DB")?, &p.entity_id, after, limit + 1).await?;
    let (rows, next) = next_page(rows, limit, |g| (g.created_at, &g.id));
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(render).collect()),
        Some(next),
    ))
}

pub async fn revoke(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    if keyward_core::oauth::token::GrantId::parse_hex(id).is_none() {
        return Err(ApiError::not_found());
    }
    let db = cx.env.d1("DB")?;
    let standing = grants::standing(&db, id)
        .await?
        .filter(|g| g.entity_id == p.entity_id && g.org_id == p.org_id)
        .ok_or_else(ApiError::not_found)?;
    if standing.ended_at.is_none() {
        end_grant(cx, &db, &standing).await?;
    }
    let row = grants::listed(&db, &p.entity_id, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::v1_ok(200, render(&row), None))
}

fn render(g: &GrantListed) -> Value {
    let time = |t: Option<u64>| t.map(|t| UnixTime(t).to_rfc3339());
    json!({
        "id": g.id,
        "client_id": g.client_id,
        "client_name": g.client_name,
        "scope": g.scope,
        "status": if g.ended_at.is_some() { "revoked" } else { "active" },
        "ending": g.ending,
        "created_at": UnixTime(g.created_at).to_rfc3339(),
        "last_used_at": time(g.last_used_at),
        "revoked_at": time(g.ended_at),
    })
}
