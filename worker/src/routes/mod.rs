//! Routing: method + path → handler. `/v1/*` and `/entities/*` authenticate first.

mod admin;
mod audit_log;
mod authorize;
mod browser;
mod connected_apps;
mod credentials;
mod dev;
mod entities;
mod grants;
mod keys;
mod login;
mod members;
mod namespaces;
mod oauth;
mod pages;
mod password;
mod secrets;
mod signup;
mod webhook_deliveries;
mod webhook_secret;
mod webhooks;
mod wellknown;
mod whoami;

use worker::{Method, Request, Response};

use crate::Outcome;
use crate::auth;
pub use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::principal::Principal;

/// Routes the request; `cors` says its origin is an allowed one (`CORS_ALLOWED_ORIGINS`).
pub async fn dispatch(req: &mut Request, cx: &Cx<'_>, cors: bool) -> Outcome {
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if req.method() == Method::Options && (cors || http::is_public_cors(&path)) {
        return Ok(http::preflight(cors));
    }
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["health"]) => Ok(http::bare_ok(200, &serde_json::json!({ "status": "ok" }))),
        (Method::Get, [".well-known", "jwks.json"]) => wellknown::jwks(cx).await,
        (Method::Get, [".well-known", "oauth-protected-resource"]) => {
            wellknown::protected_resource(req, cx)
        }
        (Method::Get, [".well-known", "oauth-authorization-server"]) => {
            oauth::server_metadata(req, cx)
        }
        (Method::Post, ["oauth", "register"]) => oauth::register(req, cx).await,
        (Method::Get | Method::Post, ["oauth", "authorize"]) => authorize::handle(req, cx).await,
        (Method::Get | Method::Post, ["settings", "connected-apps"]) => {
            connected_apps::handle(req, cx).await
        }
        (Method::Post, ["oauth", "token"]) => oauth::token(req, cx).await,
        (Method::Post, ["oauth", "revoke"]) => oauth::revoke(req, cx).await,
        (Method::Post, ["oauth", "introspect"]) => oauth::introspect(req, cx).await,
        (Method::Post, ["admin", "bootstrap"]) => admin::bootstrap(req, cx).await,
        (Method::Post, ["admin", "signing-keys", "rotate"]) => {
            admin::rotate_signing_key(req, cx).await
        }
        (Method::Patch, ["admin", "accounts"]) => admin::set_account_status(req, cx).await,
        (Method::Post, ["auth", "login"]) => login::login(req, cx).await,
        (Method::Post, ["auth", "logout"]) => login::logout(req, cx).await,
        (Method::Get, ["auth", "orgs"]) => login::orgs(req, cx).await,
        (Method::Post, ["auth", "password", "change"]) => password::change(req, cx).await,
        (Method::Post, ["auth", "password", "reset"]) => password::reset(req, cx).await,
        (Method::Post, ["auth", "password", "reset", "confirm"]) => {
            password::confirm(req, cx).await
        }
        (Method::Post, ["auth", "invitations", "accept"]) => members::accept(req, cx).await,
        (Method::Post, ["auth", "signup"]) => signup::signup(req, cx).await,
        (Method::Get, ["auth", "email", "verify"]) => signup::verify(req, cx).await,
        (Method::Post, ["auth", "email", "resend"]) => signup::resend(req, cx).await,
        (Method::Get, ["dev", "outbox"]) => dev::outbox(req, cx).await,
        (
            _,
            ["health"]
            | [
                ".well-known",
                "jwks.json" | "oauth-protected-resource" | "oauth-authorization-server",
            ]
            | [
                "oauth",
                "register" | "token" | "revoke" | "authorize" | "introspect",
            ]
            | ["admin", "bootstrap"]
            | ["admin", "signing-keys", "rotate"]
            | ["admin", "accounts"]
            | ["settings", "connected-apps"]
            | ["auth", "login" | "logout" | "signup" | "orgs"]
            | ["auth", "email", "verify" | "resend"]
            | ["auth", "password", "change" | "reset"]
            | ["auth", "password", "reset", "confirm"]
            | ["auth", "invitations", "accept"]
            | ["dev", "outbox"],
        ) => Err(ApiError::method_not_allowed()),
        (_, ["v1", rest @ ..]) => {
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            let principal = auth::authenticate(req, cx).await?;
            let mut response = v1(req, cx, &principal, &rest).await?;
            rate_headers(&mut response, &principal)?;
            Ok(response)
        }
        (_, ["entities", ..]) => {
            let rest: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
            let principal = auth::authenticate(req, cx).await?;
            let mut response = identity(req, cx, &principal, &rest).await?;
            rate_headers(&mut response, &principal)?;
            Ok(response)
        }
        _ => Err(ApiError::not_found()),
    }
}

/// `/entities/*` (the Atom seed's bare family).
async fn identity(req: &mut Request, cx: &Cx<'_>, p: &Principal, path: &[String]) -> Outcome {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match (req.method(), path.as_slice()) {
        (Method::Get, ["entities"]) => entities::list(req, cx, p).await,
        (Method::Post, ["entities"]) => entities::create(req, cx, p).await,
        (Method::Get, ["entities", id]) => entities::get(cx, p, id).await,
        (Method::Patch, ["entities", id]) => entities::patch(req, cx, p, id).await,
        (Method::Get, ["entities", id, "credentials"]) => credentials::list(cx, p, id).await,
        (Method::Post, ["entities", id, "credentials", "password"]) => {
            credentials::set_password(req, cx, p, id).await
        }
        (Method::Post, ["entities", id, "credentials", "api-keys"]) => {
            credentials::create_api_key(req, cx, p, id).await
        }
        (Method::Post, ["entities", id, "credentials", "certificates"]) => {
            credentials::add_certificate(req, cx, p, id).await
        }
        (Method::Delete, ["entities", id, "credentials", cred]) => {
            credentials::revoke(cx, p, id, cred).await
        }
        (
            _,
            ["entities"]
            | ["entities", _]
            | ["entities", _, "credentials"]
            | [
                "entities",
                _,
                "credentials",
                "password" | "api-keys" | "certificates",
            ],
        ) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

async fn v1(req: &mut Request, cx: &Cx<'_>, principal: &Principal, rest: &[String]) -> Outcome {
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (req.method(), rest.as_slice()) {
        (Method::Get, ["whoami"]) => whoami::get(cx, principal),
        (Method::Post, ["keys"]) => keys::mint(req, cx, principal).await,
        (Method::Get, ["keys"]) => keys::list(req, cx, principal).await,
        (Method::Get, ["keys", id]) => keys::get(cx, principal, id).await,
        (Method::Patch, ["keys", id]) => keys::patch(req, cx, principal, id).await,
        (Method::Delete, ["keys", id]) => keys::revoke(cx, principal, id).await,
        (Method::Get, ["audit"]) => audit_log::list(req, cx, principal).await,
        (Method::Post, ["members"]) => members::add(req, cx, principal).await,
        (Method::Get, ["members"]) => members::list(req, cx, principal).await,
        (Method::Delete, ["members", id]) => members::remove(cx, principal, id).await,
        (Method::Get, ["invitations"]) => members::list_invitations(req, cx, principal).await,
        (Method::Delete, ["invitations", id]) => members::withdraw(cx, principal, id).await,
        (Method::Get, ["grants"]) => grants::list(req, cx, principal).await,
        (Method::Delete, ["grants", id]) => grants::revoke(cx, principal, id).await,
        (Method::Get, ["account", "webhook-secret"]) => webhook_secret::get(cx, principal).await,
        (Method::Post, ["account", "webhook-secret", "rotate"]) => {
            webhook_secret::rotate(cx, principal).await
        }
        (Method::Post, ["webhooks"]) => webhooks::create(req, cx, principal).await,
        (Method::Get, ["webhooks"]) => webhooks::list(req, cx, principal).await,
        (Method::Get, ["webhooks", id]) => webhooks::get(cx, principal, id).await,
        (Method::Patch, ["webhooks", id]) => webhooks::patch(req, cx, principal, id).await,
        (Method::Delete, ["webhooks", id]) => webhooks::delete(cx, principal, id).await,
        (Method::Get, ["webhooks", id, "deliveries"]) => {
            webhook_deliveries::list(req, cx, principal, id).await
        }
        (Method::Get, ["webhooks", id, "deliveries", msg]) => {
            webhook_deliveries::get(cx, principal, id, msg).await
        }
        (Method::Post, ["webhooks", id, "deliveries", msg, "redeliver"]) => {
            webhook_deliveries::redeliver(cx, principal, id, msg).await
        }
        (Method::Post, ["namespaces"]) => namespaces::create(req, cx, principal).await,
        (Method::Get, ["namespaces"]) => namespaces::list(req, cx, principal).await,
        (Method::Delete, ["namespaces", ns]) => namespaces::delete(cx, principal, ns).await,
        (Method::Get, ["namespaces", ns, "keys"]) => {
            namespaces::list_keys(req, cx, principal, ns).await
        }
        (Method::Put, ["namespaces", ns, "keys", key]) => {
            namespaces::put_value(req, cx, principal, ns, key).await
        }
        (Method::Get, ["namespaces", ns, "keys", key]) => {
            namespaces::get_value(cx, principal, ns, key).await
        }
        (Method::Delete, ["namespaces", ns, "keys", key]) => {
            namespaces::delete_value(cx, principal, ns, key).await
        }
        (
            _,
            ["whoami" | "keys" | "audit" | "members" | "invitations" | "grants" | "namespaces"]
            | [
                "keys" | "members" | "invitations" | "grants" | "namespaces",
                _,
            ]
            | ["namespaces", _, "keys"]
            | ["namespaces", _, "keys", _]
            | ["webhooks"]
            | ["webhooks", _]
            | ["webhooks", _, "deliveries"]
            | ["webhooks", _, "deliveries", _]
            | ["webhooks", _, "deliveries", _, "redeliver"]
            | ["account", "webhook-secret"]
            | ["account", "webhook-secret", "rotate"],
        ) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

fn rate_headers(response: &mut Response, principal: &Principal) -> Result<(), ApiError> {
    if let Some(rate) = &principal.rate {
        let headers = response.headers_mut();
        headers.set("RateLimit-Limit", &rate.limit.to_string())?;
        headers.set("RateLimit-Remaining", &rate.remaining.to_string())?;
        headers.set("RateLimit-Reset", &rate.reset.to_string())?;
    }
    Ok(())
}

/// A page size from `?limit=` (1–100, default 50).
pub fn page_limit(req: &Request) -> Result<u32, ApiError> {
    match query(req, "limit") {
        None => Ok(50),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::invalid("limit must be 1-100")),
    }
}

/// A page request: `?limit=` and the decoded `?cursor=`.
pub fn page(req: &Request) -> Result<(u32, Option<(u64, String)>), ApiError> {
    let limit = page_limit(req)?;
    let after = query(req, "cursor")
        .map(|c| decode_cursor(&c))
        .transpose()?;
    Ok((limit, after))
}

/// Cuts `rows` (read with `limit + 1`) to a page, and the cursor of the next page if
/// there is one; `key` gives a row's `(created_at, id)`.
pub fn next_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> (u64, &str),
) -> (Vec<T>, Option<String>) {
    if rows.len() <= limit as usize {
        return (rows, None);
    }
    rows.truncate(limit as usize);
    let next = rows.last().map(|r| {
        let (created_at, id) = key(r);
        encode_cursor(created_at, id)
    });
    (rows, next)
}

/// One query parameter, decoded.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The query string's parameters, decoded strictly ([`http::form_pairs`]).
pub fn strict_query(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let url = req.url().map_err(|_| ApiError::invalid("unreadable URL"))?;
    http::form_pairs(url.query().unwrap_or("").as_bytes(), "query string")
}

/// Cursors are opaque to clients: base64url of `created_at:id`.
pub fn encode_cursor(created_at: u64, id: &str) -> String {
    keyward_core::encoding::b64url_encode(format!("{created_at}:{id}").as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Result<(u64, String), ApiError> {
    let bad = || ApiError::invalid("invalid cursor");
    if cursor.len() > 200 {
        return Err(bad());
    }
    let bytes = keyward_core::encoding::b64url_decode(cursor).ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (created, id) = text.split_once(':').ok_or_else(bad)?;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    match (created.parse::<u64>(), id_ok) {
        (Ok(created), true) => Ok((created, id.to_owned())),
        _ => Err(bad()),
    }
}
