//! The OAuth 2.0 authorization server's HTTP surface (issue 9, SPEC §4), so far:
//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and `POST /oauth/register`
//! (RFC 7591). Every decision is the core's (`keyward_core::oauth`); errors answer in
//! the RFC 6749 shape (`http::Family::OAuth`), and the public endpoints allow any web
//! origin without credentials.
//!
//! Registration takes public clients only and ignores metadata it does not use (RFC
//! 7591 §2). It is limited per client address (`CF-Connecting-IP`) with the core's exact
//! window; past the limit the answer is 429 `slow_down` with `Retry-After`.

use keyward_core::oauth::grant::Lifetimes;
use keyward_core::oauth::metadata;
use keyward_core::oauth::registration::ClientMetadataRequest;
use serde::Deserialize;
use serde_json::json;
use worker::Request;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::objects::throttle::{self, Purpose};
use crate::store::audit::{self, AuditEvent};
use crate::store::oauth::{self, ClientRow};

/// `GET /.well-known/oauth-authorization-server`.
pub fn server_metadata(req: &Request, cx: &Cx<'_>) -> Outcome {
    let issuer = cx.config.issuer_for(req);
    let document =
        metadata::authorization_server(&issuer, &cx.config.oauth_scopes, Lifetimes::default());
    let mut response = http::bare_ok(200, &document);
    response
        .headers_mut()
        .set("Cache-Control", "public, max-age=300")?;
    Ok(response)
}

/// The RFC 7591 fields this server reads; any other member of the object is ignored.
#[derive(Deserialize)]
struct RegistrationBody {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    scope: Option<String>,
}

/// `POST /oauth/register`.
pub async fn register(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let address = req
        .headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    throttle::attempt(cx, Purpose::ClientRegistration, &address).await?;
    let body: RegistrationBody = http::json_body(req).await.map_err(|e| {
        ApiError::oauth(keyward_core::oauth::error::OAuthError {
            code: keyward_core::oauth::error::OAuthErrorCode::InvalidClientMetadata,
            description: e.message.into(),
        })
        .with_status(e.status)
    })?;
    let checked = ClientMetadataRequest {
        redirect_uris: body.redirect_uris,
        client_name: body.client_name,
        grant_types: body.grant_types,
        response_types: body.response_types,
        token_endpoint_auth_method: body.token_endpoint_auth_method,
        scope: body.scope,
    }
    .check(&cx.config.oauth_scopes)
    .map_err(ApiError::oauth)?;
    let uris: Vec<&str> = checked.redirect_uris.iter().map(|u| u.as_str()).collect();
    let row = ClientRow {
        id: ids::client_id(),
        name: checked.client_name.clone(),
        redirect_uris: serde_json::to_string(&uris).map_err(|_| ApiError::internal())?,
        scope: checked.scope.to_scope_string(),
        refresh_tokens: u8::from(checked.refresh_tokens),
        created_at: now_secs(),
    };
    oauth::insert_client(&cx.env.d1("DB")?, &row).await?;
    audit::append(
        cx,
        AuditEvent {
            event: "oauth.client_registered",
            detail: Some(json!({ "client_id": row.id, "redirect_uris": uris.len() })),
            ..AuditEvent::default()
        },
    );
    let grant_types: &[&str] = if checked.refresh_tokens {
        &["authorization_code", "refresh_token"]
    } else {
        &["authorization_code"]
    };
    Ok(http::bare_ok(
        201,
        &json!({
            "client_id": row.id,
            "client_id_issued_at": row.created_at,
            "client_name": row.name,
            "redirect_uris": uris,
            "grant_types": grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": row.scope,
        }),
    ))
}
