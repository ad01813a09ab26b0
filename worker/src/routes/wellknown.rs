//! Public metadata: `/.well-known/jwks.json` (the session-JWT keys, SPEC §4) and
//! `/.well-known/oauth-protected-resource` (RFC 9728, named by every 401's
//! `WWW-Authenticate`).

use serde_json::json;
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
    let mut response = http::bare_ok(
        200,
        &json!({
            "resource": issuer,
            "authorization_servers": [issuer],
            "bearer_methods_supported": ["header"],
            "resource_name": cx.config.realm,
        }),
    );
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
