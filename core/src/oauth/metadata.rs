//! What the authorization server and the protected resource say about themselves, and
//! the bodies and headers they answer with: RFC 8414 (authorization server metadata),
//! RFC 9728 (protected resource metadata), the RFC 6749 §5.1 token response, and the
//! RFC 6750 §3 / RFC 9728 §5.1 `WWW-Authenticate` challenge. Built here, once, so the
//! worker serves and the SDK checks the same documents.

use alloc::format;
use alloc::string::String;

use serde_json::{Value, json};

use super::grant::Lifetimes;
use super::scope::Scopes;

/// Where the endpoints live, relative to the issuer.
pub const AUTHORIZATION_PATH: &str = "/oauth/authorize";
/// RFC 6749 §3.2.
pub const TOKEN_PATH: &str = "/oauth/token";
/// RFC 7009.
pub const REVOCATION_PATH: &str = "/oauth/revoke";
/// RFC 7591.
pub const REGISTRATION_PATH: &str = "/oauth/register";
/// RFC 7662.
pub const INTROSPECTION_PATH: &str = "/oauth/introspect";
/// RFC 9728 §3.
pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// The RFC 8414 document of the authorization server at `issuer` (no trailing slash).
#[must_use]
pub fn authorization_server(issuer: &str, scopes: &Scopes, lifetimes: Lifetimes) -> Value {
    let at = |path: &str| format!("{issuer}{path}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": at(AUTHORIZATION_PATH),
        "token_endpoint": at(TOKEN_PATH),
        "revocation_endpoint": at(REVOCATION_PATH),
        "registration_endpoint": at(REGISTRATION_PATH),
        "introspection_endpoint": at(INTROSPECTION_PATH),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "introspection_endpoint_auth_methods_supported": ["bearer"],
        "scopes_supported": scopes.iter().collect::<alloc::vec::Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
        "access_token_lifetime_seconds": lifetimes.access,
        "refresh_token_lifetime_seconds": lifetimes.refresh,
        "authorization_code_lifetime_seconds": lifetimes.code,
    })
}

/// The RFC 9728 document of the API at `resource`, protected by `issuer`.
#[must_use]
pub fn protected_resource(resource: &str, issuer: &str, name: &str, scopes: &Scopes) -> Value {
    json!({
        "resource": resource,
        "authorization_servers": [issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": scopes.iter().collect::<alloc::vec::Vec<_>>(),
        "resource_name": name,
    })
}

/// The RFC 6749 §5.1 token response.
#[must_use]
pub fn token_response(
    access_token: &str,
    expires_in: u64,
    refresh_token: Option<&str>,
    scope: &Scopes,
) -> Value {
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope.to_scope_string(),
    });
    if let Some(refresh) = refresh_token {
        body["refresh_token"] = Value::String(refresh.into());
    }
    body
}

/// The `WWW-Authenticate` value of a 401 (RFC 6750 §3, RFC 9728 §5.1): the realm and the
/// URL of the protected resource metadata. `realm` must not contain `"` or `\`.
#[must_use]
pub fn challenge(realm: &str, issuer: &str) -> String {
    format!("Bearer realm=\"{realm}\", resource_metadata=\"{issuer}{PROTECTED_RESOURCE_PATH}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_name_every_endpoint_and_only_what_is_supported() {
        let scopes = Scopes::parse("keyward:api").expect("valid");
        let doc = authorization_server("https://kw.example", &scopes, Lifetimes::default());
        assert_eq!(doc["issuer"], "https://kw.example");
        assert_eq!(doc["token_endpoint"], "https://kw.example/oauth/token");
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["none"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["scopes_supported"], json!(["keyward:api"]));
        assert_eq!(doc["access_token_lifetime_seconds"], 3600);
        let pr = protected_resource(
            "https://kw.example",
            "https://kw.example",
            "Keyward API",
            &scopes,
        );
        assert_eq!(pr["authorization_servers"], json!(["https://kw.example"]));
        assert_eq!(
            challenge("Keyward API", "https://kw.example"),
            "Bearer realm=\"Keyward API\", resource_metadata=\"https://kw.example/.well-known/oauth-protected-resource\""
        );
        let body = token_response("a", 3600, None, &scopes);
        assert!(body.get("refresh_token").is_none());
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(
            token_response("a", 3600, Some("r"), &scopes)["refresh_token"],
            "r"
        );
    }
}
