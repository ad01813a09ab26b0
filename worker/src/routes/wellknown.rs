//! Public metadata: `/.well-known/jwks.json` (the session-JWT keys, SPEC §4) and
//! `/.well-known/oauth-protected-resource` (RFC 9728, named by every 401's
//! `WWW-Authenticate`).

use keyward_core::oauth::metadata;
use worker::{Request, Response};

use crate::Outcome;
use crate::http;
use crate::routes::Cx;
use crate::signing;

pub async fn jwks(cx: &Cx<'_>) -> Outcome {
    let mut response = http::bare_ok(200, &signing::jwks(cx).await?);
    cacheable(&mut response)?;
    Ok(response)
}

pub fn protected_resource(req: &Request, cx: &Cx<'_>) -> Outcome {
    let issuer = cx.config.issuer_for(req);
    let document =
        metadata::protected_resource(&issuer, &issuer, &cx.config.realm, &cx.config.oauth_scopes);
    let mut response = http::bare_ok(200, &document);
    cacheable(&mut response)?;
    Ok(response)
}

/// Public documents may be cached briefly; a rotated key appears within five minutes,
/// long before the old key is withdrawn (`signing::publish_secs`).
fn cacheable(response: &mut Response) -> worker::Result<()> {
    response
        .headers_mut()
        .set("Cache-Control", "public, max-age=300")
}
