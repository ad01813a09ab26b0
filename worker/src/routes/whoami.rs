//! `GET /v1/whoami`: what the presented credential resolves to.

use serde_json::json;

use crate::Outcome;
use crate::http;
use crate::principal::Principal;
use crate::routes::Cx;

pub fn get(cx: &Cx<'_>, p: &Principal) -> Outcome {
    Ok(http::v1_ok(
        200,
        json!({
            "org_id": p.org_id,
            "user_id": p.entity_id,
            "role": p.role,
            "request_id": cx.request_id,
            "auth_method": p.auth_method,
            "key_id": p.credential_id,
            "key_prefix": p.key_prefix,
            "namespaces": p.namespaces,
            "client_id": p.client_id,
        }),
        None,
    ))
}
